// The numerics version: part of every run's identity, so a run trained by different arithmetic is
// never reused. A test pins it to a fingerprint of a few training steps; when a change moves the
// numbers, that test fails until NUMERICS_VERSION is bumped and the fingerprint re-recorded.
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { GPT, modelConfig } from "../model";
import { SpeedrunOptimizer } from "../optim";

/** Bump when training numbers change (kernels, model, optimizer, data order); refactors keep it. */
export const NUMERICS_VERSION = 1;

/** Deterministic token batches (a small LCG), independent of any dataset file. */
function batches(vocab: number, B: number, T: number, n: number): Int32Array[] {
  let s = 12345;
  const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 8; };
  return Array.from({ length: n }, () => Int32Array.from({ length: B * (T + 1) }, () => next() % vocab));
}

/**
 * sha256 (16 hex) of the losses and final weights of `steps` training steps of the smoke model on
 * whatever backend is active. Same arithmetic ⇒ same fingerprint, bit for bit.
 */
export async function numericsFingerprint(steps = 3, B = 2): Promise<{ fingerprint: string; losses: number[] }> {
  const cfg = modelConfig("smoke");
  const T = cfg.seqLen;
  const model = new GPT(cfg, 0);
  const opt = new SpeedrunOptimizer(model.params, { lrMultiplier: 4 });
  const hash = createHash("sha256");
  const losses: number[] = [];
  try {
    for (const [i, seq] of batches(cfg.vocabSize, B, T, steps).entries()) {
      const rows = Array.from({ length: B }, (_, b) => seq.subarray(b * (T + 1), (b + 1) * (T + 1)));
      const x = tf.tensor2d(rows.flatMap((r) => Array.from(r.subarray(0, T))), [B, T], "int32");
      const y = tf.tensor2d(rows.flatMap((r) => Array.from(r.subarray(1))), [B, T], "int32");
      const { loss, grads } = model.lossAndGrads(x, y);
      const l = (await loss.data()) as Float32Array;
      opt.step(grads, i, 100);
      losses.push(l[0]);
      hash.update(Buffer.from(l.buffer, l.byteOffset, l.byteLength));
      tf.dispose([x, y, loss, ...Object.values(grads)]);
    }
    for (const p of model.params) {
      const d = (await p.variable.data()) as Float32Array;
      hash.update(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  return { fingerprint: hash.digest("hex").slice(0, 16), losses };
}
