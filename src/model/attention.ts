// Sliding-window attention by key blocks: each block of queries attends only to the key blocks that
// its window reaches, so memory and work are O(T·W), never T×T. Masks (causal, same document, window)
// are built on the device from the tokens. Long sequences run in chunks of query blocks with a
// hand-written backward that recomputes each chunk, so only q, k, v are kept per layer.
import * as tf from "@tensorflow/tfjs";

/** The speedrun's key-block size (FlexAttention's BLOCK_SIZE). */
export const ATTENTION_BLOCK = 128;
/** Score entries (B·H·queries·keys) per chunk of the recomputing path: bounds its working memory (256 MiB of fp32). */
export const CHUNK_SCORE_ENTRIES = 1 << 26;
const MASKED = -1e9;

/**
 * Which keys a query sees besides causality and its document:
 * tokens: q − k < size (a token-level sliding window, tiny/smoke);
 * blocks: block(q) − block(k) < size (whole 128-token blocks, as the speedrun's block masks).
 */
export type AttentionWindow = { unit: "tokens"; size: number } | { unit: "blocks"; size: number };

export interface WindowedAttentionOptions {
  window: AttentionWindow;
  /** Constant score scale. */
  scale: number;
  /** Key/query block size; default ATTENTION_BLOCK (capped at T). */
  blockSize?: number;
  /**
   * "plain": autograd over all blocks at once (keeps every chunk's probabilities for the backward);
   * a number: the recomputing path with that many query blocks per chunk. Default: plain when the
   * sequence is one block, else recomputing with as many blocks per chunk as CHUNK_SCORE_ENTRIES allows.
   */
  chunkBlocks?: number | "plain";
}

/** Document index of every position, [B, T] float32: a document starts at its EOT token (inclusive cumsum). */
export function documentIds(tokens: tf.Tensor2D, eotToken: number | null): tf.Tensor2D | null {
  if (eotToken === null) return null;
  return tf.tidy(() => tf.cumsum(tf.equal(tokens, eotToken).toFloat(), 1) as tf.Tensor2D);
}

/** Query blocks per chunk of the recomputing path: as many as keep a chunk's scores within CHUNK_SCORE_ENTRIES. */
export function defaultChunkBlocks(B: number, H: number, bs: number, nw: number): number {
  return Math.max(1, Math.floor(CHUNK_SCORE_ENTRIES / (B * H * bs * nw * bs)));
}

/** Geometry shared by the paths: block size, blocks, key blocks per query block (the band). */
export function bandGeometry(T: number, window: AttentionWindow, blockSize = ATTENTION_BLOCK) {
  if (!(Number.isInteger(window.size) && window.size > 0)) throw new Error(`windowed attention: window size must be a positive integer, got ${window.size}`);
  const bs = Math.min(blockSize, T);
  const nB = Math.ceil(T / bs);
  const reach = window.unit === "tokens" ? Math.ceil((window.size - 1) / bs) + 1 : window.size;
  return { bs, nB, nw: Math.min(nB, reach), paddedT: nB * bs };
}

/**
 * Additive bias (0 or −1e9) for query blocks [c0, c1) against their band of nw key blocks, as
 * [B|1, 1, (c1−c0)·bs, nw·bs]. Slot s of query block i is key position (i − nw + 1)·bs + s.
 * Everything stays rank ≤ 4 (the webgpu backend's pad and slice shaders stop at rank 4).
 */
function bandBias(docs: tf.Tensor2D | null, c0: number, c1: number, nw: number, bs: number, window: AttentionWindow): tf.Tensor {
  return tf.tidy(() => {
    const nc = c1 - c0;
    const qpos = tf.range(c0 * bs, c1 * bs, 1, "int32").reshape([nc, bs, 1]);
    const kpos = tf.range(c0, c1, 1, "int32").mul(bs).reshape([nc, 1, 1])
      .add(tf.range((1 - nw) * bs, bs, 1, "int32").reshape([1, 1, nw * bs])); // [nc, 1, nw·bs]
    let allowed = tf.logicalAnd(tf.lessEqual(kpos, qpos), tf.greaterEqual(kpos, 0));
    const inWindow = window.unit === "tokens"
      ? tf.less(tf.sub(qpos, kpos), window.size)
      : tf.less(tf.sub(tf.floorDiv(qpos, bs), tf.floorDiv(tf.maximum(kpos, 0), bs)), window.size);
    allowed = tf.logicalAnd(allowed, inWindow).reshape([1, nc, bs, nw * bs]);
    if (docs !== null) {
      const B = docs.shape[0], T = docs.shape[1];
      const qdoc = tf.gather(docs, tf.clipByValue(qpos, 0, T - 1).toInt().reshape([-1]), 1).reshape([B, nc, bs, 1]);
      const kdoc = tf.gather(docs, tf.clipByValue(kpos, 0, T - 1).toInt().reshape([-1]), 1).reshape([B, nc, 1, nw * bs]);
      allowed = tf.logicalAnd(allowed, tf.equal(qdoc, kdoc));
    }
    return allowed.toFloat().sub(1).mul(-MASKED).reshape([allowed.shape[0], 1, nc * bs, nw * bs]); // allowed → 0, masked → −1e9
  });
}

