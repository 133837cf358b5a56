// The memory and time planner: how many bytes a training step of a config needs (parameters,
// gradients, optimizer state, activations of one micro-batch), the largest micro-batch that fits a
// device, and the step's FLOPs and time at an assumed throughput. The activation model counts what
// TensorFlow.js keeps for the backward pass (tf.profile's peakBytes), calibrated on this machine's
// wasm backend and checked against measured peaks in test/train/plan.test.ts.
import { ATTENTION_BLOCK, CHUNK_SCORE_ENTRIES, LOSS_CHUNK_ENTRIES, bandGeometry, paddedVocab, parseLayout, tableSlots, windowsAt } from "../model";
import type { Activations, GPTConfig } from "../model";

const F32 = 4;
// Floats per token, measured (tf.profile peakBytes of lossAndGrads + optimizer step on smoke-shaped
// models, T 32..1024, dim 32/64, vocab 512/2048): per block and model dim, forward saves plus backward transients;
/** …per block, times dim. */
export const FLOATS_PER_TOKEN_PER_BLOCK_DIM = 103;
/** …per score entry kept by the one-block attention path (per head, per key). */
export const FLOATS_PER_SCORE = 9;
/** …per output-head row (logits, soft cap, cross-entropy and their gradients). */
export const FLOATS_PER_VOCAB = 5.4;
/** Working floats per score entry of one chunk of the recomputing attention backward. */
export const FLOATS_PER_CHUNK_SCORE = 11;
/** Recomputing redoes each block's forward: 8 instead of 6 FLOPs per matmul parameter and token. */
export const RECOMPUTE_FLOPS_FACTOR = 8 / 6;
/** Optimizer-step working floats per float of the largest Muon shape group (stacked NS5) and of the largest Adam parameter. */
export const FLOATS_PER_MUON_GROUP = 15;
export const FLOATS_PER_ADAM_PARAM = 8;
/** …per token and model dim while recomputing: block outputs kept (L), x0, and the gradient accumulators. */
export const RECOMPUTE_KEPT_PER_BLOCK_DIM = 1;
export const RECOMPUTE_EXTRA_DIMS = 4;

export interface PlanInput {
  config: GPTConfig;
  /** Sequences per optimizer step. */
  batchSize: number;
  /** Tokens per micro-batch (whole sequences, dividing the step); default the largest that fits. */
  microBatchTokens?: number;
  deviceMemoryBytes: number;
  /** Assumed sustained throughput, TFLOP/s, for estimatedStepSeconds. */
  tflops: number;
  /** Keep every activation or recompute block by block; default: keep when some micro-batch fits so, else recompute. */
  activations?: Activations;
}

export interface Plan {
  params: number;
  paramBytes: number;
  gradientBytes: number;
  optimizerBytes: number;
  /** keep: one autograd pass keeps every activation; recompute: block outputs only, each block redone in the backward (≈ +1 forward of compute). */
  activations: Activations;
  activationBytesPerMicroBatch: number;
  peakBytes: number;
  /** The micro-batch planned: as given, else the largest that fits (or one sequence when none fits). */
  microBatchTokens: number;
  accumulationSteps: number;
  tokensPerStep: number;
  deviceMemoryBytes: number;
  fits: boolean;
  /** Largest micro-batch (tokens) that fits, or null when not even one sequence does. */
  largestFittingMicroBatchTokens: number | null;
  flopsPerStep: number;
  tflops: number;
  estimatedStepSeconds: number;
}

/** Parameter counts by how the optimizer treats them (the GPT's own layout, without allocating it). */
export function parameterCounts(cfg: GPTConfig): { total: number; adam: number; muon: number; matmul: number } {
  const { nLayer: L, dim: D, nHead: H, headDim: hd } = cfg;
  const hdim = H * hd, mlp = cfg.mlpRatio * D, Vp = paddedVocab(cfg);
  const tables = tableCount(cfg);
  const attnBlocks = L - cfg.noAttention.length;
  const muon = attnBlocks * 4 * hdim * D + L * 2 * mlp * D;
  const adam = (1 + tables) * cfg.vocabSize * D + Vp * D + 5 * L;
  return { total: muon + adam, adam, muon, matmul: muon + Vp * D };
}

