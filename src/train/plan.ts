// The memory and time planner: how many bytes a training step of a config needs (parameters,
// gradients, optimizer state, activations of one micro-batch), the largest micro-batch that fits a
// device, and the step's FLOPs and time at an assumed throughput. The activation model counts what
// TensorFlow.js keeps for the backward pass (tf.profile's peakBytes), calibrated on this machine's
// wasm backend and checked against measured peaks in test/train/plan.test.ts.
import { ATTENTION_BLOCK, CHUNK_SCORE_ENTRIES, bandGeometry, paddedVocab, parseLayout, tableSlots, windowsAt } from "../model";
import type { GPTConfig } from "../model";

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

export interface PlanInput {
  config: GPTConfig;
  /** Sequences per optimizer step. */
  batchSize: number;
  /** Tokens per micro-batch (whole sequences, dividing the step); default the largest that fits. */
  microBatchTokens?: number;
  deviceMemoryBytes: number;
  /** Assumed sustained throughput, TFLOP/s, for estimatedStepSeconds. */
  tflops: number;
}

export interface Plan {
  params: number;
  paramBytes: number;
  gradientBytes: number;
  optimizerBytes: number;
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
  const tables = new Set(tableSlots(parseLayout(cfg.layout, { nLayer: L })).filter((s) => s !== null)).size;
  const attnBlocks = L - cfg.noAttention.length;
  const muon = attnBlocks * 4 * hdim * D + L * 2 * mlp * D;
  const adam = (1 + tables) * cfg.vocabSize * D + Vp * D + 5 * L;
  return { total: muon + adam, adam, muon, matmul: muon + Vp * D };
}

/** Bytes kept and worked on for one micro-batch of `sequences` × seqLen tokens. */
export function activationBytes(cfg: GPTConfig, sequences: number): number {
  const T = cfg.seqLen, N = sequences * T, Vp = paddedVocab(cfg);
  const attnBlocks = cfg.nLayer - cfg.noAttention.length;
  const windows = windowsAt(cfg.windows); // the largest (final) windows
  let perToken = cfg.nLayer * FLOATS_PER_TOKEN_PER_BLOCK_DIM * cfg.dim + FLOATS_PER_VOCAB * Vp;
  let transient = 0;
  for (const w of [windows.long, windows.short]) {
    const { bs, nB, nw } = bandGeometry(T, { unit: w.unit, size: w.size }, w.unit === "blocks" ? w.blockSize : ATTENTION_BLOCK);
    const share = w === windows.long ? cfg.windows.longBlocks.length / cfg.nLayer : 1 - cfg.windows.longBlocks.length / cfg.nLayer;
    if (nB === 1) {
      perToken += share * attnBlocks * FLOATS_PER_SCORE * cfg.nHead * T; // the plain path keeps its scores
    } else {
      const perBlock = sequences * cfg.nHead * bs * nw * bs;
      const chunk = Math.min(nB, Math.max(1, Math.floor(CHUNK_SCORE_ENTRIES / perBlock))) * perBlock;
      transient = Math.max(transient, FLOATS_PER_CHUNK_SCORE * chunk); // one layer's chunk at a time
    }
  }
  return Math.round(F32 * (N * perToken + transient));
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
  const peakFor = (sequences: number) => fixed + activationBytes(cfg, sequences);
  // micro-batches hold whole sequences and divide the step evenly
  const sizes = Array.from({ length: batchSize }, (_, i) => batchSize - i).filter((s) => batchSize % s === 0);
  const fitting = sizes.find((s) => peakFor(s) <= input.deviceMemoryBytes) ?? null;
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
  const peakBytes = peakFor(sequences);
  const flops = flopsPerStep(cfg, tokensPerStep);
  return {
    params: counts.total, paramBytes, gradientBytes, optimizerBytes,
    activationBytesPerMicroBatch: activationBytes(cfg, sequences), peakBytes,
    microBatchTokens: sequences * T, accumulationSteps: batchSize / sequences, tokensPerStep,
    deviceMemoryBytes: input.deviceMemoryBytes, fits: peakBytes <= input.deviceMemoryBytes,
    largestFittingMicroBatchTokens: fitting === null ? null : fitting * T,
    flopsPerStep: flops, tflops: input.tflops, estimatedStepSeconds: flops / (input.tflops * 1e12),
  };
}

const GIB = 1024 ** 3;

/** One line for errors and logs: what the plan needs against what the device has. */
export function describePlan(p: Plan): string {
  const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
  return `peak ${gib(p.peakBytes)} (parameters ${gib(p.paramBytes)}, gradients ${gib(p.gradientBytes)}, optimizer ${gib(p.optimizerBytes)}, ` +
    `activations ${gib(p.activationBytesPerMicroBatch)} for a ${p.microBatchTokens}-token micro-batch) on a ${gib(p.deviceMemoryBytes)} device`;
}
