// WebGPU (Dawn) against the cpu backend: the fused ops and a small transformer training step with
// Adam and a Muon-style update must agree. Runs on lavapipe in CI (scripts/ci-lavapipe.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { explainNoAdapter, initWebGPU, releaseWebGPU, webgpuAdapter } from "../../src/engine/webgpu";
import { rmsNorm, reluSquared, softcapCrossEntropy } from "../../src/engine/ops";
import { webgpuTestEnv } from "./webgpu-env";

/** Deterministic uniform(-scale, scale) values (LCG), identical on every backend. */
function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s / 4294967296 - 0.5) * 2 * scale; }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  if (backend === "webgpu") await initWebGPU(); else assert.ok(await tf.setBackend(backend));
  return fn();
}

test("explainNoAdapter names the missing piece", () => {
  assert.match(explainNoAdapter("Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file\n    at x.cpp:1\n"), /no Vulkan loader: libvulkan\.so\.1/);
  assert.match(explainNoAdapter("Warning: vkCreateInstance: Found no drivers!\n"), /found no driver.*VK_DRIVER_FILES/);
  assert.match(explainNoAdapter(""), /found no driver/);
  assert.match(explainNoAdapter("Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n    at y.cpp:2\n"),
    /Dawn rejected the Vulkan driver: Vulkan shaderUniform\*ArrayDynamicIndexing required\.$/);
  assert.match(explainNoAdapter("", "boom"), /^Dawn failed: boom$/);
});

// ---- a small decoder: the op mix of the GPT (gather, batched matmuls, causal softmax, fused ops) ----
const V = 48, T = 12, D = 32, H = 2, HD = D / H, B = 2, CAP = 15;
const SHAPES: Record<string, number[]> = { emb: [V, D], wq: [D, D], wk: [D, D], wv: [D, D], wo: [D, D], w1: [D, 4 * D], w2: [4 * D, D], head: [D, V] };
const MATRICES = new Set(["wq", "wk", "wv", "wo", "w1", "w2"]); // Muon; emb and head get Adam

const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % V);
const tgts = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % V);

/** relu(x)² with a hand-written gradient, to run tf.customGrad on the backend. */
const reluSquaredCustom = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const r = tf.relu(x);
  save([r]);
  return { value: r.square(), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => dy.mul(saved[0]).mul(2) };
}) as (x: tf.Tensor) => tf.Tensor;

function lossOf(P: Record<string, tf.Variable>, idsT: tf.Tensor2D, tgtT: tf.Tensor1D, mask: tf.Tensor): tf.Scalar {
  const x0 = rmsNorm(tf.gather(P.emb, idsT)) as tf.Tensor3D; // [B,T,D]
  const flat = x0.reshape([B * T, D]) as tf.Tensor2D;
  const heads = (w: tf.Tensor) => tf.matMul(flat, w as tf.Tensor2D).reshape([B, T, H, HD]).transpose([0, 2, 1, 3]);
  const q = rmsNorm(heads(P.wq)), k = rmsNorm(heads(P.wk)), v = heads(P.wv);
  const scores = tf.where(mask, tf.matMul(q, k, false, true).mul(1 / Math.sqrt(HD)), tf.scalar(-1e9));
  const att = tf.matMul(tf.softmax(scores), v).transpose([0, 2, 1, 3]).reshape([B * T, D]);
  const x1 = flat.add(tf.matMul(att as tf.Tensor2D, P.wo as tf.Tensor2D));
  const hidden = reluSquaredCustom(tf.matMul(rmsNorm(x1) as tf.Tensor2D, P.w1 as tf.Tensor2D)).add(reluSquared(tf.matMul(x1, P.w1 as tf.Tensor2D)).mul(0.1));
  const x2 = x1.add(tf.matMul(hidden as tf.Tensor2D, P.w2 as tf.Tensor2D));
  const logits = tf.matMul(rmsNorm(x2) as tf.Tensor2D, P.head as tf.Tensor2D) as tf.Tensor2D;
  return softcapCrossEntropy(logits, tgtT, CAP);
}

