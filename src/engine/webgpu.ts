// The WebGPU backend in Node: tfjs-backend-webgpu over Dawn's Node bindings (npm `webgpu`), which
// run on any recent Vulkan driver (a real GPU, or Mesa's lavapipe on the CPU for tests).
// Three things make it work: navigator.gpu must exist before the backend module is loaded (it only
// registers itself then), the backend crashes on a null adapter (so we look first), and Dawn keeps
// Node alive until the device is destroyed (so releaseWebGPU() exists).
import { execFile } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

/** The adapter limits that cap tensor sizes and kernel shapes. */
export interface WebGPULimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface WebGPUAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (e.g. lavapipe): never chosen automatically. */
  isFallbackAdapter: boolean;
  limits: WebGPULimits;
}

export interface WebGPUProbe {
  ok: boolean;
  fallback?: boolean;
  adapter?: WebGPUAdapter;
  /** Why there is no adapter, as precisely as Dawn lets us know. */
  reason?: string;
}

const LIMIT_NAMES: (keyof WebGPULimits)[] = [
  "maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupsPerDimension",
];

type Dawn = { create(options: string[]): GPU; globals: Record<string, unknown> };

/** Path of the prebuilt dawn.node for this platform inside the `webgpu` package. */
function dawnNodePath(): string {
  const pkg = path.dirname(require.resolve("webgpu/package.json"));
  const arch = process.platform === "darwin" ? "universal" : process.arch;
  return path.join(pkg, "dist", `${process.platform}-${arch}`, "dawn.node");
}

function loadDawn(): Dawn {
  // `webgpu`'s index.js is an ES module (plain Node 20 cannot require it); the addon itself can be.
  try { return require("webgpu") as Dawn; } catch { return require(dawnNodePath()) as Dawn; }
}

function describe(adapter: GPUAdapter): WebGPUAdapter {
  // `info` is newer than TypeScript's DOM typings.
  const info = (adapter as unknown as { info: Omit<WebGPUAdapter, "limits"> }).info;
  const limits = {} as WebGPULimits;
  for (const name of LIMIT_NAMES) limits[name] = Number(adapter.limits[name]);
  return {
    vendor: info.vendor, architecture: info.architecture, device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean(info.isFallbackAdapter),
    limits,
  };
}

// Runs in a child process: Dawn reports why it rejects a driver only on the native stderr, and a
// broken driver may crash the process that loads it.
const PROBE_SCRIPT = `
const { create } = require(process.argv[1]);
create([]).requestAdapter({ powerPreference: "high-performance" }).then((a) => {
  const out = { adapter: null };
  if (a) {
    const limits = {};
    for (const k of ${JSON.stringify(LIMIT_NAMES)}) limits[k] = Number(a.limits[k]);
    const i = a.info;
    out.adapter = { vendor: i.vendor, architecture: i.architecture, device: i.device,
      description: i.description, isFallbackAdapter: !!i.isFallbackAdapter, limits };
  }
  process.stdout.write(JSON.stringify(out) + "\\n");
  process.exit(0);
}, (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + "\\n"); process.exit(0); });
`;

/** Dawn's own lines from stderr (without its source locations), for the reason text. */
function dawnMessages(stderr: string): string[] {
  return stderr.split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("at ") && !/artificially reduced/.test(l))
    .map((l) => l.replace(/^Warning:\s*/, ""));
}

/** Turns a failed probe's output into one sentence that says what to do. */
export function explainNoAdapter(stderr: string, error?: string): string {
  const msgs = dawnMessages(stderr);
  const all = msgs.join(" | ");
  if (error) return `Dawn failed: ${error}${all ? ` (${all})` : ""}`;
  if (/libvulkan\.so\.1/.test(all)) {
    return "no Vulkan loader: libvulkan.so.1 not found (install libvulkan1, or run scripts/ci-lavapipe.sh and export what it prints)";
  }
  if (!msgs.length || /Found no drivers/.test(all)) {
    return `the Vulkan loader found no driver: install your GPU's Vulkan driver, or point VK_DRIVER_FILES at its icd.json${all ? ` (${all})` : ""}`;
  }
  return `Dawn rejected the Vulkan driver: ${all}`;
}

let probed: Promise<WebGPUProbe> | undefined;

