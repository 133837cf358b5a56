// Activation recomputation (lossAndGrads and loss with "recompute") gives the same loss and every parameter's
// gradient as the one-pass autograd, on every backend this machine has, for layouts with shared,
// added and removed tables, chunked output heads and the recomputing attention path; it leaks no
// tensor, and its peak memory is a fraction of the one-pass autograd's.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { releaseWebGPU } from "../../src/engine/webgpu";
import { relErr, useBackend } from "../engine/compare";
import { GPT, modelConfig } from "../../src/model";
import type { GPTConfig, GPTOptions } from "../../src/model";

/** A model whose output projections are nonzero, so every parameter gets a gradient. */
function model(cfg: GPTConfig, opts: GPTOptions = {}): GPT {
  const m = new GPT(cfg, 2, opts);
  m.setWeights(Object.fromEntries(m.params.filter((p) => /o_w|proj_w/.test(p.name))
    .map((p) => [p.name, { data: Float32Array.from({ length: p.variable.size }, (_, i) => Math.sin(i) * 0.05) }])), true);
  return m;
}

/** Tokens with EOTs (new documents) at a few places. */
function batch(cfg: GPTConfig, B: number): [tf.Tensor2D, tf.Tensor2D] {
  const T = cfg.seqLen, ids = (shift: number) => Int32Array.from({ length: B * T }, (_, i) => ((i + shift) % 41 === 5 ? cfg.eotToken! : ((i + shift) * 31 + (i >> 4)) % cfg.vocabSize));
  return [tf.tensor2d(ids(0), [B, T], "int32"), tf.tensor2d(ids(1), [B, T], "int32")];
}

const CASES: { what: string; cfg: GPTConfig; B: number; opts?: GPTOptions }[] = [
  { what: "smoke baseline, 2 × 32, head in chunks of 7 rows", cfg: modelConfig("smoke"), B: 2, opts: { lossChunkRows: 7 } },
  { what: "smoke, tables 0-2 shared with 13-15, one head chunk", cfg: modelConfig("smoke", { layout: "000..........111" }), B: 2 },
  { what: "smoke, 5 tables, 1 × 256 (recomputing attention, 2 key blocks), head in chunks of 100", cfg: modelConfig("smoke", { seqLen: 256, layout: "01234........012" }), B: 1, opts: { lossChunkRows: 100 } },
];

for (const backend of ["cpu", "wasm", "tensorflow", "webgpu"]) {
  test(`recomputing activations gives the one-pass loss and gradients on ${backend}`, async (t) => {
    const skip = await useBackend(backend);
    if (skip) return t.skip(`${backend} backend not available: ${skip}`);
    if (backend === "webgpu") t.after(() => releaseWebGPU());
    for (const { what, cfg, B, opts } of CASES) {
      const m = model(cfg, opts);
      m.setProgress(3, 10);
      const [x, y] = batch(cfg, B);
      const before = tf.memory().numTensors;
      const kept = m.lossAndGrads(x, y), redone = m.lossAndGrads(x, y, "recompute");
      assert.equal(tf.memory().numTensors - before, 2 * (1 + m.params.length), `${what}: tensors left besides the two losses and gradient sets`);
      const evaluated = m.loss(x, y, "recompute");
      assert.equal(tf.memory().numTensors - before, 2 * (1 + m.params.length) + 1, `${what}: tensors left by the recomputing loss`);
      assert.ok(await relErr(evaluated, kept.loss) <= 1e-5, `${what}: loss alone ${(await evaluated.data())[0]} vs ${(await kept.loss.data())[0]}`);
      evaluated.dispose();
      assert.deepEqual(Object.keys(redone.grads), Object.keys(kept.grads), `${what}: the same parameters, in order`);
      const e = await relErr(redone.loss, kept.loss);
      assert.ok(e <= 1e-5, `${what}: loss ${(await redone.loss.data())[0]} vs ${(await kept.loss.data())[0]}`);
      for (const name of Object.keys(kept.grads)) {
        const g = await relErr(redone.grads[name], kept.grads[name]);
        assert.ok(g <= 1e-5, `${backend}, ${what}: gradient of ${name}, relative error ${g}`);
      }
      tf.dispose([x, y, kept.loss, redone.loss, ...Object.values(kept.grads), ...Object.values(redone.grads)]);
      m.dispose();
    }
  });
}

test("recomputing keeps a fraction of the one-pass peak memory (smoke, 1 × 2048)", async () => {
  await initEngine({ backend: "wasm" });
  const cfg = modelConfig("smoke", { seqLen: 2048 }), m = model(cfg);
  const [x, y] = batch(cfg, 1);
  const peak = async (activations: "keep" | "recompute") => {
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => { const r = m.lossAndGrads(x, y, activations); tf.dispose([r.loss, ...Object.values(r.grads)]); });
    return profile.peakBytes - before;
  };
  const keep = await peak("keep"), recompute = await peak("recompute");
  assert.ok(recompute < keep / 3, `peak ${recompute} bytes recomputing vs ${keep} keeping every activation`);
  tf.dispose([x, y]);
  m.dispose();
});