/** Muon's quintic Newton–Schulz iteration: G → nearest semi-orthogonal matrix (approximately). */
function orthogonalize(g: tf.Tensor2D): tf.Tensor2D {
  const [a, b, c] = [3.4445, -4.775, 2.0315];
  let x = g.div(g.norm().add(1e-7)) as tf.Tensor2D;
  const tall = x.shape[0] > x.shape[1];
  if (tall) x = x.transpose();
  for (let i = 0; i < 5; i++) {
    const A = tf.matMul(x, x, false, true);
    x = tf.matMul(A.mul(b).add(tf.matMul(A, A).mul(c)), x).add(x.mul(a)) as tf.Tensor2D;
  }
  return tall ? x.transpose() : x;
}

interface TrainResult { losses: number[]; params: Record<string, Float32Array>; numTensors: number[]; kernels: string[] }

async function train(steps: number): Promise<TrainResult> {
  const P: Record<string, tf.Variable> = {}, M: Record<string, tf.Variable> = {}, S: Record<string, tf.Variable> = {};
  let seed = 11;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((x, y) => x * y, 1);
    P[name] = tf.variable(tf.tensor(rand(n, seed++, 1 / Math.sqrt(shape[0])), shape), true, `p_${name}_${tf.getBackend()}`);
    M[name] = tf.variable(tf.zeros(shape), false);
    S[name] = tf.variable(tf.zeros(shape), false);
  }
  const idsT = tf.tensor2d(ids, [B, T], "int32"), tgtT = tf.tensor1d(tgts, "int32");
  const mask = tf.tidy(() => tf.linalg.bandPart(tf.ones([T, T]), -1, 0).cast("bool").reshape([1, 1, T, T]).tile([B, H, 1, 1]));
  const out: TrainResult = { losses: [], params: {}, numTensors: [], kernels: [] };
  for (let step = 1; step <= steps; step++) {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossOf(P, idsT, tgtT, mask));
      for (const [full, g] of Object.entries(grads)) {
        const name = full.split("_")[1];
        if (MATRICES.has(name)) { // Muon: momentum, then an orthogonalized step
          M[name].assign(M[name].mul(0.95).add(g));
          const scale = Math.sqrt(Math.max(1, SHAPES[name][0] / SHAPES[name][1]));
          P[name].assign(P[name].sub(orthogonalize(M[name] as tf.Tensor2D).mul(0.02 * scale)));
        } else { // Adam
          M[name].assign(M[name].mul(0.9).add(g.mul(0.1)));
          S[name].assign(S[name].mul(0.99).add(g.square().mul(0.01)));
          const mhat = M[name].div(1 - 0.9 ** step), shat = S[name].div(1 - 0.99 ** step);
          P[name].assign(P[name].sub(mhat.div(shat.sqrt().add(1e-8)).mul(0.01)));
        }
      }
      return value;
    });
    out.losses.push((await loss.data())[0]);
    loss.dispose();
    out.numTensors.push(tf.memory().numTensors);
  }
  const profile = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => lossOf(P, idsT, tgtT, mask)); tf.dispose(grads); return value; });
  out.kernels = [...new Set(profile.kernelNames)].sort();
  for (const name in P) out.params[name] = (await P[name].data()) as Float32Array;
  tf.dispose([idsT, tgtT, mask, ...Object.values(P), ...Object.values(M), ...Object.values(S)]);
  return out;
}