/** Is there a WebGPU adapter, which one, and if not why. Never throws; cached per process. */
export function probeWebGPU(): Promise<WebGPUProbe> {
  probed ??= new Promise<WebGPUProbe>((resolve) => {
    let dawn: string;
    try { dawn = dawnNodePath(); } catch (e) {
      resolve({ ok: false, reason: `npm package 'webgpu' not installed: ${(e as Error).message}` });
      return;
    }
    execFile(process.execPath, ["-e", PROBE_SCRIPT, dawn], { timeout: 60_000, env: process.env },
      (err, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        let out: { adapter?: WebGPUAdapter | null; error?: string } | undefined;
        try { out = JSON.parse(line); } catch { /* crashed before printing */ }
        if (!out) {
          const why = err ? (err.killed ? "timed out after 60 s" : `exited with ${err.code ?? err.signal}`) : "printed nothing";
          resolve({ ok: false, reason: `the WebGPU probe ${why}: ${dawnMessages(stderr).join(" | ") || "no message"}` });
        } else if (!out.adapter) {
          resolve({ ok: false, reason: explainNoAdapter(stderr, out.error) });
        } else {
          resolve({ ok: true, fallback: out.adapter.isFallbackAdapter, adapter: out.adapter });
        }
      });
  });
  return probed;
}

interface Installed { gpu: GPU; adapter: WebGPUAdapter }
let installed: Installed | undefined;

/** Puts Dawn's globals and navigator.gpu on globalThis (Node 20 has neither); idempotent. */
function installNavigatorGpu(): GPU {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  const dawn = loadDawn();
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, … used by the backend
  const gpu = dawn.create([]);
  if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

/**
 * Registers tfjs's webgpu backend on Dawn and makes it the active backend. Throws (with the probe's
 * reason) when there is no adapter. Which adapters are acceptable is the caller's choice.
 */
export async function initWebGPU(): Promise<void> {
  if (!installed) {
    const gpu = installNavigatorGpu();
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) {
      const { reason } = await probeWebGPU();
      throw new Error(`WebGPU: no adapter: ${reason ?? "unknown reason"}`);
    }
    installed = { gpu, adapter: describe(adapter) };
    require("@tensorflow/tfjs-backend-webgpu"); // must come after navigator.gpu
    if (!tf.findBackendFactory("webgpu")) {
      throw new Error("WebGPU: @tensorflow/tfjs-backend-webgpu was loaded before navigator.gpu existed, so it did not register");
    }
  }
  if (!(await tf.setBackend("webgpu"))) throw new Error("WebGPU: tf.setBackend('webgpu') failed (see the message above)");
  await tf.ready();
  explainReadSync(tf.backend() as unknown as WebGPUBackendLike);
}

interface WebGPUBackendLike {
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values?: unknown } | undefined };
  [READ_SYNC_PATCHED]?: true;
}
const READ_SYNC_PATCHED = Symbol("valemb.readSync");

/**
 * dataSync() of a tensor in GPU memory needs OffscreenCanvas (browsers only): Node would fail with
 * "OffscreenCanvas is not defined". Say what to do instead; values already on the CPU still read.
 */
function explainReadSync(backend: WebGPUBackendLike): void {
  if (backend[READ_SYNC_PATCHED] || typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== "undefined") return;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    if (backend.tensorMap.get(dataId)?.values != null) return readSync(dataId);
    throw new Error("dataSync()/arraySync() cannot read GPU memory on the webgpu backend in Node: use `await tensor.data()` (or `await tensor.array()`)");
  };
  backend[READ_SYNC_PATCHED] = true;
}

/** The adapter the active webgpu backend runs on (after initWebGPU). */
export function webgpuAdapter(): WebGPUAdapter | undefined {
  return installed?.adapter;
}

/**
 * Destroys the GPU device so Node can exit. Tensors still on the webgpu backend are lost; the
 * backend stays registered, so a later setBackend("webgpu") builds a fresh device.
 */
export function releaseWebGPU(): void {
  if (!tf.findBackendFactory("webgpu")) return;
  let device: GPUDevice | undefined;
  try { device = (tf.findBackend("webgpu") as unknown as { device?: GPUDevice } | null)?.device; } catch { /* never built */ }
  const factory = tf.findBackendFactory("webgpu");
  tf.removeBackend("webgpu"); // disposes its buffer pools; a fresh factory registration follows
  tf.registerBackend("webgpu", factory, 0); // low priority: never the implicit default again
  device?.destroy();
}
