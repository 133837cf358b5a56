// Muon: SGD-momentum whose update is orthogonalized by a quintic Newton-Schulz iteration (NS5).
// Matrices of the same (wide-oriented) shape are stacked and orthogonalized in one batched pass,
// so a step costs a few dozen kernels per shape instead of per matrix.
import * as tf from "@tensorflow/tfjs";
import { gradOf } from "./types";
import type { TrainableParam } from "./types";

/** NS5 coefficient triples (a, b, c), one per iteration, from the speedrun. */
export const NS5_COEFFICIENTS: readonly [number, number, number][] = [
  [4.0848, -6.8946, 2.927],
  [3.9505, -6.3029, 2.6377],
  [3.7418, -5.5913, 2.3037],
  [2.8769, -3.1427, 1.2046],
  [2.8366, -3.0525, 1.2012],
];

/**
 * Approximate orthogonalization (U·S'·Vᵀ with S' near 1) of each matrix in G [..., rows, cols].
 * Works on the wide orientation (rows ≤ cols) and normalizes each matrix by its Frobenius norm + 1e-7.
 */
export function newtonSchulz5(G: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (G.rank < 2) throw new Error(`newtonSchulz5: needs a matrix or a stack of matrices, got shape [${G.shape}]`);
    const r = G.rank;
    const tall = G.shape[r - 2] > G.shape[r - 1];
    const swap = [...Array(r - 2).keys(), r - 1, r - 2];
    let X = tall ? G.transpose(swap) : G;
    X = X.div(X.square().sum([r - 2, r - 1], true).sqrt().add(1e-7)); // spectral norm ≤ 1
    for (const [a, b, c] of NS5_COEFFICIENTS) {
      const prev = X;
      X = tf.tidy(() => { // one iteration's transients at a time: a stack of matrices is the largest tensor of a step
        const A = tf.matMul(prev, prev, false, true);
        const B = A.mul(b).add(tf.matMul(A, A).mul(c));
        return prev.mul(a).add(tf.matMul(B, prev));
      });
      if (prev !== G) prev.dispose();
    }
    return tall ? X.transpose(swap) : X;
  });
}

export interface MuonOptions {
  lr: number;
  weightDecay: number;
  /** Weight-decay multiplier for MLP matrices. */
  mlpWdMul: number;
}

interface Member {
  param: TrainableParam;
  /** Matrices in this parameter (a [3, h, d] tensor holds 3). */
  count: number;
  rows: number;
  cols: number;
  tall: boolean;
  lrScale: number;
  wdMul: number;
}

interface Group {
  rows: number; // wide orientation
  cols: number;
  members: Member[];
  /** Momentum buffers of all members, stacked in the wide orientation: [Σ count, rows, cols]. */
  buf: tf.Variable;
}

export class Muon {
  private readonly groups: Group[] = [];

  constructor(params: TrainableParam[], readonly opts: MuonOptions) {
    const byShape = new Map<string, Member[]>();
    for (const param of params) {
      const shape = param.variable.shape;
      if (shape.length < 2) throw new Error(`Muon: "${param.name}" has shape [${shape}]; Muon needs matrices`);
      const rows = shape[shape.length - 2], cols = shape[shape.length - 1];
      const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const tall = rows > cols;
      const m: Member = {
        param, count, rows, cols, tall,
        lrScale: Math.max(1, rows / cols) ** 0.5, // shape-scaled lr
        wdMul: param.mlp ? opts.mlpWdMul : 1,
      };
      const key = tall ? `${cols}x${rows}` : `${rows}x${cols}`;
      if (!byShape.has(key)) byShape.set(key, []);
      byShape.get(key)!.push(m);
    }
    for (const members of byShape.values()) {
      const rows = Math.min(members[0].rows, members[0].cols), cols = Math.max(members[0].rows, members[0].cols);
      const n = members.reduce((s, m) => s + m.count, 0);
      this.groups.push({ rows, cols, members, buf: tf.tidy(() => tf.variable(tf.zeros([n, rows, cols]), false)) }); // tidy frees the zeros the variable copied
    }
  }

