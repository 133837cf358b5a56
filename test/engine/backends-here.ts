// The training backends this machine has, for tests that must hold on each of them.
import { initEngine, type BackendName } from "../../src/engine";

/** The real tfjs-node is installed (scripts/setup/tfjs-node.sh), not just something in its slot. */
export function tensorflowInstalled(): boolean {
  try { return require("@tensorflow/tfjs-node/package.json").name === "@tensorflow/tfjs-node"; } catch { return false; }
}

/** wasm always; tensorflow where installed, and always under CI (which installs it: a missing one fails there). */
export const BACKENDS_HERE: BackendName[] = ["wasm", ...(tensorflowInstalled() || process.env.CI ? ["tensorflow" as const] : [])];

/** Makes `backend` current in this process (wasm with 2 threads, libtensorflow with 1). */
export async function useBackend(backend: BackendName): Promise<void> {
  await initEngine({ backend, threads: backend === "wasm" ? 2 : 1 });
}