test("webgpu matches cpu", async (t) => {
  const env = await webgpuTestEnv();
  if (env.skip) { t.skip(env.skip); return; }
  const initial = tf.getBackend();
  t.after(async () => { releaseWebGPU(); if (initial) await tf.setBackend(initial); });

  await t.test("initWebGPU makes webgpu the active backend on the probed adapter", async () => {
    await initWebGPU();
    assert.equal(tf.getBackend(), "webgpu");
    assert.equal(webgpuAdapter()?.description, env.probe.adapter?.description);
    assert.ok(env.probe.adapter!.limits.maxStorageBufferBindingSize >= 1 << 27, "storage binding limit below 128 MiB");
  });

  await t.test("fused ops of src/engine/ops.ts: values and gradients", async () => {
    const xs = rand(6 * 40, 3, 3), tg = Int32Array.from({ length: 6 }, (_, i) => (i * 13) % 40);
    const run = () => onBackend(tf.getBackend(), async () => {
      const x = tf.tensor2d(xs, [6, 40]), targets = tf.tensor1d(tg, "int32");
      const f = (y: tf.Tensor) => softcapCrossEntropy(reluSquared(rmsNorm(y)).add(y) as tf.Tensor2D, targets, 15);
      const { value, grad } = tf.valueAndGrad(f)(x);
      const res = { loss: (await value.data())[0], grad: await grad.data(), norm: await tf.tidy(() => rmsNorm(x)).data() };
      tf.dispose([x, targets, value, grad]);
      return res;
    });
    await tf.setBackend("cpu"); const cpu = await run();
    await initWebGPU(); const gpu = await run();
    assert.ok(Math.abs(gpu.loss - cpu.loss) < 1e-5, `loss ${gpu.loss} vs ${cpu.loss}`);
    assert.ok(maxAbsDiff(gpu.grad, cpu.grad) < 1e-5, `grad differs by ${maxAbsDiff(gpu.grad, cpu.grad)}`);
    assert.ok(maxAbsDiff(gpu.norm, cpu.norm) < 1e-5);
  });

  await t.test("a transformer step with Muon + Adam: same losses and weights, no leak", async () => {
    const steps = 4;
    const cpu = await onBackend("cpu", () => train(steps));
    const gpu = await onBackend("webgpu", () => train(steps));
    for (let i = 0; i < steps; i++) {
      assert.ok(Math.abs(gpu.losses[i] - cpu.losses[i]) < 1e-4 * Math.max(1, cpu.losses[0]), `step ${i + 1}: loss ${gpu.losses[i]} vs ${cpu.losses[i]}`);
    }
    assert.ok(cpu.losses[steps - 1] < cpu.losses[0], "the step does not train");
    for (const name in cpu.params) {
      const d = maxAbsDiff(gpu.params[name], cpu.params[name]);
      assert.ok(d < 2e-4, `${name} differs by ${d} after ${steps} steps`);
    }
    assert.deepEqual(new Set(gpu.numTensors).size, 1, `numTensors per step on webgpu: ${gpu.numTensors}`);
    assert.deepEqual(gpu.kernels, cpu.kernels);
  });

  await t.test("releaseWebGPU frees the device; initWebGPU builds a new one", async () => {
    releaseWebGPU();
    await initWebGPU();
    const x = tf.tensor1d([1, 2, 3]);
    assert.deepEqual(Array.from(await x.square().data()), [1, 4, 9]);
    tf.dispose(x);
    releaseWebGPU();
  });
});

test("dataSync on webgpu: values on the CPU read, GPU memory says to use data()", async (t) => {
  const env = await webgpuTestEnv();
  if (env.skip) { t.skip(env.skip); return; }
  const initial = tf.getBackend();
  t.after(async () => { releaseWebGPU(); if (initial) await tf.setBackend(initial); });
  await initWebGPU();
  const x = tf.range(0, 4096); // large enough not to be computed on the CPU (WEBGPU_CPU_FORWARD)
  assert.equal(x.dataSync()[3], 3); // range is built on the CPU
  const y = x.mul(2);
  assert.throws(() => y.dataSync(), /use `await tensor\.data\(\)`/);
  assert.equal((await y.data())[4095], 8190);
  assert.equal(y.dataSync()[4095], 8190); // cached by the async read
  tf.dispose([x, y]);
});
