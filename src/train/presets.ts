// Training defaults per model preset (the model's own shape lives in src/model's MODEL_PRESETS).

export interface TrainPreset {
  /** The model preset (src/model's MODEL_PRESETS) this training preset trains. */
  model: "medium" | "one-gpu" | "tiny" | "smoke";
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

export const TRAIN_PRESETS: Record<"medium" | "one-gpu" | "tiny" | "tiny-long" | "smoke", TrainPreset> = {
  // The speedrun: 8 GPUs × one 64K-token sequence per step, 5960 steps, val every 125 on 10,485,760 tokens.
  medium: { model: "medium", batchSize: 8, steps: 5960, evalEvery: 125, valTokens: 10_485_760, lrMult: 1, cooldownFrac: 0.7 },
  // One GPU, about an hour: 8 × 8192 tokens per step; the steps are what `valemb plan --preset one-gpu`
  // puts at ~3600 s at its assumed 100 TFLOP/s (see README "What the post's scale costs").
  "one-gpu": { model: "one-gpu", batchSize: 8, steps: 9900, evalEvery: 250, valTokens: 1_048_576, lrMult: 1, cooldownFrac: 0.7 },
  // FINDINGS §5: batch 16 × 128, BPE-2048; lr ×4 was the best tried at this scale. 100 steps (not §5's 450)
  // so the 69-run sweep of all four sections × 3 seeds fits ~2 h on 2 cores; val every 5 steps gives late-window charts 6+ points.
  tiny: { model: "tiny", batchSize: 16, steps: 100, evalEvery: 5, valTokens: 8_192, lrMult: 4, cooldownFrac: 0.7 },
  // The headline comparisons: the tiny model 4× longer (loss ~4.2, not 100 steps' ~4.8); val every 10 keeps 41 points and the scalars' curves.
  "tiny-long": { model: "tiny", batchSize: 16, steps: 400, evalEvery: 10, valTokens: 8_192, lrMult: 4, cooldownFrac: 0.7 },
  // Seconds, for tests.
  smoke: { model: "smoke", batchSize: 4, steps: 40, evalEvery: 10, valTokens: 1_024, lrMult: 4, cooldownFrac: 0.7 },
};
