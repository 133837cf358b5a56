// Backend choice: order, forcing, fallback adapters and skip reasons, with fake probes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBackendRequest, selectBackend, type BackendName, type Candidate, type ProbeResult } from "../../src/engine/select";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadTfjsNode, noCudaReason } from "../../src/engine/backends";

interface Fake extends Candidate { started: number; probedForced: boolean[] }

function fake(key: string, backend: BackendName, result: ProbeResult | (() => never), startError?: string): Fake {
  const c: Fake = {
    key, backend, started: 0, probedForced: [],
    async probe(forced) { c.probedForced.push(forced); return typeof result === "function" ? result() : result; },
    async start() { if (startError) throw new Error(startError); c.started++; },
  };
  return c;
}

function machine(over: Partial<Record<string, ProbeResult>> = {}): Fake[] {
  return [
    fake("tensorflow-gpu", "tensorflow", over["tensorflow-gpu"] ?? { ok: false, reason: "tfjs-node-gpu not installed" }),
    fake("webgpu", "webgpu", over.webgpu ?? { ok: false, reason: "no Vulkan loader" }),
    fake("tensorflow", "tensorflow", over.tensorflow ?? { ok: false, reason: "tfjs-node not installed" }),
    fake("wasm", "wasm", over.wasm ?? { ok: true }),
    fake("cpu", "cpu", over.cpu ?? { ok: true }),
  ];
}

test("auto picks the first usable candidate and says why the better ones were skipped", async () => {
  const cands = machine();
  const sel = await selectBackend("auto", cands);
  assert.equal(sel.candidate.key, "wasm");
  assert.deepEqual(sel.skipped, {
    "tensorflow-gpu": "tfjs-node-gpu not installed",
    webgpu: "no Vulkan loader",
    tensorflow: "tfjs-node not installed",
  });
  assert.equal(cands[3].started, 1);
  assert.equal(cands[4].started, 0, "cpu is never started when wasm works");
  assert.deepEqual(cands[0].probedForced, [false]);
});

test("the order is tensorflow+CUDA, webgpu, tensorflow CPU, wasm, cpu", async () => {
  assert.equal((await selectBackend("auto", machine({ "tensorflow-gpu": { ok: true }, webgpu: { ok: true } }))).candidate.key, "tensorflow-gpu");
  assert.equal((await selectBackend("auto", machine({ webgpu: { ok: true }, tensorflow: { ok: true } }))).candidate.key, "webgpu");
  assert.equal((await selectBackend("auto", machine({ tensorflow: { ok: true } }))).candidate.key, "tensorflow");
  assert.equal((await selectBackend("auto", machine({ wasm: { ok: false, reason: "x" } }))).candidate.key, "cpu");
});

test("a fallback WebGPU adapter is skipped in auto mode but used when forced, and its adapter is reported", async () => {
  const adapter = { vendor: "mesa", description: "llvmpipe" };
  const probe = { ok: true, fallback: true, reason: "llvmpipe", adapter };
  const auto = await selectBackend("auto", machine({ webgpu: probe }));
  assert.equal(auto.candidate.key, "wasm");
  assert.match(auto.skipped.webgpu, /fallback.*llvmpipe.*only when forced/);
  assert.deepEqual(auto.adapter, adapter);
  const forced = await selectBackend("webgpu", machine({ webgpu: probe }));
  assert.equal(forced.candidate.key, "webgpu");
  assert.deepEqual(forced.skipped, {});
});

test("forcing restricts the walk to that backend and tells the probe", async () => {
  const cands = machine({ tensorflow: { ok: true } });
  const sel = await selectBackend("tensorflow", cands);
  assert.equal(sel.candidate.key, "tensorflow");
  assert.deepEqual(cands[0].probedForced, [true], "tensorflow-gpu is tried first, knowing it is forced");
  assert.deepEqual(cands[1].probedForced, [], "webgpu is not probed when tensorflow is forced");
  assert.deepEqual(cands[3].probedForced, []);
});

test("a forced backend that cannot run is an error listing every reason", async () => {
  await assert.rejects(selectBackend("tensorflow", machine()),
    /backend 'tensorflow' was forced but cannot be used \(tensorflow-gpu: tfjs-node-gpu not installed; tensorflow: tfjs-node not installed\)/);
});

test("a probe that throws or a start that fails becomes a skip reason, and the next candidate runs", async () => {
  const cands = machine({ webgpu: { ok: true } });
  cands[0] = fake("tensorflow-gpu", "tensorflow", () => { throw new Error("boom\nsecond line"); });
  cands[1] = fake("webgpu", "webgpu", { ok: true }, "device lost");
  const sel = await selectBackend("auto", cands);
  assert.equal(sel.candidate.key, "wasm");
  assert.equal(sel.skipped["tensorflow-gpu"], "probe failed: boom");
  assert.equal(sel.skipped.webgpu, "failed to start: device lost");
});

test("backend requests are validated with the source named", () => {
  assert.equal(parseBackendRequest(undefined, "VALEMB_BACKEND"), "auto");
  assert.equal(parseBackendRequest("", "VALEMB_BACKEND"), "auto");
  assert.equal(parseBackendRequest(" WASM ", "VALEMB_BACKEND"), "wasm");
  assert.throws(() => parseBackendRequest("gpu", "VALEMB_BACKEND"), /VALEMB_BACKEND: unknown backend 'gpu' \(expected one of auto, tensorflow, webgpu, wasm, cpu\)/);
});

test("the node_modules/@tensorflow/tfjs-node slot holds the real package or nothing; danfojs-node gets the project's tfjs", () => {
  let rootName: string | null = null;
  try { rootName = require("@tensorflow/tfjs-node/package.json").name; } catch { /* absent: npm ci on a machine without internet */ }
  if (rootName !== null) assert.equal(rootName, "@tensorflow/tfjs-node", "package.json's override must not put an alias into the real package's slot");
  const danfoDir = path.dirname(require.resolve("danfojs-node/package.json"));
  const forDanfo = fs.realpathSync(require.resolve("@tensorflow/tfjs-node", { paths: [danfoDir] }));
  assert.equal(forDanfo, path.resolve(__dirname, "../../shims/tfjs-for-danfo/index.js"));
  const r = loadTfjsNode("@tensorflow/tfjs-node");
  if (!r.ok) assert.match(r.reason!, /^tfjs-node (not installed|.*failed to load)/);
});

test("the no-CUDA hint fits the libtensorflow that loaded", () => {
  assert.match(noCudaReason("2.9.1"), /2\.9\.1 \(tfjs-node-gpu's download\) needs CUDA 11\.2 \+ cuDNN 8\.1 and predates Hopper GPUs; scripts\/setup\/tfjs-node\.sh --device cuda/);
  assert.doesNotMatch(noCudaReason("2.21.0"), /11\.2/);
  assert.match(noCudaReason("2.21.0"), /libtensorflow 2\.21\.0 needs the CUDA and cuDNN libraries/);
});
