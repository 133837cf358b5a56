// The hot elementwise chains of the model, behind one seam so the engine can swap in fused kernels
// (with their own gradients) without touching the model. These are the reference definitions.
import * as tf from "@tensorflow/tfjs";

/** PyTorch's F.rms_norm default eps for float32 (torch.finfo(float32).eps). */
export const RMS_EPS = 1.1920928955078125e-7;

/** x / sqrt(mean(x², last axis) + eps), no learned gain (modded-nanogpt's norm). Reference composite. */
function rmsNormReference(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(RMS_EPS))));
}

/** relu(x)², the MLP activation. */
export function reluSquared(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu(x).square());
}

/** Mean cross-entropy of soft-capped logits: cap·l/sqrt(l² + cap²). logits [N, V], targets [N] int32. */
export function softcapCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, cap: number): tf.Scalar {
  return tf.tidy(() => {
    const capped = logits.mul(cap).div(tf.sqrt(logits.square().add(cap * cap)));
    const logp = tf.logSoftmax(capped);
    const picked = tf.mul(logp, tf.oneHot(targets, logits.shape[1]));
    return picked.sum().neg().div(logits.shape[0]) as tf.Scalar;
  });
}

/** The reference definitions, kept for tests of any fused replacement. */
export const referenceOps = { rmsNorm: rmsNormReference, reluSquared, softcapCrossEntropy } as const;

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
