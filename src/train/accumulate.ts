// Gradient accumulation: one optimizer step over several micro-batches. Each micro-batch's loss is
// the mean over its tokens; equal-sized micro-batches make the big batch's loss and gradients the
// mean of theirs, so the update is the big batch's up to float32 rounding.
import * as tf from "@tensorflow/tfjs";
import type { Activations, GPT } from "../model";

/**
 * Loss (a scalar tensor, not read, so GPU backends do not stall) and the gradient of every parameter
 * of `sequences` rows of seqLen tokens, computed `microSequences` rows at a time. The caller disposes both.
 */
export function accumulatedLossAndGrads(
  model: GPT, inputs: Int32Array, targets: Int32Array, sequences: number, seqLen: number, microSequences: number, activations: Activations = "keep",
): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  if (!(Number.isInteger(microSequences) && microSequences > 0 && sequences % microSequences === 0)) {
    throw new Error(`gradient accumulation: micro-batches of ${microSequences} sequences must divide the batch of ${sequences}`);
  }
  const parts = sequences / microSequences, n = microSequences * seqLen;
  let loss: tf.Scalar | null = null;
  let grads: Record<string, tf.Tensor> | null = null;
  for (let i = 0; i < parts; i++) {
    const x = tf.tensor2d(inputs.subarray(i * n, (i + 1) * n), [microSequences, seqLen], "int32");
    const y = tf.tensor2d(targets.subarray(i * n, (i + 1) * n), [microSequences, seqLen], "int32");
    const part = model.lossAndGrads(x, y, activations);
    tf.dispose([x, y]);
    if (loss === null || grads === null) {
      [loss, grads] = [part.loss, part.grads];
      continue;
    }
    const sum: tf.Scalar = loss.add(part.loss);
    tf.dispose([loss, part.loss]);
    loss = sum;
    for (const name of Object.keys(grads)) {
      const g = grads[name].add(part.grads[name]);
      tf.dispose([grads[name], part.grads[name]]);
      grads[name] = g;
    }
  }
  if (parts === 1) return { loss: loss!, grads: grads! };
  const mean = (t: tf.Tensor) => { const m = t.div(parts); t.dispose(); return m; };
  return { loss: mean(loss!) as tf.Scalar, grads: Object.fromEntries(Object.entries(grads!).map(([k, g]) => [k, mean(g)])) };
}
