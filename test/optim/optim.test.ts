import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Adam, Muon, SpeedrunOptimizer, TrainableParam, lrFactor, muonMomentum, newtonSchulz5 } from "../../src/optim";
import { GPT, modelConfig } from "../../src/model";
import { backendUnderTest, useBackend } from "../engine/backends-here";

const param = (name: string, values: number[] | Float32Array, shape: number[], group: TrainableParam["group"], mlp = false): TrainableParam =>
  ({ name, variable: tf.variable(tf.tensor(values, shape)), group, mlp });
const randn = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453 % 1);

test("lr schedule: constant, then linear to 0 over the last 70%", () => {
  assert.equal(lrFactor(0, 100), 1);
  assert.equal(lrFactor(29, 100), 1);
  assert.ok(Math.abs(lrFactor(30, 100) - 1) < 1e-12);
  assert.ok(Math.abs(lrFactor(65, 100) - 0.5) < 1e-12);
  assert.ok(Math.abs(lrFactor(99, 100) - 1 / 70) < 1e-12);
  assert.equal(lrFactor(100, 100), 0);
  assert.equal(lrFactor(50, 100, 0), 1);
  assert.throws(() => lrFactor(1, 0), /totalSteps must be positive/);
});

test("Muon momentum warms up from 0.85 to 0.95 over 300 steps", () => {
  assert.equal(muonMomentum(0), 0.85);
  assert.ok(Math.abs(muonMomentum(150) - 0.9) < 1e-12);
  assert.equal(muonMomentum(300), 0.95);
  assert.equal(muonMomentum(5000), 0.95);
});

test("NS5 nearly orthogonalizes, in the wide orientation, batched", async () => {
  await useBackend(backendUnderTest("cpu"));
  tf.tidy(() => {
    const G = tf.tensor(randn(24 * 96, 1), [24, 96]);
    const X = newtonSchulz5(G);
    const gram = tf.matMul(X, X, false, true).arraySync() as number[][];
    for (let i = 0; i < 24; i++) {
      assert.ok(gram[i][i] > 0.45 && gram[i][i] < 1.35, `diag ${i}: ${gram[i][i]}`); // singular values² near 1
      for (let j = 0; j < i; j++) assert.ok(Math.abs(gram[i][j]) < 0.25, `off-diagonal ${i},${j}: ${gram[i][j]}`);
    }
    const tall = newtonSchulz5(G.transpose());
    assert.deepEqual(tall.shape, [96, 24]);
    assert.ok(tf.max(tf.abs(tall.transpose().sub(X))).dataSync()[0] < 1e-5, "tall = transposed wide");
    const G2 = tf.tensor(randn(24 * 96, 2), [24, 96]).mul(100);
    const batched = newtonSchulz5(tf.stack([G, G2]));
    assert.ok(tf.max(tf.abs(batched.slice([1, 0, 0], [1, 24, 96]).reshape([24, 96]).sub(newtonSchulz5(G2)))).dataSync()[0] < 1e-5, "per-matrix norm");
  });
});

test("Adam matches torch.optim.Adam's formula (bias-corrected, eps after correction)", async () => {
  await useBackend(backendUnderTest("cpu"));
  const p = param("w", [1, -2], [2], "scalar");
  const adam = new Adam([p], { beta1: 0.8, beta2: 0.95, eps: 1e-10 });
  let m = [0, 0], v = [0, 0], w = [1, -2];
  const gs = [[0.5, -1e-3], [-0.25, 2]];
  gs.forEach((g, t) => {
    tf.tidy(() => adam.step({ w: tf.tensor(g) }, [0.1]));
    m = m.map((x, i) => 0.8 * x + 0.2 * g[i]);
    v = v.map((x, i) => 0.95 * x + 0.05 * g[i] ** 2);
    const bc1 = 1 - 0.8 ** (t + 1), bc2 = 1 - 0.95 ** (t + 1);
    w = w.map((x, i) => x - (0.1 / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-10));
  });
  const got = p.variable.dataSync();
  w.forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-6, `w[${i}] ${got[i]} vs ${x}`));
  assert.equal(adam.t, 2);
  adam.dispose();
  p.variable.dispose();
});

