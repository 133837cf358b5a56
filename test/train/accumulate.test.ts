// Gradient accumulation equals the big batch: same loss, gradients and optimizer update within
// float32 rounding; and the trainer accumulates (and refuses what does not fit) from the CLI's flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { GPT, modelConfig } from "../../src/model";
import { accumulatedLossAndGrads, speedrunOptimizer, train } from "../../src/train";

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0] / Math.max(1e-30, b.abs().max().dataSync()[0]));
}

test("accumulating 2 or 4 micro-batches gives the big batch's loss, gradients and optimizer update", async () => {
  await initEngine({ backend: "wasm" });
  const cfg = modelConfig("smoke"), B = 4, T = cfg.seqLen;
  const ids = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7919 + (i >> 3)) % cfg.vocabSize);
  const inputs = Int32Array.from({ length: B * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T)]);
  const targets = Int32Array.from({ length: B * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T) + 1]);
  const updated = (micro: number) => {
    const model = new GPT(cfg, 3);
    const opt = speedrunOptimizer(model.params, { lrMult: 4, cooldownFrac: 0.7 });
    // nonzero output projections, so every parameter gets a gradient
    model.setWeights(Object.fromEntries(model.params.filter((p) => /o_w|proj_w/.test(p.name)).map((p) => [p.name, { data: Float32Array.from({ length: p.variable.size }, (_, i) => Math.cos(i) * 0.05) }])), true);
    const r = accumulatedLossAndGrads(model, inputs, targets, B, T, micro);
    opt.step(r.grads, 0, 10);
    const weights = Object.fromEntries(model.params.map((p) => [p.name, p.variable.clone()]));
    opt.dispose();
    model.dispose();
    return { ...r, weights };
  };
  const big = updated(4);
  for (const micro of [2, 1]) {
    const acc = updated(micro);
    assert.ok(relErr(acc.loss, big.loss) <= 1e-6, `${4 / micro} micro-batches: loss ${acc.loss.dataSync()[0]} vs ${big.loss.dataSync()[0]}`);
    for (const name of Object.keys(big.grads)) {
      assert.ok(relErr(acc.grads[name], big.grads[name]) <= 1e-5, `${4 / micro} micro-batches: gradient of ${name}, relative error ${relErr(acc.grads[name], big.grads[name])}`);
      assert.ok(relErr(acc.weights[name], big.weights[name]) <= 1e-5, `${4 / micro} micro-batches: weights of ${name} after the step, relative error ${relErr(acc.weights[name], big.weights[name])}`);
    }
    tf.dispose([acc.loss, ...Object.values(acc.grads), ...Object.values(acc.weights)]);
  }
  assert.throws(() => accumulatedLossAndGrads(new GPT(cfg, 0), inputs, targets, B, T, 3), /micro-batches of 3 sequences must divide the batch of 4/);
});

test("train --micro-batch-tokens accumulates (recorded in meta.json); a step that does not fit is refused before anything is written", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-accum-"));
  try {
    const out = path.join(dir, "run");
    const r = await train({ preset: "smoke", out, steps: 2, evalEvery: 2, microBatchTokens: 64, backend: "wasm" });
    assert.ok(r.finished && Number.isFinite(r.finalValLoss!));
    const meta = JSON.parse(fs.readFileSync(path.join(out, "meta.json"), "utf8"));
    assert.equal(meta.train.microBatchTokens, 64);
    assert.equal(meta.train.tokensPerStep, 128);
    const refused = path.join(dir, "refused");
    await assert.rejects(train({ preset: "smoke", out: refused, steps: 2, microBatchTokens: 128, deviceMemoryGiB: 0.02, backend: "wasm" }),
      /this step does not fit the device: peak .* GiB .* for a 128-token micro-batch\) on a 0.02 GiB device; --micro-batch-tokens (32|64) would fit/);
    await assert.rejects(train({ preset: "smoke", out: refused, steps: 2, deviceMemoryGiB: 0.001, backend: "wasm" }),
      /not even one 32-token sequence fits/);
    await assert.rejects(train({ preset: "smoke", out: refused, steps: 2, microBatchTokens: 48, backend: "wasm" }),
      /micro-batch of 48 tokens: must be a whole number of 32-token sequences/);
    assert.equal(fs.existsSync(refused), false, "nothing written for a refused run");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
