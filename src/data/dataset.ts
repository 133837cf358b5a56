// A dataset folder: either one written by `valemb data prepare` (meta.json + train.bin + val.bin),
// or a folder of modded-nanogpt FineWeb shards (*train*.bin, *val*.bin; GPT-2 tokens).
import * as fs from "node:fs";
import * as path from "node:path";
import type { CorpusMeta } from "./corpus";
import { sha256 } from "./files";
import { readShardHeader } from "./shard";
import { GPT2_EOT } from "./tokenizer";

export interface DatasetInfo {
  dir: string;
  /** "byte-bpe" (tokenizer.json in the folder) or "gpt2". */
  tokenizer: "byte-bpe" | "gpt2";
  vocabSize: number;
  eotToken: number;
  trainFiles: string[];
  valFiles: string[];
  trainTokens: number;
  valTokens: number;
  /** Hash of what the shards hold (from meta.json, or shard names and sizes): part of a run's identity. */
  hash: string;
}

/** Resolves and checks a dataset folder; every shard header is validated, so bad data fails before any output. */
export function openDataset(dir: string): DatasetInfo {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`dataset folder ${dir} not found (the shipped corpus is data/fortunes; build one with \`valemb data prepare\`)`);
  }
  const metaFile = path.join(dir, "meta.json");
  let info: Omit<DatasetInfo, "trainTokens" | "valTokens">;
  if (fs.existsSync(metaFile)) {
    let meta: CorpusMeta;
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    } catch (err) {
      throw new Error(`${metaFile}: not valid JSON (${(err as Error).message})`);
    }
    if (meta.format !== "valemb-corpus") throw new Error(`${metaFile}: field "format" is ${JSON.stringify(meta.format)}, expected "valemb-corpus"`);
    info = {
      dir,
      tokenizer: "byte-bpe",
      vocabSize: meta.tokenizer.vocabSize,
      eotToken: meta.tokenizer.eotToken,
      trainFiles: [path.join(dir, meta.train.file)],
      valFiles: [path.join(dir, meta.val.file)],
      hash: sha256(`${meta.tokenizer.sha256} ${meta.train.sha256} ${meta.val.sha256}`),
    };
  } else {
    const bins = fs.readdirSync(dir).filter((f) => f.endsWith(".bin")).sort();
    const trainFiles = bins.filter((f) => f.includes("train")).map((f) => path.join(dir, f));
    const valFiles = bins.filter((f) => f.includes("val")).map((f) => path.join(dir, f));
    if (trainFiles.length === 0 || valFiles.length === 0) {
      throw new Error(`${dir}: no meta.json and no *train*.bin / *val*.bin shards (found ${bins.length} .bin files)`);
    }
    const sizes = [...trainFiles, ...valFiles].map((f) => `${path.basename(f)}:${fs.statSync(f).size}`);
    info = { dir, tokenizer: "gpt2", vocabSize: 50257, eotToken: GPT2_EOT, trainFiles, valFiles, hash: sha256(sizes.join(" ")) };
  }
  const count = (files: string[]) => files.reduce((n, f) => n + readShardHeader(f).numTokens, 0);
  return { ...info, trainTokens: count(info.trainFiles), valTokens: count(info.valFiles) };
}
