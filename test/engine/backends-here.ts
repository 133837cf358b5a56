// The training backends this machine has, and the one the backend-dependent suites run on.
// VALEMB_TEST_BACKEND=tensorflow npm run test:backend runs the engine, model, optimizer and trainer
// suites on tensorflow (CI does, after npm test on their default backends); children and auto
// initEngine() calls follow it through VALEMB_BACKEND.
import { initEngine, parseBackendRequest, type BackendName } from "../../src/engine";

/** The real tfjs-node is installed (scripts/setup/tfjs-node.sh), not just something in its slot. */
export function tensorflowInstalled(): boolean {
  try { return require("@tensorflow/tfjs-node/package.json").name === "@tensorflow/tfjs-node"; } catch { return false; }
}

/** wasm always; tensorflow where installed, and always under CI (which installs it: a missing one fails there). */
export const BACKENDS_HERE: BackendName[] = ["wasm", ...(tensorflowInstalled() || process.env.CI ? ["tensorflow" as const] : [])];

const requested = process.env.VALEMB_TEST_BACKEND;
const parsed = requested ? parseBackendRequest(requested, "VALEMB_TEST_BACKEND") : null;
if (parsed === "auto") throw new Error("VALEMB_TEST_BACKEND: name one backend (tensorflow, wasm, webgpu, cpu), not auto");
const forced: BackendName | null = parsed;
if (forced) process.env.VALEMB_BACKEND = forced;

/** The backend a suite runs on: VALEMB_TEST_BACKEND when set, else the suite's own default. */
export function backendUnderTest(suiteDefault: BackendName): BackendName {
  return forced ?? suiteDefault;
}

/** The backends a suite that compares every backend runs on: VALEMB_TEST_BACKEND alone when set. */
export function backendsUnderTest(): BackendName[] {
  return forced ? [forced] : BACKENDS_HERE;
}

/** Makes `backend` current in this process (wasm with 2 threads, libtensorflow with 1). */
export async function useBackend(backend: BackendName): Promise<void> {
  await initEngine({ backend, threads: backend === "wasm" ? 2 : 1 });
}
