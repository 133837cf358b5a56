// What the trainer needs from an optimizer (the agreed src/optim interface), and the default one.
import type * as tf from "@tensorflow/tfjs";
import type { ModelParam } from "../model";
import { SpeedrunOptimizer } from "../optim";

export interface StepOptimizer {
  /** grads keyed by parameter name; step is 0-based, as the speedrun's lr schedule counts. */
  step(grads: Record<string, tf.Tensor>, step: number, totalSteps: number): void;
  getState(): Record<string, { shape: number[]; data: Float32Array }>;
  /** Non-blocking getState; needed on GPU backends, where tensors cannot be read synchronously. */
  getStateAsync?(): Promise<Record<string, { shape: number[]; data: Float32Array }>>;
  setState(state: Record<string, { shape: number[]; data: Float32Array }>): void;
  dispose(): void;
}

export interface OptimizerSettings {
  lrMult: number;
  cooldownFrac: number;
}

export type OptimizerFactory = (params: ModelParam[], settings: OptimizerSettings) => StepOptimizer;

/** The speedrun's Muon + Adam (src/optim), every lr scaled by lrMult. */
export const speedrunOptimizer: OptimizerFactory = (params, settings) =>
  new SpeedrunOptimizer(params, { lrMultiplier: settings.lrMult, cooldownFrac: settings.cooldownFrac });
