import * as tf from "@tensorflow/tfjs";

/** A tensor the optimizers update, and which rule applies (the model's params have this shape). */
export interface TrainableParam {
  name: string;
  variable: tf.Variable;
  /** head: Adam lr 1/320; embed (token and value embeddings): Adam lr 0.3; scalar: Adam lr 0.015; hidden: Muon. */
  group: "head" | "embed" | "scalar" | "hidden";
  /** MLP matrices get the Muon weight-decay multiplier (×2). */
  mlp: boolean;
}

/** A tensor's values as plain data (checkpoints). */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A parameter's gradient from `grads`, keyed by the tf variable's name (what tf.variableGrads returns)
 * or by the parameter's name (what GPT.lossAndGrads returns).
 */
export function gradOf(grads: Record<string, tf.Tensor>, p: TrainableParam, who: string): tf.Tensor {
  const g = grads[p.variable.name] ?? grads[p.name];
  if (!g) throw new Error(`${who}: no gradient for "${p.name}"`);
  if (g.size !== p.variable.size) throw new Error(`${who}: gradient for "${p.name}" has shape [${g.shape}], the parameter [${p.variable.shape}]`);
  return g;
}
