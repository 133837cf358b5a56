// Training defaults per model preset (the model's own shape lives in src/model's MODEL_PRESETS).

export interface TrainPreset {
  /** Sequences per step (each of the model's seqLen tokens). */
  batchSize: number;
  steps: number;
  /** Validation every N steps (and at the end). */
  evalEvery: number;
  /** Size of the fixed validation set (first N tokens of the val shards, whole batches). */
  valTokens: number;
  /** Multiplies every learning rate of the speedrun. */
  lrMult: number;
  /** Fraction of steps over which the lr decays linearly to 0 at the end. */
  cooldownFrac: number;
}

export const TRAIN_PRESETS: Record<"medium" | "tiny" | "smoke", TrainPreset> = {
  // The speedrun: 8 GPUs × one 64K-token sequence per step, 5960 steps, val every 125 on 10,485,760 tokens.
  medium: { batchSize: 8, steps: 5960, evalEvery: 125, valTokens: 10_485_760, lrMult: 1, cooldownFrac: 0.7 },
  // FINDINGS §5: batch 16 × 128, BPE-2048; lr ×4 was the best tried at this scale. 100 steps (not §5's 450)
  // so the 69-run sweep of all four sections × 3 seeds fits ~2 h on 2 cores; val every 5 steps gives late-window charts 6+ points.
  tiny: { batchSize: 16, steps: 100, evalEvery: 5, valTokens: 8_192, lrMult: 4, cooldownFrac: 0.7 },
  // Seconds, for tests.
  smoke: { batchSize: 4, steps: 40, evalEvery: 10, valTokens: 1_024, lrMult: 4, cooldownFrac: 0.7 },
};
