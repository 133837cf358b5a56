// The modded-nanogpt GPT (GPT-2 Medium track, August 2025) with a configurable value-embedding layout,
// top to bottom in one file. Activations are kept as [N = B·T, dim] rows; heads live in [B, H, T, hd].
import * as tf from "@tensorflow/tfjs";
import { rmsNorm, reluSquared, rotary, softcapCrossEntropy } from "../engine";
import { windowedAttention, denseAttention, documentIds } from "./attention";
import { GPTConfig, paddedVocab, validateConfig, windowsAt } from "./config";
import { parseLayout, tableSlots } from "./layout";

/** One trainable tensor and how the optimizer treats it (structurally the optimizer's TrainableParam). */
export interface ModelParam {
  name: string;
  variable: tf.Variable;
  /** head: Adam lr 1/320; embed: Adam lr 0.3; scalar: Adam lr 0.015; hidden: Muon. */
  group: "head" | "embed" | "scalar" | "hidden";
  /** MLP matrices get twice the Muon weight decay. */
  mlp: boolean;
}

/**
 * The model's learned scalars, one entry per block (index = layer); null where the block does not use
 * that scalar, so charts show no line for a weight that never trains.
 */
export interface LearnedScalars {
  /** λb: weight of the value embedding added to the attention's v (null: the layer reads no table). */
  lambda_ve: (number | null)[];
  /** λa: weight of the attention's own v (null: the layer has no attention). */
  lambda_v: (number | null)[];
  /** λ0: weight of the residual stream entering the block. */
  lambda_x: number[];
  /** λ1: weight of the token embedding x0 mixed back into the block's input. */
  lambda_x0: number[];
  /** Weight of block i's output on its U-net skip (null: block i is no skip source). */
  skip_w: (number | null)[];
}

/** A parameter's values as plain data (weights files, checkpoints). */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Deterministic init: a small counter-based PRNG per parameter name, so the same seed gives the same
// embedding and blocks whatever the layout (adding a table does not shift the other streams).

function hash32(text: string, seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b) >>> 0;
  return fmix32(h);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform floats in [0, 1) from (stream, index): a hash, so any element is reproducible on its own. */
function uniforms(stream: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = fmix32((Math.imul(i, 0x9e3779b1) + stream) >>> 0) / 4294967296;
  return out;
}

function initUniform(name: string, seed: number, shape: number[], bound: number): Float32Array {
  const u = uniforms(hash32(name, seed), shape.reduce((a, b) => a * b, 1));
  return Float32Array.from(u, (x) => (2 * x - 1) * bound);
}

