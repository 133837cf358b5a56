// Fused ops equal the reference composites (values and gradients) and record fewer kernels.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { rmsNorm, reluSquared, rotary, softcapCrossEntropy, referenceOps } from "../../src/engine";
import { backendUnderTest, backendsUnderTest, useBackend } from "./backends-here";

before(async () => { await useBackend(backendUnderTest("wasm")); });

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

test("rmsNorm (custom gradient) equals the reference composite: values and gradients", () => {
  for (const shape of [[4, 16], [2, 3, 64], [5, 1]]) {
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0.3, 2, "float32", 3);
      const dy = tf.randomNormal(shape, 0, 1, "float32", 4);
      assert.ok(maxDiff(rmsNorm(x), referenceOps.rmsNorm(x)) <= 1e-6, `value ${shape}`);
      const g = tf.grad((t: tf.Tensor) => rmsNorm(t).mul(dy).sum())(x);
      const gRef = tf.grad((t: tf.Tensor) => referenceOps.rmsNorm(t).mul(dy).sum())(x);
      const scale = Math.max(1, gRef.abs().max().dataSync()[0]);
      assert.ok(maxDiff(g, gRef) <= 2e-6 * scale, `grad ${shape}: ${maxDiff(g, gRef)}`);
    });
  }
});

test("rmsNorm's fused gradient runs fewer kernels than autograd of the composite", async () => {
  const x = tf.randomNormal([8, 32]);
  const kernels = async (f: (t: tf.Tensor) => tf.Tensor) =>
    (await tf.profile(() => tf.grad((t: tf.Tensor) => f(t).sum())(x))).kernels.length;
  const fused = await kernels(rmsNorm), ref = await kernels(referenceOps.rmsNorm);
  assert.ok(fused < ref, `fused ${fused} kernels vs reference ${ref}`);
  x.dispose();
});

test("reluSquared (custom gradient) is bit-identical to the reference composite: values and gradients", () => {
  tf.tidy(() => {
    const x = tf.randomNormal([64, 48], 0, 1, "float32", 5);
    const dy = tf.randomNormal([64, 48], 0, 1, "float32", 6);
    assert.equal(maxDiff(reluSquared(x), referenceOps.reluSquared(x)), 0);
    const g = tf.grad((t: tf.Tensor) => reluSquared(t).mul(dy).sum())(x);
    const gRef = tf.grad((t: tf.Tensor) => referenceOps.reluSquared(t).mul(dy).sum())(x);
    assert.equal(maxDiff(g, gRef), 0);
  });
});

for (const backend of backendsUnderTest()) {
  test(`softcapCrossEntropy (fused, no one-hot) on ${backend} equals the reference composite: loss and gradient`, async () => {
    await useBackend(backend);
    for (const [N, V, cap] of [[37, 130, 15], [8, 512, 15], [5, 7, 2]] as const) {
      tf.tidy(() => {
        const logits = tf.randomNormal([N, V], 0, 8, "float32", N) as tf.Tensor2D; // |l| up to ~cap: the cap bends
        const targets = tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 31 + 3) % V), "int32");
        const dy = tf.scalar(0.7);
        const loss = softcapCrossEntropy(logits, targets, cap), lossRef = referenceOps.softcapCrossEntropy(logits, targets, cap);
        assert.ok(Math.abs(loss.dataSync()[0] - lossRef.dataSync()[0]) <= 2e-6 * Math.abs(lossRef.dataSync()[0]), `loss ${N}x${V}`);
        const g = tf.grad((l: tf.Tensor) => softcapCrossEntropy(l as tf.Tensor2D, targets, cap).mul(dy))(logits);
        const gRef = tf.grad((l: tf.Tensor) => referenceOps.softcapCrossEntropy(l as tf.Tensor2D, targets, cap).mul(dy))(logits);
        const scale = gRef.abs().max().dataSync()[0];
        assert.ok(maxDiff(g, gRef) <= 1e-5 * scale, `grad ${N}x${V}: ${maxDiff(g, gRef)} vs scale ${scale}`);
      });
    }
  });

  test(`softcapCrossEntropy on ${backend}: a target outside the vocabulary is an error naming the row`, async () => {
    await useBackend(backend);
    tf.tidy(() => {
      const logits = tf.randomNormal([3, 10], 0, 4, "float32", 9) as tf.Tensor2D;
      assert.throws(() => softcapCrossEntropy(logits, tf.tensor1d([2, -1, 3], "int32"), 15), /target -1 of row 1 is not a class in \[0, 10\)/);
      assert.throws(() => softcapCrossEntropy(logits, tf.tensor1d([2, 1, 10], "int32"), 15), /target 10 of row 2/);
    });
  });

  test(`softcapCrossEntropy on ${backend} records far fewer kernels than the composite`, async () => {
    await useBackend(backend);
    const logits = tf.randomNormal([16, 64]) as tf.Tensor2D, targets = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i), "int32");
    const kernels = async (f: typeof softcapCrossEntropy) =>
      (await tf.profile(() => tf.grad((l: tf.Tensor) => f(l as tf.Tensor2D, targets, 15))(logits))).kernels.map((k) => k.name);
    const fused = await kernels(softcapCrossEntropy), ref = await kernels(referenceOps.softcapCrossEntropy);
    assert.ok(fused.length * 3 < ref.length, `fused ${fused.length} kernels vs reference ${ref.length}`);
    assert.ok(ref.includes("OneHot") && !fused.includes("OneHot"), `no [N, vocab] one-hot: ${fused.join(" ")}`);
    tf.dispose([logits, targets]);
  });
}

