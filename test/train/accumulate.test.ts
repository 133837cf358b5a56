// Gradient accumulation equals the big batch: same loss, gradients and optimizer update within
// float32 rounding; and the trainer accumulates (and refuses what does not fit) from the CLI's flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { releaseWebGPU } from "../../src/engine/webgpu";
import { relErr, useBackend } from "../engine/compare";
import { GPT, modelConfig } from "../../src/model";
import { accumulatedLossAndGrads, speedrunOptimizer, train } from "../../src/train";

for (const backend of ["wasm", "tensorflow", "webgpu", "cpu"]) {
  test(`accumulating 2 or 4 micro-batches gives the big batch's loss, gradients and optimizer update on ${backend}`, async (t) => {
    const skip = await useBackend(backend);
    if (skip) return t.skip(`${backend} backend not available: ${skip}`);
    if (backend === "webgpu") t.after(() => releaseWebGPU());
    const cfg = modelConfig("smoke"), B = 4, T = cfg.seqLen;
    const ids = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7919 + (i >> 3)) % cfg.vocabSize);
    const inputs = Int32Array.from({ length: B * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T)]);
    const targets = Int32Array.from({ length: B * T }, (_, i) => ids[Math.floor(i / T) * (T + 1) + (i % T) + 1]);
    const updated = (micro: number) => {
      const model = new GPT(cfg, 3);
      const opt = speedrunOptimizer(model.params, { lrMult: 4, cooldownFrac: 0.7 });
      // nonzero output projections, so every parameter gets a gradient
      for (const p of model.params.filter((q) => /o_w|proj_w/.test(q.name))) {
        tf.tidy(() => p.variable.assign(tf.tensor(Float32Array.from({ length: p.variable.size }, (_, i) => Math.cos(i) * 0.05), p.variable.shape)));
      }
      const r = accumulatedLossAndGrads(model, inputs, targets, B, T, micro);
      opt.step(r.grads, 0, 10);
      const weights = Object.fromEntries(model.params.map((p) => [p.name, p.variable.clone()]));
      opt.dispose();
      model.dispose();
      return { ...r, weights };
    };
    const big = updated(4);
    const micros = backend === "cpu" ? [2] : [2, 1]; // the plain-JS backend is slow: 2 micro-batches only
    for (const micro of micros) {
      const acc = updated(micro), parts = 4 / micro;
      assert.ok(await relErr(acc.loss, big.loss) <= 1e-6, `${backend}, ${parts} micro-batches: loss`);
      for (const name of Object.keys(big.grads)) {
        const g = await relErr(acc.grads[name], big.grads[name]), w = await relErr(acc.weights[name], big.weights[name]);
        assert.ok(g <= 1e-5, `${backend}, ${parts} micro-batches: gradient of ${name}, relative error ${g}`);
        assert.ok(w <= 1e-5, `${backend}, ${parts} micro-batches: weights of ${name} after the step, relative error ${w}`);
      }
      tf.dispose([acc.loss, ...Object.values(acc.grads), ...Object.values(acc.weights)]);
    }
    tf.dispose([big.loss, ...Object.values(big.grads), ...Object.values(big.weights)]);
    if (backend === "wasm") {
      const m = new GPT(cfg, 0);
      assert.throws(() => accumulatedLossAndGrads(m, inputs, targets, B, T, 3), /micro-batches of 3 sequences must divide the batch of 4/);
      m.dispose();
    }
  });
}

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
      /this step does not fit the device: peak .* GiB .* for a 128-token micro-batch, kept\) on a 0.02 GiB device; --micro-batch-tokens (32|64) would fit/);
    await assert.rejects(train({ preset: "smoke", out: refused, steps: 2, deviceMemoryGiB: 0.001, backend: "wasm" }),
      /not even one 32-token sequence fits/);
    await assert.rejects(train({ preset: "smoke", out: refused, steps: 2, microBatchTokens: 48, backend: "wasm" }),
      /micro-batch of 48 tokens: must be a whole number of 32-token sequences/);
    assert.equal(fs.existsSync(refused), false, "nothing written for a refused run");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
