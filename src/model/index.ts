// The model: config and presets, the value-embedding layout, and the GPT.
export * from "./layout";
export * from "./config";
export { GPT, LOSS_CHUNK_ENTRIES, attentionBias } from "./gpt";
export type { LearnedScalars, ModelParam, TensorData } from "./gpt";
export { ATTENTION_BLOCK, CHUNK_SCORE_ENTRIES, bandGeometry, defaultChunkBlocks, denseAttention, documentIds, windowedAttention } from "./attention";
export type { AttentionWindow, WindowedAttentionOptions } from "./attention";
export type { Activations, GPTOptions } from "./gpt";
