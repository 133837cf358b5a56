// Fused ops equal the reference composites (values and gradients) and record fewer kernels.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, rmsNorm, referenceOps } from "../../src/engine";

before(async () => { await initEngine({ backend: "wasm", threads: 2 }); });

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
