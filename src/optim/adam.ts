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
    this.params.forEach((p, i) => tf.tidy(() => { // one parameter at a time: its transients are freed before the next
      const g = gs[i];
      const m = this.m[i].mul(beta1).add(g.mul(1 - beta1));
      const v = this.v[i].mul(beta2).add(g.square().mul(1 - beta2));
      this.m[i].assign(m);
      this.v[i].assign(v);
      const denom = v.sqrt().div(Math.sqrt(bc2)).add(eps);
      p.variable.assign(p.variable.sub(m.div(denom).mul(lrs[i] / bc1)));
    }));
  }

  /** Both moments of every parameter with their state keys, in a fixed order. */
  private moments(): [string, tf.Variable][] {
    return this.params.flatMap((p, i): [string, tf.Variable][] => [[`adam.m.${p.name}`, this.m[i]], [`adam.v.${p.name}`, this.v[i]]]);
  }

  getState(): Record<string, StateTensor> {
    const out: Record<string, StateTensor> = { "adam.t": { shape: [], data: Float32Array.of(this.t) } };
    for (const [key, t] of this.moments()) out[key] = { shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
    return out;
  }

  /** As getState, read without blocking (GPU backends cannot read synchronously). */
  async getStateAsync(): Promise<Record<string, StateTensor>> {
    const out: Record<string, StateTensor> = { "adam.t": { shape: [], data: Float32Array.of(this.t) } };
    const moments = this.moments();
    const data = await Promise.all(moments.map(([, t]) => t.data() as Promise<Float32Array>));
    moments.forEach(([key, t], i) => { out[key] = { shape: [...t.shape], data: Float32Array.from(data[i]) }; });
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
