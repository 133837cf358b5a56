// The benchmark's model configurations: the `tiny` preset, and the prototype's shape (FINDINGS §1:
// vocab 512, 8 layers, d 128, 4 heads × 32, seq 128, batch 8) with this model's features
// (value embeddings 012..012, QK-norm, softcap, full causal windows, no skips, every block attends).
import { modelConfig, type GPTConfig } from "../src/model";

export interface BenchConfig {
  name: string;
  model: GPTConfig;
  batch: number;
}

export function benchConfig(name: string): BenchConfig {
  if (name === "tiny") return { name, model: modelConfig("tiny"), batch: 16 };
  if (name === "proto") {
    return {
      name,
      model: modelConfig("tiny", {
        vocabSize: 512, nLayer: 8, dim: 128, nHead: 4, headDim: 32, seqLen: 128, layout: "012..012",
        noAttention: [], skips: [], windows: { long: 128, short: 128, longBlocks: [] }, eotToken: 511,
      }),
      batch: 8,
    };
  }
  throw new Error(`unknown bench config "${name}" (known: tiny, proto)`);
}
