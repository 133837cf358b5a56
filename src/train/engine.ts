// Backend start-up for training (src/engine: wasm threads, fast kernels, or tfjs-node/WebGPU).
import { initEngine, runBackend } from "../engine";
import type { BackendRequest } from "../engine";

export interface EngineSummary {
  backend: string;
  /** The backend as run identities record it (device kind included on tensorflow; see engine's runBackend). */
  runBackend: string;
  threads: number | null;
  /** What initEngine reported (simd, tfjs version, skipped backends, kernels). */
  info: Record<string, unknown>;
}

export async function startEngine(backend?: string, threads?: number): Promise<EngineSummary> {
  const info = await initEngine({ backend: backend as BackendRequest | undefined, threads });
  const { adapter: _adapter, ...rest } = info; // the adapter object is not JSON data
  return { backend: info.backend, runBackend: runBackend(info.backend, info.device), threads: info.threads, info: rest };
}