  /** One update. lr already includes the schedule; momentum from muonMomentum. */
  step(grads: Record<string, tf.Tensor>, lr: number, momentum: number): void {
    for (const g of this.groups) for (const m of g.members) gradOf(grads, m.param, "Muon"); // all present before any update
    for (const g of this.groups) {
      tf.tidy(() => { // one shape group at a time: its Newton-Schulz transients are freed before the next
        const parts = g.members.map((m) => {
          const grad = gradOf(grads, m.param, "Muon");
          const stacked = grad.reshape([m.count, m.rows, m.cols]);
          return m.tall ? stacked.transpose([0, 2, 1]) : stacked;
        });
        const G = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
        const buf = g.buf.mul(momentum).add(G.mul(1 - momentum));
        g.buf.assign(buf);
        const U = newtonSchulz5(buf.mul(momentum).add(G.mul(1 - momentum))); // Nesterov-style look-ahead
        const updates = g.members.length === 1 ? [U] : tf.split(U, g.members.map((m) => m.count), 0);
        g.members.forEach((m, k) => {
          const u = (m.tall ? updates[k].transpose([0, 2, 1]) : updates[k]).reshape(m.param.variable.shape);
          const w = m.param.variable;
          // decoupled weight decay scaled by the (scheduled) lr, as the speedrun does
          w.assign(w.mul(1 - lr * this.opts.weightDecay * m.wdMul).sub(u.mul(lr * m.lrScale)));
        });
      });
    }
  }

  /** Momentum per parameter, unstacked into the parameter's own shape, with its state key (the caller disposes the tensors). */
  private momentumByParam(): [string, tf.Tensor][] {
    const keys = this.groups.flatMap((g) => g.members.map((m) => `muon.momentum.${m.param.name}`));
    const tensors = tf.tidy(() => this.groups.flatMap((g) => {
      const parts = g.members.length === 1 ? [g.buf] : tf.split(g.buf, g.members.map((m) => m.count), 0);
      return g.members.map((m, k) => (m.tall ? parts[k].transpose([0, 2, 1]) : parts[k]).reshape(m.param.variable.shape));
    }));
    return keys.map((key, i) => [key, tensors[i]]);
  }

  /** Momentum buffers, one per parameter (in its own shape), independent of the stacking. */
  getState(): Record<string, { shape: number[]; data: Float32Array }> {
    const entries = this.momentumByParam();
    try {
      return Object.fromEntries(entries.map(([key, t]) => [key, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
    } finally {
      tf.dispose(entries.map(([, t]) => t));
    }
  }

  /** As getState, read without blocking (GPU backends cannot read synchronously). */
  async getStateAsync(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const entries = this.momentumByParam();
    try {
      const data = await Promise.all(entries.map(([, t]) => t.data() as Promise<Float32Array>));
      return Object.fromEntries(entries.map(([key, t], i) => [key, { shape: [...t.shape], data: Float32Array.from(data[i]) }]));
    } finally {
      tf.dispose(entries.map(([, t]) => t));
    }
  }

  setState(state: Record<string, { shape: number[]; data: ArrayLike<number> }>): void {
    tf.tidy(() => {
      for (const g of this.groups) {
        const parts = g.members.map((m) => {
          const key = `muon.momentum.${m.param.name}`, s = state[key];
          if (!s) throw new Error(`Muon.setState: missing "${key}"`);
          if (s.data.length !== m.param.variable.size) throw new Error(`Muon.setState: "${key}" has ${s.data.length} values, expected ${m.param.variable.size}`);
          const t = tf.tensor(Float32Array.from(s.data), [m.count, m.rows, m.cols]);
          return m.tall ? t.transpose([0, 2, 1]) : t;
        });
        g.buf.assign(parts.length === 1 ? parts[0] : tf.concat(parts, 0));
      }
    });
  }

  dispose(): void {
    for (const g of this.groups) g.buf.dispose();
  }
}
