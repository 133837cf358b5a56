// The speedrun's optimizer pair: Adam for head, embeddings and scalars; Muon for every hidden matrix.
import type * as tf from "@tensorflow/tfjs";
import { Adam } from "./adam";
import { Muon } from "./muon";
import { lrFactor, muonMomentum } from "./schedule";
import { gradOf } from "./types";
import type { StateTensor, TrainableParam } from "./types";

export interface OptimizerConfig {
  /** Multiplies every learning rate (Adam and Muon); FINDINGS §5: 4 was best at the tiny scale. */
  lrMultiplier: number;
  adamLr: { head: number; embed: number; scalar: number };
  adamBetas: [number, number];
  adamEps: number;
  muonLr: number;
  muonWeightDecay: number;
  /** Muon weight-decay multiplier for MLP matrices. */
  mlpWdMul: number;
  muonMomentum: { start: number; end: number; warmupSteps: number };
  /** Fraction of training spent in the linear cooldown to lr 0. */
  cooldownFrac: number;
}

export const SPEEDRUN_OPTIMIZER: OptimizerConfig = {
  lrMultiplier: 1,
  adamLr: { head: 1 / 320, embed: 0.3, scalar: 0.015 },
  adamBetas: [0.8, 0.95],
  adamEps: 1e-10,
  muonLr: 0.025,
  muonWeightDecay: 0.01,
  mlpWdMul: 2,
  muonMomentum: { start: 0.85, end: 0.95, warmupSteps: 300 },
  cooldownFrac: 0.7,
};

export class SpeedrunOptimizer {
  readonly cfg: OptimizerConfig;
  private readonly adam: Adam;
  private readonly muon: Muon;
  private readonly adamLrs: number[];
  private readonly params: TrainableParam[];

  constructor(params: TrainableParam[], cfg: Partial<OptimizerConfig> = {}) {
    this.cfg = { ...SPEEDRUN_OPTIMIZER, ...cfg };
    this.params = params;
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`optimizer: parameter name "${p.name}" appears twice`);
      names.add(p.name);
    }
    const adamParams = params.filter((p) => p.group !== "hidden");
    this.adamLrs = adamParams.map((p) => this.cfg.adamLr[p.group as "head" | "embed" | "scalar"]);
    this.adam = new Adam(adamParams, { beta1: this.cfg.adamBetas[0], beta2: this.cfg.adamBetas[1], eps: this.cfg.adamEps });
    this.muon = new Muon(params.filter((p) => p.group === "hidden"), {
      lr: this.cfg.muonLr, weightDecay: this.cfg.muonWeightDecay, mlpWdMul: this.cfg.mlpWdMul,
    });
  }

  /**
   * Apply one update for training step `step` (0-based) of `totalSteps`. `grads` straight from
   * tf.variableGrads (keyed by variable) or from GPT.lossAndGrads (keyed by parameter name).
   */
  step(grads: Record<string, tf.Tensor>, step: number, totalSteps: number): void {
    const f = lrFactor(step, totalSteps, this.cfg.cooldownFrac) * this.cfg.lrMultiplier;
    const mom = this.cfg.muonMomentum;
    for (const p of this.params) gradOf(grads, p, "optimizer"); // fail before anything is updated
    this.adam.step(grads, this.adamLrs.map((lr) => lr * f));
    this.muon.step(grads, this.cfg.muonLr * f, muonMomentum(step, mom.warmupSteps, mom.start, mom.end));
  }

  getState(): Record<string, StateTensor> {
    return { ...this.adam.getState(), ...this.muon.getState() };
  }

  /** As getState, read without blocking (GPU backends cannot read synchronously). */
  async getStateAsync(): Promise<Record<string, StateTensor>> {
    return { ...(await this.adam.getStateAsync()), ...(await this.muon.getStateAsync()) };
  }

  setState(state: Record<string, { shape: number[]; data: ArrayLike<number> }>): void {
    this.adam.setState(state);
    this.muon.setState(state);
  }

  dispose(): void {
    this.adam.dispose();
    this.muon.dispose();
  }
}
