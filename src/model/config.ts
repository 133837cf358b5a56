// The model's configuration as plain data (JSON-friendly: it goes into meta.json), its checks, and presets.
import { LayoutError, parseLayout, tableChar, tableSlots } from "./layout";

export interface WindowConfig {
  /** Long sliding window, in tokens (a query sees keys at distance < long). */
  long: number;
  /** Short sliding window, in tokens (the speedrun uses half the long one). */
  short: number;
  /** Blocks that use the long window; all others use the short one. */
  longBlocks: number[];
  /**
   * The speedrun's growing windows (medium): windows count whole key blocks and grow over training;
   * absent = fixed token-level windows (tiny, smoke).
   */
  schedule?: WindowSchedule;
}

/** Windows in key blocks that grow with training progress x along 4x³ − 6x² + 3x (the August 2025 record). */
export interface WindowSchedule {
  /** Tokens per key block (128); a query in block b sees keys in blocks b − W + 1 … b. */
  blockSize: number;
  /** The long window at the end of training, in tokens (3456 = 27 blocks); the short one is half of it, in blocks. */
  finalLong: number;
}

export interface GPTConfig {
  /** Tokens the tokenizer produces. */
  vocabSize: number;
  /** The output head is padded to a multiple of this (128 in the speedrun). */
  vocabMultiple: number;
  nLayer: number;
  dim: number;
  nHead: number;
  headDim: number;
  /** MLP hidden size = mlpRatio · dim. */
  mlpRatio: number;
  /** Blocks without attention (MLP only). */
  noAttention: number[];
  /** U-net skips: before block `to`, add w·(output of block `from`). */
  skips: { to: number; from: number }[];
  /** Logit soft cap c: c·l/sqrt(l² + c²). */
  softcap: number;
  /** Constant attention scale (instead of 1/sqrt(headDim)). */
  attnScale: number;
  /** Training sequence length (rotary tables are built for this many positions). */
  seqLen: number;
  windows: WindowConfig;
  /** End-of-text token: documents start at it (document masking); null = no document masking. */
  eotToken: number | null;
  /** Value-embedding layout, compact form (`012..........012`). */
  layout: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Output-head rows: vocabSize rounded up to a multiple of vocabMultiple. */
export function paddedVocab(cfg: Pick<GPTConfig, "vocabSize" | "vocabMultiple">): number {
  return Math.ceil(cfg.vocabSize / cfg.vocabMultiple) * cfg.vocabMultiple;
}

/** Throws a ConfigError naming the first bad field. */
export function validateConfig(cfg: GPTConfig): void {
  const where = (field: string) => `GPTConfig.${field}`;
  const posInt = (field: keyof GPTConfig) => {
    const v = cfg[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ConfigError(`${where(field)} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  const posNum = (field: keyof GPTConfig) => {
    const v = cfg[field];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${where(field)} must be a positive number, got ${JSON.stringify(v)}`);
  };
  const layer = (field: string, i: unknown) => {
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= cfg.nLayer) throw new ConfigError(`${where(field)}: ${JSON.stringify(i)} is not a block index in 0..${cfg.nLayer - 1}`);
  };
  for (const f of ["vocabSize", "vocabMultiple", "nLayer", "dim", "nHead", "headDim", "mlpRatio", "seqLen"] as const) posInt(f);
  for (const f of ["softcap", "attnScale"] as const) posNum(f);
  if (cfg.headDim % 4 !== 0) throw new ConfigError(`${where("headDim")} must be a multiple of 4 (rotary uses headDim/4 frequencies), got ${cfg.headDim}`);
  if (!Array.isArray(cfg.noAttention)) throw new ConfigError(`${where("noAttention")} must be an array of block indices`);
  cfg.noAttention.forEach((i) => layer("noAttention", i));
  if (!Array.isArray(cfg.skips)) throw new ConfigError(`${where("skips")} must be an array of {to, from}`);
  const targets = new Set<number>();
  cfg.skips.forEach((s, k) => {
    layer(`skips[${k}].to`, s?.to);
    layer(`skips[${k}].from`, s?.from);
    if (s.from >= s.to) throw new ConfigError(`${where(`skips[${k}]`)}: from (${s.from}) must be an earlier block than to (${s.to})`);
    if (targets.has(s.to)) throw new ConfigError(`${where(`skips[${k}]`)}: block ${s.to} already has a skip`);
    targets.add(s.to);
  });
  const w = cfg.windows;
  if (!w || typeof w !== "object") throw new ConfigError(`${where("windows")} must be {long, short, longBlocks}`);
  for (const f of ["long", "short"] as const) {
    if (!Number.isInteger(w[f]) || w[f] <= 0) throw new ConfigError(`${where(`windows.${f}`)} must be a positive integer (tokens), got ${JSON.stringify(w[f])}`);
  }
  if (!Array.isArray(w.longBlocks)) throw new ConfigError(`${where("windows.longBlocks")} must be an array of block indices`);
  w.longBlocks.forEach((i) => layer("windows.longBlocks", i));
  if (w.schedule !== undefined) {
    const { blockSize, finalLong } = w.schedule ?? {};
    if (!Number.isInteger(blockSize) || blockSize <= 0) throw new ConfigError(`${where("windows.schedule.blockSize")} must be a positive integer (tokens), got ${JSON.stringify(blockSize)}`);
    if (!Number.isInteger(finalLong) || finalLong <= 0 || finalLong % blockSize !== 0) {
      throw new ConfigError(`${where("windows.schedule.finalLong")} must be a positive multiple of blockSize ${blockSize}, got ${JSON.stringify(finalLong)}`);
    }
  }
  if (cfg.eotToken !== null && (!Number.isInteger(cfg.eotToken) || cfg.eotToken < 0 || cfg.eotToken >= cfg.vocabSize)) {
    throw new ConfigError(`${where("eotToken")} must be null or a token id in 0..${cfg.vocabSize - 1}, got ${JSON.stringify(cfg.eotToken)}`);
  }
  let slots: (number | null)[];
  try {
    slots = tableSlots(parseLayout(cfg.layout, { nLayer: cfg.nLayer }));
  } catch (e) {
    if (e instanceof LayoutError) throw new ConfigError(`${where("layout")}: ${e.message}`);
    throw e;
  }
  // a block without attention adds no value embedding (add-5 names one there, harmlessly); a table only such blocks name is never read
  for (const t of new Set(slots.filter((x): x is number => x !== null))) {
    const blocks = slots.flatMap((x, i) => (x === t ? [i] : []));
    if (blocks.some((i) => !cfg.noAttention.includes(i))) continue;
    const [noun, verb] = blocks.length > 1 ? ["blocks", "have"] : ["block", "has"];
    throw new ConfigError(`${where("layout")} "${cfg.layout}": table ${tableChar(t)} is named only by ${noun} ${blocks.join(", ")}, which ${verb} no attention ` +
      `(noAttention ${JSON.stringify(cfg.noAttention)}), so it would never be read: name it on a block with attention, or use "." there`);
  }
}

const speedrunShape = {
  nLayer: 16,
  mlpRatio: 4,
  noAttention: [7],
  skips: [{ to: 9, from: 6 }, { to: 10, from: 4 }, { to: 11, from: 2 }],
  softcap: 15,
  attnScale: 0.12,
  vocabMultiple: 128,
  layout: "012..........012",
};
const LONG_BLOCKS = [0, 4, 11, 15];

/**
 * medium: the August 2025 speedrun model (GPT-2 vocab, 16 × 1024, 8 heads × 128); its windows grow in
 * 128-token blocks over training up to 3456 tokens (long) and 1728 (short), as in the record (windowsAt).
 * one-gpu: the same 16 blocks, layouts and growing block windows at half medium's width, 8K-token
 * sequences and windows up to 1792 tokens, on FineWeb; its training preset is sized by the planner
 * for about an hour on one datacenter GPU (see src/train/presets.ts).
 * tiny: same 16 blocks and indices at CPU scale (FINDINGS §5), BPE-2048 whose last id is the EOT.
 * smoke: the same shape, as small as possible, for tests (byte BPE + 255 merges + EOT = 512).
 */
export const MODEL_PRESETS: Record<"medium" | "one-gpu" | "tiny" | "smoke", GPTConfig> = {
  medium: {
    ...speedrunShape, vocabSize: 50257, dim: 1024, nHead: 8, headDim: 128, seqLen: 64 * 1024,
    windows: { long: 3456, short: 1728, longBlocks: LONG_BLOCKS, schedule: { blockSize: 128, finalLong: 3456 } }, eotToken: 50256,
  },
  "one-gpu": {
    ...speedrunShape, vocabSize: 50257, dim: 512, nHead: 4, headDim: 128, seqLen: 8 * 1024,
    windows: { long: 1792, short: 896, longBlocks: LONG_BLOCKS, schedule: { blockSize: 128, finalLong: 1792 } }, eotToken: 50256,
  },
  tiny: {
    ...speedrunShape, vocabSize: 2048, dim: 64, nHead: 2, headDim: 32, seqLen: 128,
    windows: { long: 128, short: 64, longBlocks: LONG_BLOCKS }, eotToken: 2047,
  },
  smoke: {
    ...speedrunShape, vocabSize: 512, dim: 32, nHead: 2, headDim: 16, seqLen: 32,
    windows: { long: 32, short: 16, longBlocks: LONG_BLOCKS }, eotToken: 511,
  },
};

export type PresetName = keyof typeof MODEL_PRESETS;

/** A fresh copy of a preset, optionally with some fields changed; validated. */
export function modelConfig(preset: string, overrides: Partial<GPTConfig> = {}): GPTConfig {
  if (!(preset in MODEL_PRESETS)) throw new ConfigError(`unknown model preset "${preset}" (known: ${Object.keys(MODEL_PRESETS).join(", ")})`);
  const cfg: GPTConfig = structuredClone({ ...MODEL_PRESETS[preset as PresetName], ...overrides });
  validateConfig(cfg);
  return cfg;
}

/** A block's attention window: token-level (fixed windows) or in whole key blocks (a schedule). */
export interface BlockWindow {
  unit: "tokens" | "blocks";
  size: number;
  /** Key-block size the window counts in (blocks) or the attention runs in (tokens). */
  blockSize: number;
}

/**
 * The long and short windows at a training step (no step: the final windows, as for a finished model).
 * With a schedule, the long window is ceil(finalLong·(4x³ − 6x² + 3x)/blockSize) blocks (at least 1)
 * at progress x = step/totalSteps, and the short one half of it (at least 1), as the record's
 * get_window_size_blocks and its `// 2`.
 */
export function windowsAt(w: WindowConfig, step?: number, totalSteps?: number): { long: BlockWindow; short: BlockWindow } {
  if (!w.schedule) {
    return { long: { unit: "tokens", size: w.long, blockSize: 128 }, short: { unit: "tokens", size: w.short, blockSize: 128 } };
  }
  const { blockSize, finalLong } = w.schedule;
  const x = step === undefined || totalSteps === undefined ? 1 : Math.min(Math.max(step / totalSteps, 0), 1);
  const factor = 4 * x ** 3 - 6 * x ** 2 + 3 * x;
  const long = Math.max(1, Math.ceil((finalLong * factor) / blockSize));
  return { long: { unit: "blocks", size: long, blockSize }, short: { unit: "blocks", size: Math.max(1, Math.floor(long / 2)), blockSize } };
}

/**
 * The speedrun's window schedule: the long window grows from 128 to 3456 tokens (in 128-token blocks)
 * along 4x³ − 6x² + 3x of training progress; the short one is half of it (in blocks).
 */
export function speedrunWindowsAt(step: number, totalSteps: number): { long: number; short: number } {
  const x = Math.min(Math.max(step / totalSteps, 0), 1);
  const factor = 4 * x ** 3 - 6 * x ** 2 + 3 * x;
  const blocks = Math.max(1, Math.ceil((3456 * factor) / 128));
  return { long: blocks * 128, short: Math.max(1, Math.floor(blocks / 2)) * 128 }; // the speedrun always keeps the diagonal block
}
