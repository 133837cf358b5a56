// The hot elementwise chains of the model, behind one seam so the engine can swap in fused kernels
// (with their own gradients) without touching the model. These are the reference definitions.
import * as tf from "@tensorflow/tfjs";
import { SPARSE_XENT } from "./tensorflow";

/** PyTorch's F.rms_norm default eps for float32 (torch.finfo(float32).eps). */
export const RMS_EPS = 1.1920928955078125e-7;

/** x / sqrt(mean(x², last axis) + eps), no learned gain (modded-nanogpt's norm). Reference composite. */
function rmsNormReference(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(RMS_EPS))));
}

/** relu(x)², the MLP activation. Reference composite. */
function reluSquaredReference(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu(x).square());
}

/** Mean cross-entropy of soft-capped logits: cap·l/sqrt(l² + cap²). logits [N, V], targets [N] int32. Reference composite. */
function softcapCrossEntropyReference(logits: tf.Tensor2D, targets: tf.Tensor1D, cap: number): tf.Scalar {
  return tf.tidy(() => {
    const capped = logits.mul(cap).div(tf.sqrt(logits.square().add(cap * cap)));
    const logp = tf.logSoftmax(capped);
    const picked = tf.mul(logp, tf.oneHot(targets, logits.shape[1]));
    return picked.sum().neg().div(logits.shape[0]) as tf.Scalar;
  });
}

/** The reference definitions, kept for tests of any fused replacement. */
export const referenceOps = {
  rmsNorm: rmsNormReference, reluSquared: reluSquaredReference, softcapCrossEntropy: softcapCrossEntropyReference,
  rotary: (x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D) => rotaryReference(x, cos, sin),
} as const;

/**
 * rmsNorm with a hand-written gradient: autograd of the composite records ~10 backward kernels and
 * keeps x², its mean and the broadcast intermediates alive; here y = x·r with r = rsqrt(mean(x²)+eps)
 * and dx = r·(dy − y·mean(dy·y)), saving only y and r.
 */
export const rmsNorm: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x, save) => {
  const r = tf.rsqrt((x as tf.Tensor).square().mean(-1, true).add(RMS_EPS));
  const y = (x as tf.Tensor).mul(r);
  (save as tf.GradSaveFunc)([y, r]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [ys, rs] = saved;
      return (dy as tf.Tensor).sub(ys.mul((dy as tf.Tensor).mul(ys).mean(-1, true))).mul(rs);
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * relu(x)² with a hand-written gradient: autograd records square's and relu's backward (4 kernels,
 * keeping x and relu(x)); here dx = dy·(2·relu(x)), the same products in the same order, so the
 * result is bit-identical to the composite's (where x ≤ 0 both are 0).
 */
export const reluSquared: (x: tf.Tensor) => tf.Tensor = tf.customGrad((x, save) => {
  const r = tf.relu(x as tf.Tensor);
  (save as tf.GradSaveFunc)([r]);
  return { value: r.square(), gradFunc: (dy, [rs]) => (dy as tf.Tensor).mul(rs.mul(2)) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * The JS-fused paths run on wasm, the CPU training backend, where a dataSync is a copy and no stall.
 * Elsewhere the reference composites run: GPU backends would stall, and the cpu backend stays the
 * plain reference that the wasm path is tested against.
 */
function onHostBackend(): boolean {
  return tf.getBackend() === "wasm";
}

/**
 * Mean cross-entropy of soft-capped logits without a one-hot over the vocabulary: per row
 * z = cap·l/√(l²+cap²), loss = logsumexp(z) − z[target], and the gradient
 * dL/dl = (softmax(z) − onehot)·cap³/(l²+cap²)^1.5 / N is computed with the loss and saved, so the
 * backward pass is one multiply. On wasm the pass runs in JS (float64 inside, float32 out); on
 * tensorflow TensorFlow's SparseSoftmaxCrossEntropyWithLogits does the softmax part in one kernel;
 * elsewhere (cpu, webgpu) the reference composite runs.
 * Targets must lie in [0, V): checked here on wasm and tensorflow (the composite's one-hot silently
 * gives backend-dependent values otherwise, and TensorFlow on CUDA gives NaN).
 */
export function softcapCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, cap: number): tf.Scalar {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "tensorflow") return softcapCrossEntropyReference(logits, targets, cap);
  const [N, V] = logits.shape;
  if (targets.shape[0] !== N) throw new Error(`softcapCrossEntropy: ${N} rows of logits but ${targets.shape[0]} targets`);
  const t = targets.dataSync();
  for (let i = 0; i < N; i++) {
    if (!(t[i] >= 0 && t[i] < V)) throw new Error(`softcapCrossEntropy: target ${t[i]} of row ${i} is not a class in [0, ${V})`);
  }
  return backend === "wasm" ? softcapCrossEntropyJs(logits, t, cap) : softcapCrossEntropyTensorflow(logits, targets, cap);
}

/** The wasm path: one pass over the logits in JS. */
function softcapCrossEntropyJs(logits: tf.Tensor2D, t: tf.TypedArray, cap: number): tf.Scalar {
  const [N, V] = logits.shape;
  const fused = tf.customGrad((l, save) => {
    const x = (l as tf.Tensor).dataSync() as Float32Array;
    const grad = new Float32Array(N * V);
    const z = new Float64Array(V), dz = new Float64Array(V);
    const cap2 = cap * cap, cap3 = cap2 * cap;
    let total = 0;
    for (let i = 0; i < N; i++) {
      const row = i * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) {
        const v = x[row + j], s = 1 / Math.sqrt(v * v + cap2);
        z[j] = cap * v * s;
        dz[j] = cap3 * s * s * s;
        if (z[j] > max) max = z[j];
      }
      const target = t[i];
      total -= z[target];
      let sum = 0;
      for (let j = 0; j < V; j++) { z[j] = Math.exp(z[j] - max); sum += z[j]; } // z now holds exp(z − max)
      total += Math.log(sum) + max;
      const invSum = 1 / sum;
      for (let j = 0; j < V; j++) grad[row + j] = (z[j] * invSum * dz[j]) / N;
      grad[row + target] = ((z[target] * invSum - 1) * dz[target]) / N;
    }
    const g = tf.tensor2d(grad, [N, V]);
    (save as tf.GradSaveFunc)([g]);
    return { value: tf.scalar(total / N), gradFunc: (dy, [gs]) => gs.mul(dy as tf.Tensor) };
  });
  return fused(logits) as tf.Scalar;
}

/** The tensorflow path: the soft cap as tensor ops, then TensorFlow's fused sparse softmax cross-entropy. */
function softcapCrossEntropyTensorflow(logits: tf.Tensor2D, targets: tf.Tensor1D, cap: number): tf.Scalar {
  const N = logits.shape[0];
  const fused = tf.customGrad((l, save) => {
    // step by step, freeing each [N, V] intermediate once read: the head's logits are the step's largest tensors
    const inv = tf.tidy(() => tf.rsqrt((l as tf.Tensor).square().add(cap * cap))); // 1/√(l²+cap²)
    const z = tf.tidy(() => (l as tf.Tensor).mul(inv).mul(cap));
    const [rowLoss, softmaxMinusOnehot] = tf.engine().runKernel(SPARSE_XENT, { logits: z, labels: targets }, {}) as tf.Tensor[];
    z.dispose();
    const value = rowLoss.mean();
    const dz = tf.tidy(() => inv.mul(inv).mul(inv).mul(cap * cap * cap / N)); // d(capped)/d(logit), over N
    tf.dispose([rowLoss, inv]);
    const g = softmaxMinusOnehot.mul(dz);
    tf.dispose([softmaxMinusOnehot, dz]);
    (save as tf.GradSaveFunc)([g]);
    return { value, gradFunc: (dy, [gs]) => gs.mul(dy as tf.Tensor) };
  });
  return fused(logits) as tf.Scalar;
}

/** Rotary embedding, reference composite: x·cos + rotateHalf(x)·sin, rotateHalf([x1, x2]) = [x2, −x1]. x [..., T, hd], cos/sin [T, hd]. */
function rotaryReference(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, -1);
    return x.mul(cos).add(tf.concat([x2, x1.neg()], -1).mul(sin));
  });
}

