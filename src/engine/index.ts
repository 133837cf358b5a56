// The engine: which TensorFlow.js backend runs, how fast, and the fused ops the model calls.
//   const info = await initEngine();            // best backend available, reasons for the others
//   const info = await initEngine({ backend: "wasm", threads: 2 });
// VALEMB_BACKEND (auto|tensorflow|webgpu|wasm|cpu) and VALEMB_THREADS set the defaults.
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { defaultCandidates, wasmModule } from "./backends";
import { parseBackendRequest, selectBackend, type BackendName, type BackendRequest, type Candidate } from "./select";
import { assertTfjsVersion } from "./version";
import { installTensorflowKernels, prepareTensorflowEnv, tensorflowDevice } from "./tensorflow";

export { rmsNorm, reluSquared, softcapCrossEntropy, rotary, RMS_EPS, referenceOps } from "./ops";
export { parseBackendRequest, selectBackend, BACKEND_REQUESTS } from "./select";
export type { BackendName, BackendRequest, Candidate, ProbeResult, Selection } from "./select";
export { PINNED_TFJS } from "./version";
export { cudaMemoryMiB, parseGpuMemoryMiB, tensorflowEnv } from "./tensorflow";

export interface EngineOptions {
  backend?: BackendRequest;
  /** Threads (wasm workers, libtensorflow intra-op threads); default VALEMB_THREADS, else the number of cores. */
  threads?: number;
}

export interface EngineInfo {
  backend: string;
  /** What the backend computes on: "cpu", "cuda:<GPU name>" (tensorflow) or "webgpu:<adapter>". */
  device: string;
  /** The compute library and its version, e.g. "libtensorflow 2.21.0", "tfjs-backend-wasm 4.22.0". */
  library: string;
  threads: number;
  /** wasm SIMD; null on other backends. */
  simd: boolean | null;
  /** tfjs-core version. */
  tfjs: string;
  /** Why each better backend was not used, by candidate key (tensorflow-gpu, webgpu, tensorflow, wasm). */
  skipped: Record<string, string>;
  /** The WebGPU adapter, when one was probed. */
  adapter?: object;
  /** Kernels the engine replaced or added on this backend. */
  kernels: string[];
}

/** Cores Node may use (os.availableParallelism honours CPU affinity). */
export function defaultThreads(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

function resolveThreads(threads: number | undefined): number {
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`initEngine: threads must be an integer ≥ 1, got ${threads}`);
    return threads;
  }
  const env = process.env.VALEMB_THREADS;
  if (env === undefined || env === "") return defaultThreads();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`VALEMB_THREADS: expected an integer ≥ 1, got '${env}'`);
  return n;
}

let current: { key: string; info: Promise<EngineInfo> } | null = null;
let lastInfo: EngineInfo | null = null;

/**
 * Picks and starts the backend (see backends.ts for the order) unless one is forced by
 * `opts.backend` or VALEMB_BACKEND. Idempotent: the same request returns the same info.
 */
export function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const request = opts.backend !== undefined
    ? parseBackendRequest(opts.backend, "initEngine({ backend })")
    : parseBackendRequest(process.env.VALEMB_BACKEND, "VALEMB_BACKEND");
  const threads = resolveThreads(opts.threads);
  const key = `${request}/${threads}`;
  if (current?.key === key) return current.info;
  const info = start(request, threads, defaultCandidates(threads));
  current = { key, info };
  info.then((i) => { lastInfo = i; }, () => { if (current?.info === info) current = null; });
  return info;
}

async function start(request: BackendRequest, threads: number, candidates: Candidate[]): Promise<EngineInfo> {
  assertTfjsVersion(wasmModule().version_wasm);
  const { candidate, skipped, adapter } = await selectBackend(request, candidates);
  await tf.ready();
  return describeBackend(candidate.backend, skipped, threads, adapter);
}

async function describeBackend(backend: BackendName, skipped: Record<string, string>, threads: number, adapter?: object): Promise<EngineInfo> {
  const info: EngineInfo = { backend, device: "cpu", library: `tfjs-backend-cpu ${tf.version_core}`, threads: 1, simd: null, tfjs: tf.version_core, skipped, kernels: [] };
  if (backend === "wasm") {
    info.library = `tfjs-backend-wasm ${wasmModule().version_wasm}`;
    info.threads = wasmModule().getThreadsCount();
    info.simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    info.kernels = require("./wasm-kernels").installWasmKernels();
  } else if (backend === "tensorflow") {
    Object.assign(info, tensorflowDevice());
    info.threads = prepareTensorflowEnv(threads); // the threads it loaded with (fixed for the process)
    info.kernels = installTensorflowKernels();
  } else if (backend === "webgpu") {
    const gpuAdapter = (require("./webgpu") as { webgpuAdapter(): object | undefined }).webgpuAdapter();
    if (gpuAdapter) adapter = gpuAdapter;
    const a = (adapter ?? {}) as { description?: string; device?: string; vendor?: string };
    info.device = `webgpu:${a.description || a.device || a.vendor || "adapter"}`;
    info.library = `tfjs-backend-webgpu ${tf.version_core}`;
  }
  if (adapter) info.adapter = adapter;
  return info;
}

/**
 * The backend name runs record in their identity: the device kind joins it on tensorflow
 * ("tensorflow-cpu", "tensorflow-cuda"), so CPU and CUDA runs never stand in for each other;
 * the other backends keep their plain name (wasm and cpu compute on the CPU only).
 */
export function runBackend(backend: string, device: string): string {
  return backend === "tensorflow" ? `tensorflow-${device.split(":")[0]}` : backend;
}

/** What the last successful initEngine() set up. Throws before that. */
export function engineInfo(): EngineInfo {
  if (!lastInfo) throw new Error("engineInfo(): the engine is not initialised yet (await initEngine() first)");
  return lastInfo;
}