test("Muon: stacked shapes give the same update as one matrix at a time; lr scale and weight decay", async () => {
  await useBackend(backendUnderTest("cpu"));
  const mk = () => [
    param("qkv", randn(3 * 8 * 8, 3), [3, 8, 8], "hidden"),
    param("fc", randn(32 * 8, 4), [32, 8], "hidden", true),
    param("proj", randn(8 * 32, 5), [8, 32], "hidden", true),
  ];
  const together = mk(), apart = mk();
  const opts = { lr: 0.05, weightDecay: 0.01, mlpWdMul: 2 };
  const a = new Muon(together, opts), singles = apart.map((p) => new Muon([p], opts));
  for (let step = 0; step < 2; step++) {
    const grads = Object.fromEntries(together.map((p, k) => [p.name, tf.tensor(randn(p.variable.size, 10 * step + k), p.variable.shape)]));
    a.step(grads, 0.05, muonMomentum(step));
    singles.forEach((m) => m.step(grads, 0.05, muonMomentum(step)));
    tf.dispose(Object.values(grads));
  }
  together.forEach((p, k) => {
    const d = tf.tidy(() => tf.max(tf.abs(p.variable.sub(apart[k].variable))).dataSync()[0]);
    assert.ok(d < 1e-6, `${p.name}: stacked vs single differ by ${d}`);
  });
  // one step from zero momentum: w·(1 − lr·wd·mul) − lr·max(1, rows/cols)^0.5 · NS5(g)
  const w0 = randn(32 * 8, 6), g = tf.tensor(randn(32 * 8, 7), [32, 8]);
  const fc = param("fc", w0, [32, 8], "hidden", true);
  const m = new Muon([fc], opts);
  m.step({ fc: g }, 0.05, 0.85);
  const u = newtonSchulz5(g.mul(1 - 0.85 * 0.85)).dataSync(); // look-ahead: m·buf + (1−m)·g with buf = (1−m)·g
  const got = fc.variable.dataSync();
  for (let i = 0; i < 8; i++) {
    const want = w0[i] * (1 - 0.05 * 0.01 * 2) - 0.05 * 2 * u[i];
    assert.ok(Math.abs(got[i] - want) < 1e-6, `fc[${i}] ${got[i]} vs ${want}`);
  }
  tf.dispose([g]);
  [a, ...singles, m].forEach((o) => o.dispose());
  [...together, ...apart, fc].forEach((p) => p.variable.dispose());
});

test("SpeedrunOptimizer: state round-trips, tensors stay flat", async () => {
  await useBackend(backendUnderTest("cpu"));
  const mk = () => [
    param("embed", randn(16 * 8, 1), [16, 8], "embed"),
    param("lm_head_w", randn(16 * 8, 2), [16, 8], "head"),
    param("scalars", randn(10, 3), [10], "scalar"),
    param("blocks.0.attn.qkv_w", randn(3 * 8 * 8, 4), [3, 8, 8], "hidden"),
    param("blocks.0.mlp.fc_w", randn(32 * 8, 5), [32, 8], "hidden", true),
  ];
  const A = mk(), B = mk();
  const optA = new SpeedrunOptimizer(A, { lrMultiplier: 2 }), optB = new SpeedrunOptimizer(B, { lrMultiplier: 2 });
  const grads = (step: number) => Object.fromEntries(A.map((p, k) => [p.name, tf.tensor(randn(p.variable.size, 100 * step + k), p.variable.shape)]));
  let tensors = -1;
  for (let step = 0; step < 3; step++) {
    const g = grads(step);
    optA.step(g, step, 10);
    tf.dispose(Object.values(g));
    if (step === 1) tensors = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensors, "no tensors leak per step");
  // B takes A's weights and optimizer state, then both take the same step
  B.forEach((p, k) => p.variable.assign(A[k].variable));
  const state = JSON.parse(JSON.stringify(optA.getState(), (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
  assert.ok("adam.t" in state && "muon.momentum.blocks.0.mlp.fc_w" in state && "adam.v.scalars" in state);
  optB.setState(state);
  const g = grads(3);
  optA.step(g, 3, 10);
  optB.step(g, 3, 10);
  tf.dispose(Object.values(g));
  A.forEach((p, k) => assert.deepEqual(p.variable.dataSync(), B[k].variable.dataSync(), p.name));
  assert.throws(() => optB.setState({}), /missing "adam.t"/);
  assert.throws(() => optA.step({}, 0, 10), /no gradient for "embed"/);
  optA.dispose();
  optB.dispose();
  [...A, ...B].forEach((p) => p.variable.dispose());
});

test("creating and disposing an optimizer leaves no tensor behind", async () => {
  await useBackend(backendUnderTest("cpu"));
  const model = new GPT(modelConfig("smoke"), 0);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) new SpeedrunOptimizer(model.params).dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
