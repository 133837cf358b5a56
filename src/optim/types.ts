import type * as tf from "@tensorflow/tfjs";

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
