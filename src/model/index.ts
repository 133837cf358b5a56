// The model: config and presets, the value-embedding layout, and the GPT.
export * from "./layout";
export * from "./config";
export { GPT, attentionBias } from "./gpt";
export type { ModelParam, TensorData } from "./gpt";
