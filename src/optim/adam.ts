// Adam as torch.optim.Adam(W) with weight_decay 0: bias-corrected moments, eps added after the bias correction.
import * as tf from "@tensorflow/tfjs";
import { gradOf } from "./types";
import type { StateTensor, TrainableParam } from "./types";

export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

export class Adam {
  /** Steps taken (torch's `step` state); the bias corrections use it. */
  t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(readonly params: TrainableParam[], readonly opts: AdamOptions) {
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false))); // tidy frees the zeros the variable copied
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  /** One update; lrs[i] is the (scheduled) learning rate of params[i]. */
  step(grads: Record<string, tf.Tensor>, lrs: number[]): void {
    const { beta1, beta2, eps } = this.opts;
    const gs = this.params.map((p) => gradOf(grads, p, "Adam"));
    this.t += 1;
    const bc1 = 1 - beta1 ** this.t, bc2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = gs[i];
        const m = this.m[i].mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[i].mul(beta2).add(g.square().mul(1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const denom = v.sqrt().div(Math.sqrt(bc2)).add(eps);
        p.variable.assign(p.variable.sub(m.div(denom).mul(lrs[i] / bc1)));
      });
    });
  }

  /** As getState, read without blocking (GPU backends cannot read synchronously). */
  async getStateAsync(): Promise<Record<string, StateTensor>> {
    const out: Record<string, StateTensor> = { "adam.t": { shape: [], data: Float32Array.of(this.t) } };
    const m = await Promise.all(this.m.map((t) => t.data() as Promise<Float32Array>));
    const v = await Promise.all(this.v.map((t) => t.data() as Promise<Float32Array>));
    this.params.forEach((p, i) => {
      out[`adam.m.${p.name}`] = { shape: [...p.variable.shape], data: Float32Array.from(m[i]) };
      out[`adam.v.${p.name}`] = { shape: [...p.variable.shape], data: Float32Array.from(v[i]) };
    });
    return out;
  }

  getState(): Record<string, StateTensor> {
    const out: Record<string, StateTensor> = { "adam.t": { shape: [], data: Float32Array.of(this.t) } };
    this.params.forEach((p, i) => {
      out[`adam.m.${p.name}`] = { shape: [...p.variable.shape], data: Float32Array.from(this.m[i].dataSync()) };
      out[`adam.v.${p.name}`] = { shape: [...p.variable.shape], data: Float32Array.from(this.v[i].dataSync()) };
    });
    return out;
  }

  setState(state: Record<string, { shape: number[]; data: ArrayLike<number> }>): void {
    const get = (key: string, size: number) => {
      const s = state[key];
      if (!s) throw new Error(`Adam.setState: missing "${key}"`);
      if (s.data.length !== size) throw new Error(`Adam.setState: "${key}" has ${s.data.length} values, expected ${size}`);
      return Float32Array.from(s.data);
    };
    this.t = get("adam.t", 1)[0];
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        this.m[i].assign(tf.tensor(get(`adam.m.${p.name}`, p.variable.size), p.variable.shape));
        this.v[i].assign(tf.tensor(get(`adam.v.${p.name}`, p.variable.size), p.variable.shape));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
