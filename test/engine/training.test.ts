// A few training steps of a tiny GPT-shaped model: the fast wasm engine must give the cpu backend's
// gradients and losses, and hold no extra tensors from step to step.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { rmsNorm, reluSquared, softcapCrossEntropy } from "../../src/engine";
import { backendUnderTest, useBackend } from "./backends-here";

const V = 32, D = 16, H = 2, B = 2, S = 8, HD = D / H;

const SHAPES: Record<string, number[]> = { wte: [V, D], ve: [V, D], qkv: [D, 3 * D], proj: [D, D], fc: [D, 4 * D], fc2: [4 * D, D], head: [D, V] };

function initialWeights(): Record<string, number[]> {
  const w: Record<string, number[]> = {};
  let seed = 7;
  for (const [name, shape] of Object.entries(SHAPES)) w[name] = Array.from(tf.tidy(() => tf.randomNormal(shape, 0, name === "wte" || name === "ve" ? 1 : 0.2, "float32", seed++).dataSync()));
  return w;
}

function loss(p: Record<string, tf.Tensor>, tokens: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const x0 = tf.gather(p.wte, tokens); // [B,S,D]
  const x = rmsNorm(x0);
  const qkv = tf.matMul(x.reshape([B * S, D]), p.qkv).reshape([B, S, 3, H, HD]).transpose([2, 0, 3, 1, 4]); // [3,B,H,S,HD]
  const [q, k, v0] = tf.unstack(qkv);
  const v = v0.add(tf.gather(p.ve, tokens).reshape([B, S, H, HD]).transpose([0, 2, 1, 3]));
  const mask = tf.linalg.bandPart(tf.ones([S, S]), -1, 0);
  const att = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(HD)).add(mask.sub(1).mul(1e9));
  const y = tf.matMul(tf.softmax(att), v).transpose([0, 2, 1, 3]).reshape([B * S, D]);
  const h = x.reshape([B * S, D]).add(tf.matMul(y, p.proj));
  const m = h.add(tf.matMul(reluSquared(tf.matMul(rmsNorm(h), p.fc)), p.fc2));
  const logits = tf.matMul(rmsNorm(m), p.head) as tf.Tensor2D;
  return softcapCrossEntropy(logits, targets.reshape([B * S]) as tf.Tensor1D, 15);
}

function train(backend: string, steps: number): { losses: number[]; grads: Record<string, Float32Array>[]; tensorCounts: number[] } {
  tf.setBackend(backend);
  const w0 = initialWeights();
  const params: Record<string, tf.Variable> = {};
  for (const [name, vals] of Object.entries(w0)) params[name] = tf.variable(tf.tensor(vals, SHAPES[name]), true, `${backend}_${name}`);
  const tokens = tf.tensor2d(Array.from({ length: B * S }, (_, i) => (i * 7 + 3) % V), [B, S], "int32");
  const targets = tf.tensor2d(Array.from({ length: B * S }, (_, i) => (i * 5 + 1) % V), [B, S], "int32");
  const out = { losses: [] as number[], grads: [] as Record<string, Float32Array>[], tensorCounts: [] as number[] };
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(() => loss(params, tokens, targets), Object.values(params));
    out.losses.push(value.dataSync()[0]);
    const g: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(params)) {
      const grad = grads[v.name];
      g[name] = grad.dataSync() as Float32Array;
      const next = tf.tidy(() => v.sub(grad.mul(0.1)));
      v.assign(next);
      next.dispose(); // the variable keeps its own reference
    }
    out.grads.push(g);
    tf.dispose([value, ...Object.values(grads)]);
    out.tensorCounts.push(tf.memory().numTensors);
  }
  tf.dispose([tokens, targets, ...Object.values(params)]);
  return out;
}

const FAST = backendUnderTest("wasm");

test(`training steps on ${FAST} equal the cpu backend, with a flat tensor count`, async () => {
  await useBackend(FAST);
  const fast = train(FAST, 4);
  const ref = train("cpu", 4);
  tf.setBackend(FAST);
  for (let s = 0; s < ref.losses.length; s++) {
    assert.ok(Math.abs(fast.losses[s] - ref.losses[s]) <= 1e-5 * Math.abs(ref.losses[s]), `step ${s} loss ${fast.losses[s]} vs ${ref.losses[s]}`);
    for (const name of Object.keys(ref.grads[s])) {
      const a = fast.grads[s][name], b = ref.grads[s][name];
      let scale = 1e-3, worst = 0;
      for (let i = 0; i < b.length; i++) { scale = Math.max(scale, Math.abs(b[i])); worst = Math.max(worst, Math.abs(a[i] - b[i])); }
      assert.ok(worst <= 1e-4 * scale, `step ${s} grad ${name}: max diff ${worst} (scale ${scale})`);
    }
  }
  assert.ok(ref.losses[3] < ref.losses[0], "the loss goes down");
  assert.deepEqual(new Set(fast.tensorCounts.slice(1)).size, 1, `numTensors per step ${fast.tensorCounts}`);
});
