// The real backend candidates, best first: TensorFlow with CUDA, WebGPU on a real GPU, TensorFlow on
// the CPU, multi-threaded wasm, plain JS. Optional packages are loaded lazily so that a machine
// without them (like this one) only pays for what it uses.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Candidate, ProbeResult } from "./select";
import { startWasmBackend } from "./wasm-threads";
import { installWasmKernels } from "./wasm-kernels";
import { prepareTensorflowEnv } from "./tensorflow";

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** The wasm backend module (a regular dependency), loaded on first use. */
export function wasmModule(): typeof import("@tensorflow/tfjs-backend-wasm") {
  return require("@tensorflow/tfjs-backend-wasm");
}

/**
 * Loads @tensorflow/tfjs-node or -gpu if the REAL package is installed, with libtensorflow's
 * environment (threads, log level) set first. Another package in its slot (an npm alias, such as the
 * one older versions of this project hoisted there for danfojs-node) is reported, not loaded.
 */
export function loadTfjsNode(pkg: "@tensorflow/tfjs-node" | "@tensorflow/tfjs-node-gpu", threads = 1): ProbeResult {
  const short = pkg.slice("@tensorflow/".length);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${pkg}/package.json`);
  } catch {
    return { ok: false, reason: `${short} not installed` };
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { name?: string; version?: string };
  if (manifest.name !== pkg) {
    const dir = path.dirname(manifestPath);
    const where = dir.slice(dir.lastIndexOf("node_modules")) || dir;
    const whose = manifest.name === "@tensorflow/tfjs" ? "danfojs-node's alias to" : "an alias to";
    return { ok: false, reason: `${short} not installed (${where} is ${whose} ${manifest.name}@${manifest.version})` };
  }
  prepareTensorflowEnv(threads);
  try {
    require(pkg);
  } catch (e) {
    return { ok: false, reason: `${short} ${manifest.version} is installed but failed to load: ${firstLine(e)} (scripts/setup/tfjs-node.sh builds it)` };
  }
  if (!tf.findBackendFactory("tensorflow")) {
    return { ok: false, reason: `${short} loaded but registered no 'tensorflow' backend on this tfjs-core (two copies of @tensorflow/tfjs-core?)` };
  }
  return { ok: true };
}

async function startTensorflow(): Promise<void> {
  if (!(await tf.setBackend("tensorflow"))) throw new Error("tf.setBackend('tensorflow') failed");
}

/** Why libtensorflow found no GPU, for the libtensorflow that is loaded. */
export function noCudaReason(libtensorflow: string): string {
  // tfjs-node-gpu's installer downloads libtensorflow 2.9.1, built for CUDA 11.2 + cuDNN 8.1, before Hopper.
  const old = /^2\.(\d+)\./.exec(libtensorflow);
  const hint = old && Number(old[1]) < 11
    ? `its libtensorflow ${libtensorflow} (tfjs-node-gpu's download) needs CUDA 11.2 + cuDNN 8.1 and predates Hopper GPUs; ` +
      "scripts/setup/tfjs-node.sh --device cuda builds it against the tensorflow pip wheel instead (current CUDA)"
    : `libtensorflow ${libtensorflow} needs the CUDA and cuDNN libraries its tensorflow wheel was built for on the library path (see README, GPU)`;
  return `no CUDA device (tfjs-node-gpu loaded, TensorFlow found no usable GPU; ${hint})`;
}

/** TensorFlow (libtensorflow) with a CUDA device, through tfjs-node-gpu. */
export function tensorflowGpu(threads: number): Candidate {
  return {
    key: "tensorflow-gpu",
    backend: "tensorflow",
    async probe(forced) {
      const loaded = loadTfjsNode("@tensorflow/tfjs-node-gpu", threads);
      if (!loaded.ok) return loaded;
      await startTensorflow(); // the only way to ask libtensorflow whether it found a GPU
      const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding: { TF_Version: string } };
      if (b.isUsingGpuDevice !== true && !forced) return { ok: false, reason: noCudaReason(b.binding.TF_Version) };
      return { ok: true };
    },
    start: startTensorflow,
  };
}

/** TensorFlow on the CPU: tfjs-node, or tfjs-node-gpu when it loaded without a GPU. */
export function tensorflowCpu(threads: number): Candidate {
  return {
    key: "tensorflow",
    backend: "tensorflow",
    async probe() {
      if (tf.findBackendFactory("tensorflow")) return { ok: true }; // tfjs-node-gpu already registered it
      return loadTfjsNode("@tensorflow/tfjs-node", threads);
    },
    start: startTensorflow,
  };
}

interface WebGPUModule {
  probeWebGPU(): Promise<{ ok: boolean; fallback?: boolean; adapter?: { description?: string; device?: string; vendor?: string }; reason?: string }>;
  initWebGPU(): Promise<void>;
}

function webgpuModule(): WebGPUModule {
  return require("./webgpu") as WebGPUModule; // lazy: Dawn is only loaded when WebGPU is probed
}

/** WebGPU through Dawn; a fallback (software) adapter is used only when forced. */
export const webgpu: Candidate = {
  key: "webgpu",
  backend: "webgpu",
  async probe() {
    let mod: WebGPUModule;
    try {
      mod = webgpuModule();
    } catch (e) {
      return { ok: false, reason: `WebGPU support not loadable: ${firstLine(e)}` };
    }
    const p = await mod.probeWebGPU();
    if (!p.ok) return { ok: false, reason: p.reason ?? "no WebGPU adapter", adapter: p.adapter };
    const name = p.adapter ? [p.adapter.vendor, p.adapter.device, p.adapter.description].filter(Boolean).join(" ") : "";
    return { ok: true, fallback: p.fallback === true, reason: name || undefined, adapter: p.adapter };
  },
  async start() {
    await webgpuModule().initWebGPU();
    if (tf.getBackend() !== "webgpu" && !(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  },
};

/** Multi-threaded SIMD wasm with the training kernels of wasm-kernels.ts. */
export function wasmCandidate(threads: number): Candidate {
  return {
    key: "wasm",
    backend: "wasm",
    async probe() {
      if (typeof SharedArrayBuffer === "undefined" && threads > 1) return { ok: false, reason: "no SharedArrayBuffer for wasm threads" };
      wasmModule();
      return { ok: true };
    },
    async start() {
      const wasm = wasmModule();
      if (tf.findBackend("wasm")) {
        const running = wasm.getThreadsCount();
        if (running !== threads) {
          throw new Error(`the wasm backend already runs ${running} thread(s) in this process; ${threads} needs a new process`);
        }
        if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
      } else {
        await startWasmBackend(wasm, threads);
      }
      installWasmKernels();
    },
  };
}

/** The pure-JS cpu backend: always there, slowest. */
export const cpu: Candidate = {
  key: "cpu",
  backend: "cpu",
  async probe() { return { ok: true }; },
  async start() { if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') failed"); },
};

/** Candidates in the order initEngine tries them. */
export function defaultCandidates(threads: number): Candidate[] {
  return [tensorflowGpu(threads), webgpu, tensorflowCpu(threads), wasmCandidate(threads), cpu];
}
