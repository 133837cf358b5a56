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

/** How lossAndGrads treats activations: keep them all for the backward, or recompute block by block. */
export type Activations = "keep" | "recompute";

/** Logit entries (rows × padded vocab) per chunk of the recomputing path's output head (256 MiB of fp32). */
export const LOSS_CHUNK_ENTRIES = 1 << 26;

interface ForwardContext {
  B: number;
  T: number;
  tokens: tf.Tensor1D;
  docs: tf.Tensor2D | null;
  windows: ReturnType<typeof windowsAt>;
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/** One block's matrices (attention's are null in a block without attention). */
interface BlockWeights { qkv: tf.Tensor | null; o: tf.Tensor | null; fc: tf.Tensor; proj: tf.Tensor }

export interface GPTOptions {
  /** "dense": the T×T reference attention (tests); default "windowed" (key blocks, O(T·W)). */
  attention?: "windowed" | "dense";
  /** Query blocks per chunk of the recomputing attention path (tests); default sized by memory. */
  attentionChunkBlocks?: number | "plain";
  /** Rows per chunk of the recomputing path's output head (tests); default LOSS_CHUNK_ENTRIES / padded vocab. */
  lossChunkRows?: number;
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

  /**
   * Mean cross-entropy of next-token prediction. inputs, targets: [B, T] int32. activations
   * "recompute" frees each block's working set as it goes and computes the head in row chunks.
   */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D, activations: Activations = "keep"): tf.Scalar {
    if (activations === "recompute") return this.recomputeLossAndGrads(inputs, targets, false).loss;
    return tf.tidy(() => {
      const logits = this.logits(inputs);
      return softcapCrossEntropy(logits, targets.reshape([-1]).toInt() as tf.Tensor1D, this.cfg.softcap);
    });
  }

