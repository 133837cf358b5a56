// The smoke GPT trained with the speedrun optimizer (Adam + Muon) on webgpu and on cpu, from the
// same weights on the same tokens: losses and weights must agree and numTensors stay flat.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initWebGPU, releaseWebGPU } from "../../src/engine/webgpu";
import { GPT, modelConfig } from "../../src/model";
import { SpeedrunOptimizer } from "../../src/optim";
import { webgpuTestEnv } from "./webgpu-env";

const B = 2, T = 16, STEPS = 3, TOTAL = 100, SEED = 5;

interface Run { losses: number[]; weights: Record<string, Float32Array>; numTensors: number[] }

async function trainSmoke(): Promise<Run> {
  const cfg = modelConfig("smoke", { seqLen: T });
  const model = new GPT(cfg, SEED);
  const opt = new SpeedrunOptimizer(model.params);
  const out: Run = { losses: [], weights: {}, numTensors: [] };
  let s = 99;
  const tokens = Int32Array.from({ length: STEPS * B * (T + 1) }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % cfg.vocabSize; });
  for (let step = 0; step < STEPS; step++) {
    const rows = (off: number) => {
      const a = new Int32Array(B * T);
      for (let b = 0; b < B; b++) a.set(tokens.subarray((step * B + b) * (T + 1) + off, (step * B + b) * (T + 1) + off + T), b * T);
      return tf.tensor2d(a, [B, T], "int32");
    };
    const x = rows(0), y = rows(1);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(x, y));
      opt.step(grads, step, TOTAL);
      return value;
    });
    out.losses.push((await loss.data())[0]);
    tf.dispose([loss, x, y]);
    out.numTensors.push(tf.memory().numTensors);
  }
  // getWeights() uses dataSync(), which the webgpu backend cannot do in Node (no OffscreenCanvas)
  for (const p of model.params) out.weights[p.name] = (await p.variable.data()) as Float32Array;
  opt.dispose();
  model.dispose();
  return out;
}

test("smoke GPT + Adam/Muon: webgpu matches cpu", async (t) => {
  const env = await webgpuTestEnv();
  if (env.skip) { t.skip(env.skip); return; }
  const initial = tf.getBackend();
  t.after(async () => { releaseWebGPU(); if (initial) await tf.setBackend(initial); });

  assert.ok(await tf.setBackend("cpu"));
  const cpu = await trainSmoke();
  await initWebGPU();
  const gpu = await trainSmoke();

  for (let i = 0; i < STEPS; i++) {
    assert.ok(Math.abs(gpu.losses[i] - cpu.losses[i]) < 1e-4, `step ${i}: loss ${gpu.losses[i]} (webgpu) vs ${cpu.losses[i]} (cpu)`);
  }
  assert.ok(cpu.losses[STEPS - 1] < cpu.losses[0], `cpu losses do not go down: ${cpu.losses}`);
  // Adam's first steps move every weight by about ±lr whatever its gradient's size, so the sign of a
  // gradient that is ~0 on both backends can flip a few elements (seen: ≤ 9 of 16384, by ≤ 0.08):
  // the bound is on the relative error of each tensor and on how many elements stray.
  for (const name of Object.keys(cpu.weights)) {
    const a = gpu.weights[name], b = cpu.weights[name];
    let diff2 = 0, norm2 = 0, strays = 0;
    for (let i = 0; i < b.length; i++) {
      const e = Math.abs(a[i] - b[i]);
      diff2 += e * e; norm2 += b[i] * b[i];
      if (e > 1e-3) strays++;
    }
    const rel = Math.sqrt(diff2 / Math.max(norm2, 1e-30));
    assert.ok(rel < 1e-2, `${name}: relative difference ${rel.toExponential(2)} after ${STEPS} steps`);
    assert.ok(strays <= Math.max(1, b.length * 1e-3), `${name}: ${strays} of ${b.length} elements differ by more than 1e-3`);
  }
  assert.equal(new Set(gpu.numTensors).size, 1, `numTensors per step on webgpu: ${gpu.numTensors}`);
});