/** y1 = x1·c + x2·s, y2 = x2·c − x1·s per row of hd (transpose = true: the adjoint, for the gradient). */
function rotateRows(x: Float32Array, cos: Float32Array, sin: Float32Array, T: number, hd: number, transpose: boolean): Float32Array {
  const out = new Float32Array(x.length), half = hd / 2, sign = transpose ? -1 : 1;
  for (let base = 0, t = 0; base < x.length; base += hd, t = (t + 1) % T) {
    const tb = t * hd;
    for (let j = 0; j < half; j++) {
      const a = x[base + j], b = x[base + half + j];
      const c1 = cos[tb + j], s1 = sin[tb + j], c2 = cos[tb + half + j], s2 = sin[tb + half + j];
      out[base + j] = a * c1 + sign * b * s1;
      out[base + half + j] = b * c2 - sign * a * s2;
    }
  }
  return out;
}

/**
 * Rotary embedding on [..., T, hd] rows in one pass (one more for the gradient, its transpose:
 * dx1 = dy1·c − dy2·s, dx2 = dy2·c + dy1·s) instead of 4 kernels and a rotate-half matmul each way.
 * On wasm it runs in JS; elsewhere the reference composite runs. cos/sin are constants (no gradient).
 */
export function rotary(x: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor {
  const T = x.shape[x.rank - 2], hd = x.shape[x.rank - 1];
  if (cos.shape[0] !== T || cos.shape[1] !== hd || sin.shape[0] !== T || sin.shape[1] !== hd || hd % 2 !== 0) {
    throw new Error(`rotary: x [${x.shape}] needs cos/sin of shape [${T}, ${hd}] (hd even), got [${cos.shape}] and [${sin.shape}]`);
  }
  if (!onHostBackend()) return rotaryReference(x, cos, sin);
  const c = cos.dataSync() as Float32Array, s = sin.dataSync() as Float32Array;
  const fused = tf.customGrad((xt) => {
    const xs = xt as tf.Tensor;
    return {
      value: tf.tensor(rotateRows(xs.dataSync() as Float32Array, c, s, T, hd, false), xs.shape),
      gradFunc: (dy) => tf.tensor(rotateRows((dy as tf.Tensor).dataSync() as Float32Array, c, s, T, hd, true), xs.shape),
    };
  });
  return fused(x);
}