/** Standard normal (Box-Muller over two independent streams), as nn.Embedding's default init. */
function initNormal(name: string, seed: number, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u1 = uniforms(hash32(name + "#1", seed), n), u2 = uniforms(hash32(name + "#2", seed), n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - u1[i])) * Math.cos(2 * Math.PI * u2[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The dense host-built mask of the first version, kept as a reference for tests (attention.ts builds masks on the device).

/**
 * Additive attention bias [B, 1, T, T] (0 = may attend, -1e9 = masked) for one window size:
 * query q sees key k when k ≤ q, q − k < window, and no EOT token lies in (k, q].
 */
export function attentionBias(tokens: Int32Array | number[], B: number, T: number, window: number, eotToken: number | null): tf.Tensor4D {
  const bias = new Float32Array(B * T * T).fill(-1e9);
  const doc = new Int32Array(T);
  for (let b = 0; b < B; b++) {
    let d = 0;
    for (let t = 0; t < T; t++) {
      if (eotToken !== null && tokens[b * T + t] === eotToken) d++; // cumsum: the EOT opens a new document
      doc[t] = d;
    }
    for (let q = 0; q < T; q++) {
      const row = (b * T + q) * T;
      for (let k = Math.max(0, q - window + 1); k <= q; k++) if (doc[k] === doc[q]) bias[row + k] = 0;
    }
  }
  return tf.tensor4d(bias, [B, 1, T, T]);
}

// ---------------------------------------------------------------------------------------------

export interface GPTOptions {
  /** "dense": the T×T reference attention (tests); default "windowed" (key blocks, O(T·W)). */
  attention?: "windowed" | "dense";
  /** Query blocks per chunk of the recomputing attention path (tests); default sized by memory. */
  attentionChunkBlocks?: number | "plain";
}

export class GPT {
  readonly cfg: GPTConfig;
  private readonly opts: GPTOptions;
  /** Training progress for growing windows (a schedule in cfg.windows); null = the final windows. */
  private progress: { step: number; totalSteps: number } | null = null;
  readonly params: ModelParam[] = [];
  /** Per block: which value-embedding table slot it reads, or null. */
  readonly veSlots: (number | null)[];

  private readonly embed: tf.Variable;
  private readonly valueEmbeds: tf.Variable[] = [];
  private readonly qkvW: (tf.Variable | null)[] = [];
  private readonly oW: (tf.Variable | null)[] = [];
  private readonly fcW: tf.Variable[] = [];
  private readonly projW: tf.Variable[] = [];
  private readonly lmHead: tf.Variable;
  /** [skip weights (L) | block λ0, λ1 (2L) | attention λa, λb (2L)], as in the speedrun. */
  private readonly scalars: tf.Variable;
  // rotary tables [seqLen, hd]
  private readonly rotCos: tf.Tensor2D;
  private readonly rotSin: tf.Tensor2D;

  constructor(cfg: GPTConfig, seed = 0, opts: GPTOptions = {}) {
    validateConfig(cfg);
    this.cfg = structuredClone(cfg);
    this.opts = { ...opts };
    const { nLayer: L, dim: D, nHead: H, headDim: hd } = cfg;
    const hdim = H * hd, mlpDim = cfg.mlpRatio * D, Vp = paddedVocab(cfg);
    this.veSlots = tableSlots(parseLayout(cfg.layout, { nLayer: L }));
    const nTables = new Set(this.veSlots.filter((s) => s !== null)).size;

    const add = (name: string, values: Float32Array, shape: number[], group: ModelParam["group"], mlp = false) => {
      const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape))); // unnamed: tfjs names are global, two models may coexist
      this.params.push({ name, variable, group, mlp });
      return variable;
    };
    const linear = (name: string, shape: number[]) => initUniform(name, seed, shape, Math.sqrt(3) * 0.5 * shape[shape.length - 1] ** -0.5);
    const zeros = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));

    this.embed = add("embed", initNormal("embed", seed, [cfg.vocabSize, D]), [cfg.vocabSize, D], "embed");
    for (let t = 0; t < nTables; t++) {
      const name = `value_embeds.${t}`;
      this.valueEmbeds.push(add(name, initNormal(name, seed, [cfg.vocabSize, D]), [cfg.vocabSize, D], "embed"));
    }
    for (let i = 0; i < L; i++) {
      const attn = !cfg.noAttention.includes(i);
      // q, k, v as one [3, hdim, dim] tensor: one matmul, and Muon orthogonalizes each of the 3 separately
      this.qkvW.push(attn ? add(`blocks.${i}.attn.qkv_w`, linear(`blocks.${i}.attn.qkv_w`, [3, hdim, D]), [3, hdim, D], "hidden") : null);
      this.oW.push(attn ? add(`blocks.${i}.attn.o_w`, zeros([D, hdim]), [D, hdim], "hidden") : null); // zero init
      this.fcW.push(add(`blocks.${i}.mlp.fc_w`, linear(`blocks.${i}.mlp.fc_w`, [mlpDim, D]), [mlpDim, D], "hidden", true));
      this.projW.push(add(`blocks.${i}.mlp.proj_w`, zeros([D, mlpDim]), [D, mlpDim], "hidden", true)); // zero init
    }
    this.lmHead = add("lm_head_w", zeros([Vp, D]), [Vp, D], "head"); // untied, zero init
    const scalars = new Float32Array(5 * L);
    for (let i = 0; i < L; i++) {
      scalars[i] = 1; // skip weights
      scalars[L + 2 * i] = 1; // λ0 (x), λ1 (x0) = 0
      scalars[3 * L + 2 * i] = 0.5; // λa (v)
      scalars[3 * L + 2 * i + 1] = 0.5; // λb (value embedding)
    }
    this.scalars = add("scalars", scalars, [5 * L], "scalar");

    // Half-truncated rotary: hd/4 frequencies (1/1024)^linspace(0,1), then hd/4 zeros (those dims don't rotate).
    const half = hd / 2, quarter = hd / 4, T = cfg.seqLen;
    const cos = new Float32Array(T * hd), sin = new Float32Array(T * hd);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < half; j++) {
        const freq = j < quarter ? (1 / 1024) ** (quarter === 1 ? 0 : j / (quarter - 1)) : 0;
        const theta = Math.fround(t * Math.fround(freq));
        cos[t * hd + j] = cos[t * hd + half + j] = Math.cos(theta);
        sin[t * hd + j] = sin[t * hd + half + j] = Math.sin(theta);
      }
    }
    this.rotCos = tf.tensor2d(cos, [T, hd]);
    this.rotSin = tf.tensor2d(sin, [T, hd]);
  }

  /** Sets the step that growing attention windows follow (the trainer calls it before each step and eval). */
  setProgress(step: number, totalSteps: number): void {
    this.progress = { step, totalSteps };
  }

  /** Number of trainable values. */
  numParams(): number {
    return this.params.reduce((n, p) => n + p.variable.size, 0);
  }

  /** Mean cross-entropy of next-token prediction. inputs, targets: [B, T] int32. */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.logits(inputs);
      return softcapCrossEntropy(logits, targets.reshape([-1]).toInt() as tf.Tensor1D, this.cfg.softcap);
    });
  }

  /** Loss and the gradient of every parameter, keyed by parameter name (the caller disposes both). */
  lossAndGrads(inputs: tf.Tensor2D, targets: tf.Tensor2D): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const { value, grads } = tf.variableGrads(() => this.loss(inputs, targets), this.params.map((p) => p.variable));
    return { loss: value, grads: Object.fromEntries(this.params.map((p) => [p.name, grads[p.variable.name]])) };
  }

  /** Raw (not soft-capped) logits over the padded vocabulary: [B·T, paddedVocab]. */
  logits(inputs: tf.Tensor2D): tf.Tensor2D {
    const cfg = this.cfg;
    const [B, T] = inputs.shape;
    if (T > cfg.seqLen) throw new Error(`GPT: sequence length ${T} exceeds the config's seqLen ${cfg.seqLen}`);
    const { nLayer: L, nHead: H, headDim: hd } = cfg;
    return tf.tidy(() => {
      const tokens = inputs.reshape([-1]).toInt() as tf.Tensor1D;
      // document ids on the device, once per batch; each block's attention builds its masks from them
      const docs = documentIds(tokens.reshape([B, T]) as tf.Tensor2D, cfg.eotToken);
      const windows = this.progress ? windowsAt(cfg.windows, this.progress.step, this.progress.totalSteps) : windowsAt(cfg.windows);
      const attend = this.opts.attention === "dense" ? denseAttention : windowedAttention;
      const cos = this.rotCos.slice([0, 0], [T, hd]), sin = this.rotSin.slice([0, 0], [T, hd]);
      // value-embedding lookups, one per table, already in head layout [B, H, T, hd]
      const ve = this.valueEmbeds.map((table) => tf.gather(table, tokens).reshape([B, T, H, hd]).transpose([0, 2, 1, 3]));
      const s = tf.unstack(this.scalars); // one kernel; each λ is then a rank-0 tensor
      const skipW = (i: number) => s[i], lambda = (i: number, j: number) => s[L + 2 * i + j], saLambda = (i: number, j: number) => s[3 * L + 2 * i + j];

      const attention = (x: tf.Tensor2D, i: number): tf.Tensor2D => {
        const qkvW = this.qkvW[i]!, hdim = H * hd;
        const qkv = tf.matMul(x, qkvW.reshape([3 * hdim, cfg.dim]), false, true) // [N, 3·hdim]
          .reshape([B, T, 3 * H, hd]).transpose([0, 2, 1, 3]); // [B, 3H, T, hd]
        const normed = rmsNorm(qkv); // QK-norm and v-norm in one call
        const [qk, v0] = tf.split(normed, [2 * H, H], 1);
        const rotated = rotary(qk, cos, sin);
        const [q, k] = tf.split(rotated, 2, 1);
        const slot = this.veSlots[i];
        const v = slot === null ? v0.mul(saLambda(i, 0)) : v0.mul(saLambda(i, 0)).add(ve[slot].mul(saLambda(i, 1)));
        const w = cfg.windows.longBlocks.includes(i) ? windows.long : windows.short;
        const y = attend(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, docs, {
          window: { unit: w.unit, size: w.size }, blockSize: w.blockSize, scale: cfg.attnScale, chunkBlocks: this.opts.attentionChunkBlocks,
        }) // [B, H, T, hd]
          .transpose([0, 2, 1, 3]).reshape([B * T, hdim]);
        return tf.matMul(y, this.oW[i]!, false, true);
      };
      const mlp = (x: tf.Tensor2D, i: number): tf.Tensor2D =>
        tf.matMul(reluSquared(tf.matMul(x, this.fcW[i], false, true)) as tf.Tensor2D, this.projW[i], false, true);

      const x0 = rmsNorm(tf.gather(this.embed, tokens)) as tf.Tensor2D; // [N, dim]
      let x = x0;
      const outputs: tf.Tensor2D[] = [];
      for (let i = 0; i < L; i++) {
        for (const skip of cfg.skips) if (skip.to === i) x = x.add(outputs[skip.from].mul(skipW(skip.from)));
        x = x.mul(lambda(i, 0)).add(x0.mul(lambda(i, 1)));
        if (this.qkvW[i] !== null) x = x.add(attention(x, i));
        x = x.add(mlp(rmsNorm(x) as tf.Tensor2D, i));
        outputs.push(x);
      }
      return tf.matMul(rmsNorm(x) as tf.Tensor2D, this.lmHead, false, true);
    });
  }

  /** The learned scalars by layer, read without blocking (GPU backends cannot read synchronously). */
  async learnedScalars(): Promise<LearnedScalars> {
    const s = (await this.scalars.data()) as Float32Array;
    const L = this.cfg.nLayer;
    const round = (x: number) => Number(x.toFixed(6)); // float32 holds ~7 digits; evals.jsonl stays short
    const layers = Array.from({ length: L }, (_, i) => i);
    const skipSources = new Set(this.cfg.skips.map((k) => k.from));
    return {
      lambda_ve: layers.map((i) => (this.veSlots[i] === null || this.qkvW[i] === null ? null : round(s[3 * L + 2 * i + 1]))),
      lambda_v: layers.map((i) => (this.qkvW[i] === null ? null : round(s[3 * L + 2 * i]))),
      lambda_x: layers.map((i) => round(s[L + 2 * i])),
      lambda_x0: layers.map((i) => round(s[L + 2 * i + 1])),
      skip_w: layers.map((i) => (skipSources.has(i) ? round(s[i]) : null)),
    };
  }

  /** Every parameter's values, by name, read without blocking (GPU backends cannot read synchronously). */
  async getWeightsAsync(): Promise<Record<string, TensorData>> {
    const data = await Promise.all(this.params.map((p) => p.variable.data() as Promise<Float32Array>));
    const out: Record<string, TensorData> = {};
    this.params.forEach((p, i) => { out[p.name] = { shape: [...p.variable.shape], data: data[i] }; });
    return out;
  }

  /** Every parameter's values, by name. */
  getWeights(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    for (const p of this.params) out[p.name] = { shape: [...p.variable.shape], data: p.variable.dataSync() as Float32Array };
    return out;
  }

  /** Overwrite parameters by name (all of them unless partial); shapes must match. */
  setWeights(weights: Record<string, { shape?: number[]; data: ArrayLike<number> }>, partial = false): void {
    for (const p of this.params) {
      const w = weights[p.name];
      if (!w) {
        if (partial) continue;
        throw new Error(`setWeights: no values for parameter "${p.name}"`);
      }
      if (w.data.length !== p.variable.size || (w.shape && w.shape.join(",") !== p.variable.shape.join(","))) {
        throw new Error(`setWeights: "${p.name}" has shape [${p.variable.shape}] (${p.variable.size} values), got [${w.shape ?? "?"}] (${w.data.length} values)`);
      }
      tf.tidy(() => p.variable.assign(tf.tensor(Float32Array.from(w.data), p.variable.shape)));
    }
    const known = new Set(this.params.map((p) => p.name));
    const unknown = Object.keys(weights).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`setWeights: unknown parameters ${unknown.join(", ")}`);
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
    this.rotCos.dispose();
    this.rotSin.dispose();
  }
}
