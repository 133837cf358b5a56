// Windowed attention by key blocks equals the dense T×T reference (forward and the gradients of q, k,
// v, and of every model parameter) on every backend this machine has, for every path and window kind.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { releaseWebGPU } from "../../src/engine/webgpu";
import { relErr, useBackend } from "../engine/compare";
import { GPT, denseAttention, documentIds, modelConfig, windowedAttention } from "../../src/model";
import type { WindowedAttentionOptions } from "../../src/model";

const BACKENDS = ["cpu", "wasm", "tensorflow", "webgpu"] as const;

/** Tokens with EOTs at a few places so documents start mid-block and at block edges. */
function tokenBatch(B: number, T: number, eot: number, vocab: number): tf.Tensor2D {
  const ids = Int32Array.from({ length: B * T }, (_, i) => ((i * 7919) % 97 === 3 || i % T === 16 ? eot : (i * 31) % vocab));
  return tf.tensor2d(ids, [B, T], "int32");
}

const CASES: { name: string; T: number; opts: WindowedAttentionOptions }[] = [
  { name: "token window 7, blocks of 8, plain autograd", T: 40, opts: { window: { unit: "tokens", size: 7 }, blockSize: 8, scale: 0.12, chunkBlocks: "plain" } },
  { name: "token window 7, blocks of 8, recompute 1 block/chunk", T: 40, opts: { window: { unit: "tokens", size: 7 }, blockSize: 8, scale: 0.12, chunkBlocks: 1 } },
  { name: "token window 20, T not a multiple of the block, chunks of 2", T: 37, opts: { window: { unit: "tokens", size: 20 }, blockSize: 8, scale: 0.3, chunkBlocks: 2 } },
  { name: "window ≥ T (causal only), default path", T: 24, opts: { window: { unit: "tokens", size: 64 }, blockSize: 8, scale: 0.12 } },
  { name: "2-block window (the speedrun's unit), chunks of 3", T: 48, opts: { window: { unit: "blocks", size: 2 }, blockSize: 8, scale: 0.12, chunkBlocks: 3 } },
  { name: "one block (T ≤ block size), default path", T: 16, opts: { window: { unit: "tokens", size: 9 }, blockSize: 128, scale: 0.12 } },
];

for (const backend of BACKENDS) {
  test(`windowed attention equals the dense reference on ${backend}: values and q, k, v gradients`, async (t) => {
    const skip = await useBackend(backend);
    if (skip) return t.skip(`${backend} backend not available: ${skip}`);
    if (backend === "webgpu") t.after(() => releaseWebGPU());
    for (const { name, T, opts } of CASES) {
      const B = 2, H = 2, hd = 8;
      const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([B, H, T, hd], 0, 3, "float32", s) as tf.Tensor4D);
      const tokens = tokenBatch(B, T, 5, 50);
      const docs = documentIds(tokens, 5);
      const weight = tf.randomNormal([B, H, T, hd], 0, 1, "float32", 9);
      const run = (f: typeof windowedAttention) => tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, docs, opts).mul(weight).sum())([q, k, v]);
        return [f(q, k, v, docs, opts), ...grads, f(q, k, v, null, opts)];
      });
      const got = run(windowedAttention), want = run(denseAttention);
      for (const [i, what] of ["output", "dq", "dk", "dv", "output without documents"].entries()) {
        const e = await relErr(got[i], want[i]);
        assert.ok(e <= 1e-5, `${backend}, ${name}: ${what} relative error ${e}`);
      }
      tf.dispose([q, k, v, tokens, docs!, weight, ...got, ...want]);
    }
  });
}

test("the GPT with windowed attention equals the dense-attention GPT: loss and every parameter's gradient (token and block windows)", async () => {
  await initEngine({ backend: "wasm" });
  const configs = [
    { what: "smoke, T = 256 (2 blocks of 128, recomputing path)", cfg: modelConfig("smoke", { seqLen: 256 }), progress: null },
    {
      what: "smoke with a 32-token block schedule at 40% of training, T = 128",
      cfg: modelConfig("smoke", { seqLen: 128, windows: { long: 96, short: 48, longBlocks: [0, 4, 11, 15], schedule: { blockSize: 32, finalLong: 96 } } }),
      progress: [2, 5] as const,
    },
  ];
  for (const { what, cfg, progress } of configs) {
    const windowed = new GPT(cfg, 1), dense = new GPT(cfg, 1, { attention: "dense" });
    for (const m of [windowed, dense]) {
      // nonzero output projections, so attention reaches the loss and its gradients are not trivially 0
      m.setWeights(Object.fromEntries(m.params.filter((p) => p.name.endsWith("o_w") || p.name.endsWith("proj_w")).map((p) => [p.name, { data: Float32Array.from({ length: p.variable.size }, (_, i) => Math.sin(i) * 0.05) }])), true);
      if (progress) m.setProgress(progress[0], progress[1]);
    }
    const T = cfg.seqLen;
    const x = tokenBatch(1, T, cfg.eotToken!, cfg.vocabSize), y = tf.tidy(() => tf.reverse(x, 1) as tf.Tensor2D);
    const a = windowed.lossAndGrads(x, y), b = dense.lossAndGrads(x, y);
    assert.ok(await relErr(a.loss, b.loss) <= 1e-5, `${what}: loss ${a.loss.dataSync()[0]} vs ${b.loss.dataSync()[0]}`);
    for (const name of Object.keys(b.grads)) {
      const e = await relErr(a.grads[name], b.grads[name]);
      assert.ok(e <= 1e-5, `${what}: gradient of ${name}, relative error ${e}`);
    }
    tf.dispose([x, y, a.loss, b.loss, ...Object.values(a.grads), ...Object.values(b.grads)]);
    windowed.dispose();
    dense.dispose();
  }
});

test("no T×T tensor: peak memory grows linearly in T at a fixed window (O(T·W))", async () => {
  await initEngine({ backend: "wasm" });
  const peak = async (T: number) => {
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([1, 1, T, 8], 0, 1, "float32", s) as tf.Tensor4D);
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => tf.grads((a: tf.Tensor) => windowedAttention(a as tf.Tensor4D, k, v, null, { window: { unit: "tokens", size: 128 }, scale: 0.12 }).sum())([q]));
    tf.dispose([q, k, v, ...(profile.result as tf.Tensor[])]);
    return profile.peakBytes - before;
  };
  const p4 = await peak(4096), p8 = await peak(8192);
  assert.ok(p8 / p4 < 2.5, `peak ${p4} bytes at T = 4096, ${p8} at 8192: not linear`);
  assert.ok(p8 < (8192 * 8192 * 4) / 2, `peak ${p8} bytes at T = 8192; one T×T score tensor would be ${8192 * 8192 * 4}`);
});