/** Bytes kept and worked on for one micro-batch of `sequences` × seqLen tokens. */
export function activationBytes(cfg: GPTConfig, sequences: number, activations: Activations = "keep"): number {
  const T = cfg.seqLen, N = sequences * T, Vp = paddedVocab(cfg);
  const attnBlocks = cfg.nLayer - cfg.noAttention.length;
  const windows = windowsAt(cfg.windows); // the largest (final) windows
  const keep = activations === "keep";
  // per token for one block (keep: for every block), and the attention's transient chunk
  let perToken = (keep ? cfg.nLayer : 1) * FLOATS_PER_TOKEN_PER_BLOCK_DIM * cfg.dim;
  let transient = 0;
  for (const w of [windows.long, windows.short]) {
    const { bs, nB, nw } = bandGeometry(T, { unit: w.unit, size: w.size }, w.unit === "blocks" ? w.blockSize : ATTENTION_BLOCK);
    const share = w === windows.long ? cfg.windows.longBlocks.length / cfg.nLayer : 1 - cfg.windows.longBlocks.length / cfg.nLayer;
    if (nB === 1) {
      perToken += (keep ? share * attnBlocks : 1) * FLOATS_PER_SCORE * cfg.nHead * T; // the plain path keeps its scores
    } else {
      const perBlock = sequences * cfg.nHead * bs * nw * bs;
      const chunk = Math.min(nB, Math.max(1, Math.floor(CHUNK_SCORE_ENTRIES / perBlock))) * perBlock;
      transient = Math.max(transient, FLOATS_PER_CHUNK_SCORE * chunk); // one layer's chunk at a time
    }
  }
  if (keep) return Math.round(F32 * (N * perToken + FLOATS_PER_VOCAB * Vp * N + transient)); // everything lives until the backward
  // recompute: block outputs, x0, value embeddings and gradient accumulators stay; the head (in row chunks) and one block at a time come and go
  const kept = (cfg.nLayer * RECOMPUTE_KEPT_PER_BLOCK_DIM + RECOMPUTE_EXTRA_DIMS) * cfg.dim + tableCount(cfg) * cfg.nHead * cfg.headDim;
  const headRows = Math.min(N, Math.max(1, Math.floor(LOSS_CHUNK_ENTRIES / Vp)));
  return Math.round(F32 * (N * kept + Math.max(FLOATS_PER_VOCAB * Vp * headRows, N * perToken + transient)));
}

function tableCount(cfg: GPTConfig): number {
  return new Set(tableSlots(parseLayout(cfg.layout, { nLayer: cfg.nLayer })).filter((s) => s !== null)).size;
}

/** Bytes the optimizer step works with besides the state (the activations are gone by then; the gradients are not). */
export function optimizerStepBytes(cfg: GPTConfig): number {
  const { nLayer: L, dim: D, nHead: H, headDim: hd } = cfg;
  const hdim = H * hd, mlp = cfg.mlpRatio * D, attnBlocks = L - cfg.noAttention.length;
  const groups = new Map<string, number>(); // Muon stacks matrices of one wide shape
  const add = (r: number, c: number, n: number) => { const k = `${Math.min(r, c)}x${Math.max(r, c)}`; groups.set(k, (groups.get(k) ?? 0) + n * r * c); };
  add(hdim, D, attnBlocks * 3); // q, k, v
  add(D, hdim, attnBlocks); // attention output
  add(mlp, D, 2 * L); // MLP in and out
  const adamLargest = Math.max(cfg.vocabSize, paddedVocab(cfg)) * D;
  return F32 * Math.max(FLOATS_PER_MUON_GROUP * Math.max(...groups.values()), FLOATS_PER_ADAM_PARAM * adamLargest);
}

