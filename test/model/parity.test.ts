// Parity with PyTorch: the smoke model from hash-derived weights must give the goldens that
// test/reference/gpt_reference.py computed (loss, gradients, one Muon and one Adam update, 4 steps).
// Regenerate the goldens with `npm run goldens` (/usr/bin/python3 test/reference/gpt_reference.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { GPT, MODEL_PRESETS, paddedVocab } from "../../src/model";
import { SpeedrunOptimizer, newtonSchulz5 } from "../../src/optim";
import { backendUnderTest, useBackend } from "../engine/backends-here";

const golden = JSON.parse(fs.readFileSync(path.join(__dirname, "../reference/goldens.json"), "utf8"));

// The same values as hash_uniform() in gpt_reference.py: (2u − 1), u = fmix32(i·0x9E3779B1 + hash32(name)) / 2^32.
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
function hash32(text: string, seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b) >>> 0;
  return fmix32(h);
}
function hashUniform(name: string, n: number, seed: number): Float64Array {
  const s = hash32(name, seed), out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * fmix32((Math.imul(i, 0x9e3779b1) + s) >>> 0)) / 4294967296 - 1;
  return out;
}

function parityWeights(model: GPT, seed: number): Record<string, { data: Float32Array }> {
  const L = model.cfg.nLayer, out: Record<string, { data: Float32Array }> = {};
  for (const p of model.params) {
    const shape = p.variable.shape, n = p.variable.size, u = hashUniform(p.name, n, seed);
    let v: Float64Array;
    if (p.name === "scalars") {
      v = u.map((x, i) => (i < L ? 1 : i < 3 * L ? ((i - L) % 2 === 0 ? 1 : 0) : 0.5) + 0.2 * x);
    } else if (p.group === "embed") {
      v = u.map((x) => Math.sqrt(3) * x);
    } else {
      const bound = Math.sqrt(3) * 0.5 * shape[shape.length - 1] ** -0.5;
      v = u.map((x) => bound * x);
    }
    out[p.name] = { data: Float32Array.from(v) };
  }
  return out;
}

function close(actual: number, expected: number, rel: number, what: string, abs = 0): number {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-30);
  assert.ok(Math.abs(actual - expected) <= Math.max(rel * Math.abs(expected), abs), `${what}: got ${actual}, PyTorch ${expected} (rel err ${err.toExponential(2)})`);
  return err;
}

test("parity with PyTorch: smoke model, gradients, Muon, Adam, 4 steps", async () => {
  await useBackend(backendUnderTest("cpu"));
  assert.deepEqual(golden.config, MODEL_PRESETS.smoke, "the smoke preset changed: regenerate the goldens (npm run goldens)");
  const model = new GPT(golden.config, 0);
  model.setWeights(parityWeights(model, golden.seed));
  const B = golden.batch.inputs.length, T = golden.batch.inputs[0].length;
  const inputs = tf.tensor2d(golden.batch.inputs.flat(), [B, T], "int32");
  const targets = tf.tensor2d(golden.batch.targets.flat(), [B, T], "int32");
  const opt = new SpeedrunOptimizer(model.params);
  const byName = Object.fromEntries(model.params.map((p) => [p.name, p.variable]));
  const L = model.cfg.nLayer;
  const worst: Record<string, number> = {};
  const track = (k: string, e: number) => { worst[k] = Math.max(worst[k] ?? 0, e); };

  for (let step = 0; step < golden.totalSteps; step++) {
    const { loss: value, grads } = model.lossAndGrads(inputs, targets);
    track("loss", close(value.dataSync()[0], golden.losses[step], 1e-5, `loss at step ${step}`));
    if (step === 0) {
      for (const [name, norm] of Object.entries(golden.gradNorms)) {
        track("gradNorm", close(tf.tidy(() => grads[name].norm().dataSync()[0]), norm as number, 1e-5, `grad norm of ${name}`));
      }
      const sg = grads["scalars"].dataSync();
      const idx: Record<string, number> = { skip6: 6, "block3.lambda1": L + 7, "block1.sa_lambda_a": 3 * L + 2, "block14.sa_lambda_b": 3 * L + 29, "block7.sa_lambda_a": 3 * L + 14 };
      for (const [k, i] of Object.entries(idx)) track("scalarGrad", close(sg[i], golden.scalarGrads[k], 1e-4, `d loss / d ${k}`, 1e-9));
      const ns = newtonSchulz5(grads[golden.ns5.param]);
      track("ns5", close(tf.tidy(() => ns.norm().dataSync()[0]), golden.ns5.norm, 1e-4, "NS5 norm"));
      Array.from(ns.dataSync().slice(0, 8)).forEach((x, j) => track("ns5", close(x, golden.ns5.head[j], 1e-4, `NS5[${j}]`, 1e-5)));
      ns.dispose();
    }
    const before = step === 0 ? Object.fromEntries(Object.keys({ ...golden.firstUpdate.muon, ...golden.firstUpdate.adam }).map((n) => [n, byName[n].dataSync().slice()])) : {};
    opt.step(grads, step, golden.totalSteps);
    tf.dispose([value, ...Object.values(grads)]);
    if (step === 0) {
      for (const kind of ["muon", "adam"] as const) {
        for (const [name, ref] of Object.entries(golden.firstUpdate[kind]) as [string, { norm: number; head: number[] }][]) {
          const after = byName[name].dataSync(), b = before[name] as Float32Array;
          const delta = Array.from(after, (x, j) => x - b[j]);
          track(kind, close(Math.hypot(...delta), ref.norm, 1e-5, `${kind} update norm of ${name}`));
          ref.head.forEach((x, j) => track(kind, close(delta[j], x, 1e-4, `${kind} update ${name}[${j}]`, 1e-7)));
        }
      }
      Array.from(byName["scalars"].dataSync()).forEach((x, j) => track("scalarsAfter", close(x, golden.firstUpdate.scalarsAfter[j], 1e-5, `scalars[${j}] after step 0`, 1e-6)));
    }
  }
  track("loss", close(model.loss(inputs, targets).dataSync()[0], golden.losses[golden.totalSteps], 1e-5, "loss after the last step"));
  assert.equal(paddedVocab(model.cfg), 512);
  console.log("parity: worst relative errors", JSON.stringify(Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, +v.toExponential(2)]))));
  opt.dispose();
  model.dispose();
  tf.dispose([inputs, targets]);
});