  /**
   * Loss and the gradient of every parameter, keyed by parameter name (the caller disposes both).
   * activations "keep": one autograd pass that keeps every block's activations for the backward;
   * "recompute": keeps only each block's output, redoes one block at a time in the backward and the
   * output head in row chunks (recomputeLossAndGrads): the same numbers up to float32 rounding.
   */
  lossAndGrads(inputs: tf.Tensor2D, targets: tf.Tensor2D, activations: Activations = "keep"): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    if (activations === "recompute") return this.recomputeLossAndGrads(inputs, targets);
    const { value, grads } = tf.variableGrads(() => this.loss(inputs, targets), this.params.map((p) => p.variable));
    return { loss: value, grads: Object.fromEntries(this.params.map((p) => [p.name, grads[p.variable.name]])) };
  }

  /** Raw (not soft-capped) logits over the padded vocabulary: [B·T, paddedVocab]. */
  logits(inputs: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const ctx = this.forwardContext(inputs);
      const x0 = this.tokenEmbedding(ctx.tokens, this.embed);
      const ve = this.valueEmbeds.map((table) => this.valueEmbedding(ctx, table));
      const s = tf.unstack(this.scalars) as tf.Scalar[]; // one kernel; each λ is then a rank-0 tensor
      let x = x0;
      const outputs: tf.Tensor2D[] = [];
      for (let i = 0; i < this.cfg.nLayer; i++) {
        const slot = this.veSlots[i];
        x = this.block(ctx, i, x, x0, this.skipSources(i).map((from) => outputs[from]), slot === null ? null : ve[slot], s, this.blockWeights(i));
        outputs.push(x);
      }
      return this.head(x, this.lmHead);
    });
  }

  // --- the forward's pieces, each a function of the tensors it differentiates (recomputeLossAndGrads passes them to tf.grads)

  /** What every block reads besides its weights: tokens, document ids, rotary tables, windows (no gradients). */
  private forwardContext(inputs: tf.Tensor2D): ForwardContext {
    const cfg = this.cfg;
    const [B, T] = inputs.shape;
    if (T > cfg.seqLen) throw new Error(`GPT: sequence length ${T} exceeds the config's seqLen ${cfg.seqLen}`);
    const tokens = tf.tidy(() => inputs.reshape([-1]).toInt() as tf.Tensor1D);
    return {
      B, T, tokens,
      // document ids on the device, once per batch; each block's attention builds its masks from them
      docs: cfg.eotToken === null ? null : tf.tidy(() => documentIds(tokens.reshape([B, T]) as tf.Tensor2D, cfg.eotToken) as tf.Tensor2D),
      windows: this.progress ? windowsAt(cfg.windows, this.progress.step, this.progress.totalSteps) : windowsAt(cfg.windows),
      cos: this.rotCos.slice([0, 0], [T, cfg.headDim]), sin: this.rotSin.slice([0, 0], [T, cfg.headDim]),
    };
  }

  /** x0: the normed token embedding, [N, dim]. */
  private tokenEmbedding(tokens: tf.Tensor1D, embed: tf.Tensor): tf.Tensor2D {
    return rmsNorm(tf.gather(embed, tokens)) as tf.Tensor2D;
  }

  /** One table's value-embedding lookup, already in head layout [B, H, T, hd]. */
  private valueEmbedding(ctx: ForwardContext, table: tf.Tensor): tf.Tensor4D {
    const { nHead: H, headDim: hd } = this.cfg;
    return tf.gather(table, ctx.tokens).reshape([ctx.B, ctx.T, H, hd]).transpose([0, 2, 1, 3]);
  }

  /** The blocks whose outputs feed block i through a U-net skip. */
  private skipSources(i: number): number[] {
    return this.cfg.skips.filter((k) => k.to === i).map((k) => k.from);
  }

  private blockWeights(i: number): BlockWeights {
    return { qkv: this.qkvW[i], o: this.oW[i], fc: this.fcW[i], proj: this.projW[i] };
  }

  /**
   * Block i: skips in, the λ0/λ1 mix with x0, attention (with its value embedding ve), MLP. x is the
   * previous block's output (x0 for block 0); skipIns are the outputs of skipSources(i); s the unstacked scalars.
   */
  private block(ctx: ForwardContext, i: number, x: tf.Tensor2D, x0: tf.Tensor2D, skipIns: tf.Tensor2D[], ve: tf.Tensor4D | null, s: tf.Scalar[], w: BlockWeights): tf.Tensor2D {
    const cfg = this.cfg, L = cfg.nLayer;
    this.skipSources(i).forEach((from, k) => { x = x.add(skipIns[k].mul(s[from])); }); // skip weight of the source block
    x = x.mul(s[L + 2 * i]).add(x0.mul(s[L + 2 * i + 1])); // λ0·x + λ1·x0
    if (w.qkv !== null && w.o !== null) x = x.add(this.attention(ctx, i, x, ve, s, w.qkv, w.o));
    return x.add(tf.matMul(reluSquared(tf.matMul(rmsNorm(x) as tf.Tensor2D, w.fc, false, true)) as tf.Tensor2D, w.proj, false, true));
  }

  private attention(ctx: ForwardContext, i: number, x: tf.Tensor2D, ve: tf.Tensor4D | null, s: tf.Scalar[], qkvW: tf.Tensor, oW: tf.Tensor): tf.Tensor2D {
    const cfg = this.cfg, L = cfg.nLayer;
    const { B, T } = ctx, { nHead: H, headDim: hd } = cfg, hdim = H * hd;
    const qkv = tf.matMul(x, qkvW.reshape([3 * hdim, cfg.dim]), false, true) // [N, 3·hdim]
      .reshape([B, T, 3 * H, hd]).transpose([0, 2, 1, 3]); // [B, 3H, T, hd]
    const normed = rmsNorm(qkv); // QK-norm and v-norm in one call
    const [qk, v0] = tf.split(normed, [2 * H, H], 1);
    const [q, k] = tf.split(rotary(qk, ctx.cos, ctx.sin), 2, 1);
    const lambdaV = s[3 * L + 2 * i], lambdaVe = s[3 * L + 2 * i + 1]; // λa, λb
    const v = ve === null ? v0.mul(lambdaV) : v0.mul(lambdaV).add(ve.mul(lambdaVe));
    const w = cfg.windows.longBlocks.includes(i) ? ctx.windows.long : ctx.windows.short;
    const attend = this.opts.attention === "dense" ? denseAttention : windowedAttention;
    const y = attend(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, ctx.docs, {
      window: { unit: w.unit, size: w.size }, blockSize: w.blockSize, scale: cfg.attnScale, chunkBlocks: this.opts.attentionChunkBlocks,
    }) // [B, H, T, hd]
      .transpose([0, 2, 1, 3]).reshape([B * T, hdim]);
    return tf.matMul(y, oW, false, true);
  }

  /** Logits of the last block's output x: [rows, paddedVocab]. */
  private head(x: tf.Tensor2D, lmHead: tf.Tensor): tf.Tensor2D {
    return tf.matMul(rmsNorm(x) as tf.Tensor2D, lmHead, false, true);
  }

  /**
   * lossAndGrads with activation recomputation, for sequences whose activations do not fit (the
   * planner decides): forward keeping only block outputs, the head's loss and gradient in row
   * chunks, then each block redone under tf.grads, last to first, with the gradient of its output.
   */
  private recomputeLossAndGrads(inputs: tf.Tensor2D, targets: tf.Tensor2D, withGrads = true): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const cfg = this.cfg, L = cfg.nLayer;
    const ctx = this.forwardContext(inputs);
    const ve = tf.tidy(() => this.valueEmbeds.map((table) => this.valueEmbedding(ctx, table)));
    const x0 = tf.tidy(() => this.tokenEmbedding(ctx.tokens, this.embed));
    const outputs = this.blockOutputs(ctx, x0, ve);
    const flatTargets = tf.tidy(() => targets.reshape([-1]).toInt() as tf.Tensor1D);
    const head = this.chunkedHead(outputs[L - 1], flatTargets, withGrads);
    flatTargets.dispose();
    const disposeForward = () => tf.dispose([...ve, x0, ctx.tokens, ctx.cos, ctx.sin, ...(ctx.docs ? [ctx.docs] : [])]);
    if (!withGrads) { // the loss alone (evaluation)
      tf.dispose(outputs);
      disposeForward();
      return { loss: head.loss, grads: {} };
    }
    const grads: Record<string, tf.Tensor> = { lm_head_w: head.dLmHead! };
    const dOut: (tf.Tensor | null)[] = Array(L).fill(null); // gradient of each block's output, summed over its readers
    dOut[L - 1] = head.dx!;
    let dx0: tf.Tensor = tf.zerosLike(x0), dScalars: tf.Tensor = tf.zerosLike(this.scalars);
    const dVe: (tf.Tensor | null)[] = ve.map(() => null);
    const addTo = (acc: tf.Tensor | null, g: tf.Tensor): tf.Tensor => { if (acc === null) return g; const sum = acc.add(g); tf.dispose([acc, g]); return sum; };
    for (let i = L - 1; i >= 0; i--) {
      const w = this.blockWeights(i), sources = this.skipSources(i);
      const slot = w.qkv === null ? null : this.veSlots[i]; // a block without attention reads no table
      // block 0 reads x0 as its input too: pass it once (tf.grads sums a tensor's uses into one gradient)
      const lead = i === 0 ? [x0, this.scalars] : [outputs[i - 1], x0, this.scalars];
      const weights = [w.qkv, w.o, w.fc, w.proj].filter((t): t is tf.Variable => t !== null);
      const args: tf.Tensor[] = [...lead, ...sources.map((from) => outputs[from]), ...(slot === null ? [] : [ve[slot]]), ...weights];
      const g = tf.grads((...a: tf.Tensor[]) => {
        const [xa, x0a, sa] = i === 0 ? [a[0], a[0], a[1]] : a;
        const skipIns = a.slice(lead.length, lead.length + sources.length), vea = slot === null ? null : a[lead.length + sources.length];
        const wa = a.slice(args.length - weights.length);
        const bw: BlockWeights = w.qkv === null ? { qkv: null, o: null, fc: wa[0], proj: wa[1] } : { qkv: wa[0], o: wa[1], fc: wa[2], proj: wa[3] };
        return this.block(ctx, i, xa as tf.Tensor2D, x0a as tf.Tensor2D, skipIns as tf.Tensor2D[], vea as tf.Tensor4D | null, tf.unstack(sa) as tf.Scalar[], bw);
      })(args, dOut[i]!);
      tf.dispose(dOut[i]!);
      outputs[i].dispose(); // its readers (block i+1 and the skips to later blocks) are done
      if (i > 0) dOut[i - 1] = addTo(dOut[i - 1], g[0]);
      dx0 = addTo(dx0, g[lead.length - 2]);
      dScalars = addTo(dScalars, g[lead.length - 1]);
      sources.forEach((from, k) => { dOut[from] = addTo(dOut[from], g[lead.length + k]); });
      if (slot !== null) dVe[slot] = addTo(dVe[slot], g[lead.length + sources.length]);
      const names = w.qkv === null ? ["mlp.fc_w", "mlp.proj_w"] : ["attn.qkv_w", "attn.o_w", "mlp.fc_w", "mlp.proj_w"];
      names.forEach((n, k) => { grads[`blocks.${i}.${n}`] = g[args.length - weights.length + k]; });
    }
    grads.scalars = dScalars;
    [grads.embed] = tf.grads((e: tf.Tensor) => this.tokenEmbedding(ctx.tokens, e))([this.embed], dx0);
    this.valueEmbeds.forEach((table, t) => { // every table has a block with attention reading it (validateConfig), so dVe[t] is set
      [grads[`value_embeds.${t}`]] = tf.grads((e: tf.Tensor) => this.valueEmbedding(ctx, e))([table], dVe[t]!);
    });
    tf.dispose([dx0, ...(dVe as tf.Tensor[])]);
    disposeForward();
    return { loss: head.loss, grads: Object.fromEntries(this.params.map((p) => [p.name, grads[p.name]])) };
  }

  /** Every block's output, computed without a tape (recomputeLossAndGrads keeps these and nothing else). */
  private blockOutputs(ctx: ForwardContext, x0: tf.Tensor2D, ve: tf.Tensor4D[]): tf.Tensor2D[] {
    const outputs: tf.Tensor2D[] = [];
    const s = tf.unstack(this.scalars) as tf.Scalar[];
    for (let i = 0; i < this.cfg.nLayer; i++) {
      const slot = this.veSlots[i];
      const x = i === 0 ? x0 : outputs[i - 1];
      outputs.push(tf.tidy(() => this.block(ctx, i, x, x0, this.skipSources(i).map((from) => outputs[from]), slot === null ? null : ve[slot], s, this.blockWeights(i))));
    }
    tf.dispose(s);
    return outputs;
  }

  /** The mean loss over all rows and (withGrads) its gradients (last block's output, head weights), LOSS_CHUNK_ENTRIES logits at a time. */
  private chunkedHead(x: tf.Tensor2D, targets: tf.Tensor1D, withGrads: boolean): { loss: tf.Scalar; dx: tf.Tensor | null; dLmHead: tf.Tensor | null } {
    const N = x.shape[0], rows = this.opts.lossChunkRows ?? Math.max(1, Math.floor(LOSS_CHUNK_ENTRIES / paddedVocab(this.cfg)));
    let loss: tf.Tensor = tf.scalar(0), dLmHead: tf.Tensor | null = withGrads ? tf.zerosLike(this.lmHead) : null;
    const dxs: tf.Tensor[] = [];
    for (let r0 = 0; r0 < N; r0 += rows) {
      const n = Math.min(rows, N - r0);
      const part = tf.tidy(() => {
        const xc = x.slice([r0, 0], [n, x.shape[1]]), yc = targets.slice([r0], [n]);
        // the chunk's mean loss weighted by its share of the rows: the chunks sum to the mean over all rows
        const chunkLoss = (xa: tf.Tensor, ha: tf.Tensor) => softcapCrossEntropy(this.head(xa as tf.Tensor2D, ha), yc, this.cfg.softcap).mul(n / N) as tf.Scalar;
        if (dLmHead === null) return { loss: loss.add(chunkLoss(xc, this.lmHead)) };
        const { value, grads } = tf.valueAndGrads(chunkLoss)([xc, this.lmHead]);
        return { loss: loss.add(value), dx: grads[0], dLmHead: dLmHead.add(grads[1]) };
      });
      tf.dispose([loss, ...(dLmHead ? [dLmHead] : [])]);
      loss = part.loss;
      if (part.dLmHead) dLmHead = part.dLmHead;
      if (part.dx) dxs.push(part.dx);
    }
    const dx = !withGrads ? null : dxs.length === 1 ? dxs[0] : tf.concat(dxs, 0);
    if (dxs.length > 1) tf.dispose(dxs);
    return { loss: loss as tf.Scalar, dx, dLmHead };
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
