// Training end to end on the wasm backend (or VALEMB_TEST_BACKEND): the smoke model memorizes one batch in 30 steps.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { GPT, modelConfig } from "../../src/model";
import { SpeedrunOptimizer } from "../../src/optim";
import { backendUnderTest, useBackend } from "../engine/backends-here";

test("30 steps on one batch drive the loss down, tensors stay flat", async () => {
  await useBackend(backendUnderTest("wasm"));
  const cfg = modelConfig("smoke", { layout: "01234......01234" });
  const model = new GPT(cfg, 0);
  const opt = new SpeedrunOptimizer(model.params, { lrMultiplier: 4 });
  const B = 2, T = cfg.seqLen, steps = 30;
  const seq = Array.from({ length: B * (T + 1) }, (_, i) => (i % 97 === 0 ? cfg.eotToken! : (i * 7919) % 400));
  const rows = (off: number) => Array.from({ length: B }, (_, b) => seq.slice(b * (T + 1) + off, b * (T + 1) + off + T)).flat();
  const inputs = tf.tensor2d(rows(0), [B, T], "int32"), targets = tf.tensor2d(rows(1), [B, T], "int32");
  const losses: number[] = [];
  let tensors = -1;
  for (let step = 0; step < steps; step++) {
    const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets));
    losses.push(value.dataSync()[0]);
    opt.step(grads, step, steps);
    tf.dispose([value, grads]);
    if (step === 2) tensors = tf.memory().numTensors;
    if (process.env.VERBOSE) console.log(step, losses[step].toFixed(3), Math.round(performance.now()));
    if (step > 2) assert.equal(tf.memory().numTensors, tensors, `tensors grew at step ${step}`);
  }
  assert.ok(Math.abs(losses[0] - Math.log(512)) < 1e-4, `initial loss ${losses[0]}`);
  assert.ok(losses.every(Number.isFinite));
  const last = model.loss(inputs, targets).dataSync()[0];
  assert.ok(last < 0.35 * losses[0], `loss ${losses[0].toFixed(3)} → ${last.toFixed(3)} (${losses.map((l) => l.toFixed(2)).join(" ")})`);
  opt.dispose();
  model.dispose();
  tf.dispose([inputs, targets]);
});
