// Multi-threaded wasm in Node. tfjs-backend-wasm 4.22.0 hard-codes WASM_HAS_MULTITHREAD_SUPPORT
// to false in Node (tfjs issue 3830) although Node has SharedArrayBuffer and worker_threads. Two
// things break when the flag is forced on, and both are patched here only while the backend starts:
//  1. the pthread worker script is a Blob URL, which node:worker_threads refuses: we hand it
//     wasm-pthread-worker.js instead;
//  2. backend.cc caps the pool at emscripten_num_logical_cores()/2 (it assumes hyper-threading), and
//     in Node that is os.cpus().length: on a 2-vCPU machine the cap is 1 thread. os.cpus() reports
//     2×threads during start-up so the cap becomes the requested count.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

// require, not import: os.cpus is patched in place, and an import namespace may be a copy.
const os: typeof import("node:os") = require("node:os");

const PTHREAD_WORKER = path.join(__dirname, "wasm-pthread-worker.js");

/** The subset of the wasm backend module this file touches (tfjs-backend-wasm 4.22.0). */
interface WasmThreadsModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/**
 * Starts the wasm backend with `threads` threads (threaded-SIMD binary) and makes it current.
 * threads = 1 keeps the stock single-threaded SIMD binary. Must run before the wasm backend is first used.
 */
export async function startWasmBackend(wasm: WasmThreadsModule, threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm threads must be an integer ≥ 1, got ${threads}`);
  if (threads === 1) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend failed to start");
    return;
  }
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === "application/javascript" ? PTHREAD_WORKER : realCreateObjectURL(obj);
  os.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  };
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend (threaded SIMD) failed to start");
  } finally {
    URL.createObjectURL = realCreateObjectURL;
    os.cpus = realCpus;
  }
  const pthreads = emscriptenThreads();
  if (pthreads) {
    // The pool threads wait forever and the main thread drives all work synchronously, so they must
    // not keep Node alive (Emscripten refs a worker while its thread runs).
    for (const w of pthreads.runningWorkers) w.unref();
    // Emscripten pre-spawns 8 workers (PTHREAD_POOL_SIZE); idle ones cost ~8 MB each and new ones are made on demand.
    for (const w of pthreads.unusedWorkers.splice(0)) void w.terminate();
  }
}

interface EmscriptenPThread {
  runningWorkers: { unref(): void; terminate(): Promise<number> }[];
  unusedWorkers: { unref(): void; terminate(): Promise<number> }[];
}

function emscriptenThreads(): EmscriptenPThread | undefined {
  const backend = tf.findBackend("wasm") as unknown as { wasm?: { PThread?: EmscriptenPThread } } | null;
  return backend?.wasm?.PThread;
}

/** Pthread workers the Emscripten runtime is running now (threads beyond the main one). */
export function runningWasmWorkers(): number {
  return emscriptenThreads()?.runningWorkers.length ?? 0;
}
