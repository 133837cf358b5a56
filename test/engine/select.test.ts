// Backend choice: order, forcing, fallback adapters and skip reasons, with fake probes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBackendRequest, selectBackend, type BackendName, type Candidate, type ProbeResult } from "../../src/engine/select";
import { loadTfjsNode } from "../../src/engine/backends";

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

test("danfojs-node's tfjs-node alias is not mistaken for tfjs-node", () => {
  const r = loadTfjsNode("@tensorflow/tfjs-node");
  if (r.ok) return; // a machine with the real package
  assert.match(r.reason!, /^tfjs-node not installed/);
  let aliased = false;
  try { aliased = require("@tensorflow/tfjs-node/package.json").name === "@tensorflow/tfjs"; } catch { /* absent */ }
  if (aliased) assert.match(r.reason!, /node_modules\/@tensorflow\/tfjs-node is danfojs-node's alias to @tensorflow\/tfjs@4\.22\.0/);
  const gpu = loadTfjsNode("@tensorflow/tfjs-node-gpu");
  if (!gpu.ok) assert.match(gpu.reason!, /^tfjs-node-gpu (not installed|.*failed to load)/);
});