test(`rotary on ${backendUnderTest("wasm")} equals the reference composite: values and gradients`, async () => {
  await useBackend(backendUnderTest("wasm"));
  tf.tidy(() => {
    const T = 12, hd = 8;
    const theta = tf.tensor2d(Array.from({ length: T * hd }, (_, i) => Math.floor(i / hd) * 0.37 * ((i % (hd / 2)) + 1)), [T, hd]);
    const cos = tf.cos(theta) as tf.Tensor2D, sin = tf.sin(theta) as tf.Tensor2D;
    const x = tf.randomNormal([2, 3, T, hd], 0, 1, "float32", 11);
    const dy = tf.randomNormal([2, 3, T, hd], 0, 1, "float32", 12);
    assert.ok(maxDiff(rotary(x, cos, sin), referenceOps.rotary(x, cos, sin)) <= 1e-6);
    const g = tf.grad((t: tf.Tensor) => rotary(t, cos, sin).mul(dy).sum())(x);
    const gRef = tf.grad((t: tf.Tensor) => referenceOps.rotary(t, cos, sin).mul(dy).sum())(x);
    assert.ok(maxDiff(g, gRef) <= 1e-6, `grad ${maxDiff(g, gRef)}`);
    assert.throws(() => rotary(x, cos.slice([0, 0], [T - 1, hd]) as tf.Tensor2D, sin), /rotary: x \[2,3,12,8\] needs cos\/sin of shape \[12, 8\]/);
  });
});

test("tensorflow's Reshape with cached shape tensors gives what a fresh reshape gives (float, int, bool, -1, repeated shapes)", { skip: !backendsUnderTest().includes("tensorflow") && "tfjs-node not installed" }, async () => {
  await useBackend("tensorflow");
  for (let round = 0; round < 2; round++) { // the second round reuses every cached shape
    tf.tidy(() => {
      const x = tf.range(0, 24, 1, "float32"), i = tf.range(0, 24, 1, "int32"), b = i.greater(11);
      for (const shape of [[2, 3, 4], [4, -1], [24], [1, 24, 1]]) {
        for (const t of [x, i, b]) {
          const r = t.reshape(shape);
          assert.deepEqual(r.shape, shape.includes(-1) ? [4, 6] : shape);
          assert.equal(r.dtype, t.dtype);
          assert.deepEqual(Array.from(r.dataSync()), Array.from(t.dataSync()));
        }
      }
    });
  }
  assert.throws(() => tf.zeros([6]).reshape([4, 2]), /6 values, but the requested shape has 8/);
});