/** The band of key blocks for query blocks [c0, c1) of x [B, H, nB·bs, hd]: [B·H·(c1−c0), nw·bs, hd]. */
function band(x: tf.Tensor4D, c0: number, c1: number, nw: number, bs: number): tf.Tensor3D {
  const [B, H, , hd] = x.shape, nc = c1 - c0;
  if (nw === 1) return x.slice([0, 0, c0 * bs, 0], [B, H, nc * bs, hd]).reshape([B * H * nc, bs, hd]);
  // rows [(c0 − nw + 1)·bs, c1·bs), zero rows before position 0
  const start = (c0 - nw + 1) * bs, lead = Math.max(0, -start);
  let rows = x.slice([0, 0, start + lead, 0], [B, H, c1 * bs - start - lead, hd]);
  if (lead > 0) rows = rows.pad([[0, 0], [0, 0], [lead, 0], [0, 0]]);
  // slot j of query block i is block i + j of the rows
  const slots = Array.from({ length: nw }, (_, j) => rows.slice([0, 0, j * bs, 0], [B, H, nc * bs, hd]).reshape([B * H * nc, bs, hd]));
  return tf.concat(slots, 1) as tf.Tensor3D;
}

/** The gradient of band(): [B·H·nc, nw·bs, hd] back onto rows [(c0 − nw + 1)·bs, c1·bs), as [B, H, (nc+nw−1)·bs, hd]. */
function unband(g: tf.Tensor, B: number, H: number, nc: number, nw: number, bs: number): tf.Tensor4D {
  const hd = g.shape[2] as number;
  let sum: tf.Tensor | null = null;
  for (let j = 0; j < nw; j++) {
    const piece = g.slice([0, j * bs, 0], [B * H * nc, bs, hd]).reshape([B, H, nc * bs, hd])
      .pad([[0, 0], [0, 0], [j * bs, (nw - 1 - j) * bs], [0, 0]]);
    sum = sum === null ? piece : sum.add(piece);
  }
  return sum as tf.Tensor4D;
}

/** Attention of query blocks [c0, c1) over their bands: scores, softmax, values, with the batch as B·H·nc rank-3 matmuls. */
function chunkForward(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor, c0: number, c1: number, nw: number, bs: number, scale: number) {
  const [B, H, , hd] = q.shape, nc = c1 - c0;
  const qc = q.slice([0, 0, c0 * bs, 0], [B, H, nc * bs, hd]).reshape([B * H * nc, bs, hd]);
  const kb = band(k, c0, c1, nw, bs), vb = band(v, c0, c1, nw, bs);
  const scores = tf.matMul(qc.mul(scale), kb, false, true).reshape([B, H, nc * bs, nw * bs]).add(bias);
  const probs = tf.softmax(scores).reshape([B * H * nc, bs, nw * bs]);
  return { qc, kb, vb, probs, out: tf.matMul(probs, vb) }; // out [B·H·nc, bs, hd]
}

function padRows(x: tf.Tensor4D, rows: number): tf.Tensor4D {
  return rows === 0 ? x : x.pad([[0, 0], [0, 0], [0, rows], [0, 0]]);
}

/**
 * softmax(scale·q·kᵀ + mask)·v with the window, causal and document masks, for q, k, v [B, H, T, hd]
 * and docs [B, T] (documentIds) or null. Never forms a T×T tensor.
 */