/** Model FLOPs of one optimizer step: 6 per matmul parameter per token, plus attention over the windowed keys (fwd + bwd). */
export function flopsPerStep(cfg: GPTConfig, tokensPerStep: number): number {
  const attnBlocks = cfg.nLayer - cfg.noAttention.length;
  const w = windowsAt(cfg.windows);
  const keys = (x: typeof w.long) => Math.min(cfg.seqLen / 2, x.unit === "blocks" ? x.size * x.blockSize : x.size); // mean keys per query
  const longShare = cfg.windows.longBlocks.length / cfg.nLayer;
  const meanKeys = longShare * keys(w.long) + (1 - longShare) * keys(w.short);
  return 6 * parameterCounts(cfg).matmul * tokensPerStep + 3 * 4 * attnBlocks * cfg.nHead * cfg.headDim * meanKeys * tokensPerStep;
}

/** The plan for one step of batchSize sequences on a device with deviceMemoryBytes. */
export function planTraining(input: PlanInput): Plan {
  const { config: cfg, batchSize } = input;
  const T = cfg.seqLen, tokensPerStep = batchSize * T;
  const counts = parameterCounts(cfg);
  const paramBytes = F32 * counts.total, gradientBytes = paramBytes;
  const optimizerBytes = F32 * (2 * counts.adam + counts.muon); // Adam m and v; Muon's momentum
  const fixed = paramBytes + gradientBytes + optimizerBytes;
  const stepBytes = optimizerStepBytes(cfg);
  const peakFor = (sequences: number, mode: Activations) => fixed + Math.max(activationBytes(cfg, sequences, mode), stepBytes);
  // micro-batches hold whole sequences and divide the step evenly
  const sizes = Array.from({ length: batchSize }, (_, i) => batchSize - i).filter((s) => batchSize % s === 0);
  const largestFitting = (mode: Activations) => sizes.find((s) => peakFor(s, mode) <= input.deviceMemoryBytes) ?? null;
  // keeping activations is cheaper in compute: recompute only when not even one sequence fits so
  const activations: Activations = input.activations ?? (largestFitting("keep") !== null ? "keep" : "recompute");
  const fitting = largestFitting(activations);
  let sequences: number;
  if (input.microBatchTokens !== undefined) {
    const m = input.microBatchTokens;
    if (!(Number.isInteger(m) && m > 0 && m % T === 0 && batchSize % (m / T) === 0)) {
      throw new Error(`micro-batch of ${m} tokens: must be a whole number of ${T}-token sequences that divides the step's ${batchSize} sequences (e.g. ${sizes.map((s) => s * T).join(", ")})`);
    }
    sequences = m / T;
  } else {
    sequences = fitting ?? 1;
  }
  const peakBytes = peakFor(sequences, activations);
  const flops = flopsPerStep(cfg, tokensPerStep);
  return {
    params: counts.total, paramBytes, gradientBytes, optimizerBytes, activations,
    activationBytesPerMicroBatch: activationBytes(cfg, sequences, activations), peakBytes,
    microBatchTokens: sequences * T, accumulationSteps: batchSize / sequences, tokensPerStep,
    deviceMemoryBytes: input.deviceMemoryBytes, fits: peakBytes <= input.deviceMemoryBytes,
    largestFittingMicroBatchTokens: fitting === null ? null : fitting * T,
    flopsPerStep: flops, tflops: input.tflops, estimatedStepSeconds: (flops * (activations === "recompute" ? RECOMPUTE_FLOPS_FACTOR : 1)) / (input.tflops * 1e12),
  };
}

const GIB = 1024 ** 3;

/** One line for errors and logs: what the plan needs against what the device has. */
export function describePlan(p: Plan): string {
  const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
  return `peak ${gib(p.peakBytes)} (parameters ${gib(p.paramBytes)}, gradients ${gib(p.gradientBytes)}, optimizer ${gib(p.optimizerBytes)}, ` +
    `activations ${gib(p.activationBytesPerMicroBatch)} for a ${p.microBatchTokens}-token micro-batch, ${p.activations === "keep" ? "kept" : "recomputed"}) on a ${gib(p.deviceMemoryBytes)} device`;
}