export function windowedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, docs: tf.Tensor2D | null, opts: WindowedAttentionOptions): tf.Tensor4D {
  const [B, H, T, hd] = q.shape;
  const { bs, nB, nw, paddedT } = bandGeometry(T, opts.window, opts.blockSize);
  const scale = opts.scale;
  const chunk = opts.chunkBlocks ?? (nB === 1 ? "plain" : defaultChunkBlocks(B, H, bs, nw));
  if (chunk !== "plain" && !(Number.isInteger(chunk) && chunk > 0)) throw new Error(`windowed attention: chunkBlocks must be "plain" or a positive integer, got ${chunk}`);
  const pad = paddedT - T;
  const docsP = docs === null || pad === 0 ? docs : tf.concat([docs, tf.fill([B, pad], -1)], 1) as tf.Tensor2D;

  if (chunk === "plain") {
    // One chunk, plain autograd: for T ≤ one block this is exactly the dense computation (same kernels, same order).
    const bias = bandBias(docsP, 0, nB, nw, bs, opts.window);
    const [qp, kp, vp] = [q, k, v].map((x) => padRows(x, pad));
    const { out } = chunkForward(qp, kp, vp, bias, 0, nB, nw, bs, scale);
    const y = out.reshape([B, H, paddedT, hd]) as tf.Tensor4D;
    return pad === 0 ? y : y.slice([0, 0, 0, 0], [B, H, T, hd]);
  }

  const ranges: [number, number][] = [];
  for (let c0 = 0; c0 < nB; c0 += chunk) ranges.push([c0, Math.min(nB, c0 + chunk)]);
  const docsInput = docsP ?? tf.zeros([B, paddedT]);
  // Recomputing path: the forward keeps only q, k, v (and the document ids); the backward redoes each chunk.
  const attend = tf.customGrad((qi, ki, vi, di, save) => {
    const [qp, kp, vp] = [qi, ki, vi].map((x) => padRows(x as tf.Tensor4D, pad));
    const d = docsP === null ? null : (di as tf.Tensor2D);
    const outs = ranges.map(([c0, c1]) => tf.tidy(() => {
      const { out } = chunkForward(qp, kp, vp, bandBias(d, c0, c1, nw, bs, opts.window), c0, c1, nw, bs, scale);
      return out.reshape([B, H, (c1 - c0) * bs, hd]);
    }));
    (save as tf.GradSaveFunc)([qp, kp, vp, di as tf.Tensor]);
    const y = tf.concat(outs, 2) as tf.Tensor4D;
    return {
      value: pad === 0 ? y : y.slice([0, 0, 0, 0], [B, H, T, hd]),
      gradFunc: (dy, saved) => {
        const [qs, ks, vs, ds] = saved as tf.Tensor4D[];
        const dyP = padRows(dy as tf.Tensor4D, pad);
        const d = docsP === null ? null : (ds as unknown as tf.Tensor2D);
        const dqs: tf.Tensor[] = [];
        // dk, dv over rows shifted by (nw − 1)·bs: a chunk's band starts that far before its queries
        let dkAll: tf.Tensor = tf.zeros([B, H, (nB + nw - 1) * bs, hd]), dvAll: tf.Tensor = tf.zeros([B, H, (nB + nw - 1) * bs, hd]);
        for (const [c0, c1] of ranges) {
          const nc = c1 - c0;
          const [dq, dk, dv] = tf.tidy(() => {
            const { qc, kb, vb, probs } = chunkForward(qs, ks, vs, bandBias(d, c0, c1, nw, bs, opts.window), c0, c1, nw, bs, scale);
            const dout = dyP.slice([0, 0, c0 * bs, 0], [B, H, nc * bs, hd]).reshape([B * H * nc, bs, hd]);
            const dvb = tf.matMul(probs, dout, true, false); // [B·H·nc, nw·bs, hd]
            const dp = tf.matMul(dout, vb, false, true); // [B·H·nc, bs, nw·bs]
            const ds = probs.mul(dp.sub(dp.mul(probs).sum(-1, true))).mul(scale); // softmax backward, times the scale
            const dqc = tf.matMul(ds, kb).reshape([B, H, nc * bs, hd]);
            const dkb = tf.matMul(ds, qc, true, false);
            const place = (g: tf.Tensor) => unband(g, B, H, nc, nw, bs).pad([[0, 0], [0, 0], [c0 * bs, (nB - c1) * bs], [0, 0]]);
            return [dqc, place(dkb), place(dvb)];
          });
          dqs.push(dq);
          const [nk, nv] = [dkAll.add(dk), dvAll.add(dv)];
          tf.dispose([dkAll, dvAll, dk, dv]);
          [dkAll, dvAll] = [nk, nv];
        }
        const unpad = (g: tf.Tensor) => g.slice([0, 0, 0, 0], [B, H, T, hd]);
        const dqP = tf.concat(dqs, 2);
        const lead = (nw - 1) * bs;
        const dkP = dkAll.slice([0, 0, lead, 0], [B, H, paddedT, hd]), dvP = dvAll.slice([0, 0, lead, 0], [B, H, paddedT, hd]);
        return [unpad(dqP), unpad(dkP), unpad(dvP), tf.zerosLike(ds)];
      },
    };
  });
  return attend(q, k, v, docsInput) as tf.Tensor4D;
}

/**
 * The dense reference: the same masks as a [B, 1, T, T] bias over all T×T scores. For tests and
 * short sequences only.
 */
export function denseAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, docs: tf.Tensor2D | null, opts: WindowedAttentionOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const T = q.shape[2], bs = Math.min(opts.blockSize ?? ATTENTION_BLOCK, T);
    const qpos = tf.range(0, T, 1, "int32").reshape([T, 1]), kpos = tf.range(0, T, 1, "int32").reshape([1, T]);
    let allowed = tf.logicalAnd(tf.lessEqual(kpos, qpos), opts.window.unit === "tokens"
      ? tf.less(tf.sub(qpos, kpos), opts.window.size)
      : tf.less(tf.sub(tf.floorDiv(qpos, bs), tf.floorDiv(kpos, bs)), opts.window.size)).expandDims(0);
    if (docs !== null) allowed = tf.logicalAnd(allowed, tf.equal(docs.expandDims(2), docs.expandDims(1)));
    const bias = allowed.toFloat().sub(1).mul(-MASKED).expandDims(1);
    return tf.matMul(tf.softmax(tf.matMul(q.mul(opts.scale), k, false, true).add(bias)), v) as tf.Tensor4D;
  });
}
