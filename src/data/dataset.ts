// A dataset folder: either one written by `valemb data prepare` (meta.json + train.bin + val.bin),
// or a folder of modded-nanogpt FineWeb shards (*train*.bin, *val*.bin; GPT-2 tokens).
import * as fs from "node:fs";
import * as path from "node:path";
import { contentHash } from "./content-hash";
import { restoreInterruptedPrepare } from "./corpus";
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
  /** Hash of what the files hold (checked against meta.json, or of the shards' names, sizes and bytes): part of a run's identity. */
  hash: string;
}

/** A field of a corpus meta.json, checked: a clear error names the file and the field. */
function field<T>(metaFile: string, meta: unknown, dotted: string, ok: (v: unknown) => boolean, expected: string): T {
  let v: unknown = meta;
  for (const k of dotted.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  if (!ok(v)) {
    throw new Error(`${metaFile}: field "${dotted}" is ${v === undefined ? "missing" : JSON.stringify(v)}, expected ${expected}; rerun \`valemb data prepare\` for this folder`);
  }
  return v as T;
}

const isText = (v: unknown) => typeof v === "string" && v !== "";
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

/** The file's bytes must be the ones meta.json recorded: a changed shard is another dataset, never the same run. */
function verifyContent(file: string, recorded: string, metaFile: string): void {
  const actual = contentHash(file);
  if (actual !== recorded) {
    throw new Error(`${file}: its content (sha256 ${actual.slice(0, 12)}…) is not what ${metaFile} records (${recorded.slice(0, 12)}…): the file changed after \`valemb data prepare\`; rerun it, or restore the file`);
  }
}

/**
 * Resolves and checks a dataset folder: every shard header is validated and every file's content is
 * compared with what the folder says it holds, so bad or changed data fails before any output.
 */
export function openDataset(dir: string): DatasetInfo {
  restoreInterruptedPrepare(dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`dataset folder ${dir} not found (the shipped corpus is data/fortunes; build one with \`valemb data prepare\`)`);
  }
  const metaFile = path.join(dir, "meta.json");
  let info: Omit<DatasetInfo, "trainTokens" | "valTokens">;
  if (fs.existsSync(metaFile)) {
    let meta: unknown;
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    } catch (err) {
      throw new Error(`${metaFile}: not valid JSON (${(err as Error).message})`);
    }
    const format = (meta as Partial<CorpusMeta> | null)?.format;
    if (format !== "valemb-corpus") throw new Error(`${metaFile}: field "format" is ${format === undefined ? "missing" : JSON.stringify(format)}, expected "valemb-corpus"`);
    const get = <T>(k: string, ok: (v: unknown) => boolean, expected: string) => field<T>(metaFile, meta, k, ok, expected);
    const vocabSize = get<number>("tokenizer.vocabSize", isCount, "a positive integer");
    const eotToken = get<number>("tokenizer.eotToken", (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < vocabSize, `an integer below tokenizer.vocabSize (${vocabSize})`);
    const tokSha = get<string>("tokenizer.sha256", isText, "the tokenizer's sha256");
    const tokFile = (meta as CorpusMeta).tokenizer.file ?? "tokenizer.json";
    const shard = (split: "train" | "val") => ({
      file: path.join(dir, get<string>(`${split}.file`, isText, "a shard file name")),
      sha256: get<string>(`${split}.sha256`, isText, "the shard's sha256"),
    });
    const train = shard("train"), val = shard("val");
    for (const f of [train.file, val.file]) if (fs.existsSync(f)) readShardHeader(f); // a bad header is named as such, before hashing
    for (const [file, sha] of [[path.join(dir, tokFile), tokSha], [train.file, train.sha256], [val.file, val.sha256]]) {
      if (!fs.existsSync(file)) throw new Error(`${file}: missing, but ${metaFile} lists it; rerun \`valemb data prepare\``);
      verifyContent(file, sha, metaFile);
    }
    info = {
      dir, tokenizer: "byte-bpe", vocabSize, eotToken, trainFiles: [train.file], valFiles: [val.file],
      hash: sha256(`${tokSha} ${train.sha256} ${val.sha256}`), // unchanged formula: runs trained on the same bytes keep their identity
    };
  } else {
    if (fs.existsSync(path.join(dir, "tokenizer.json"))) {
      throw new Error(`${dir}: has tokenizer.json but no meta.json, so it is not a complete \`valemb data prepare\` folder (nor GPT-2 FineWeb shards); rerun \`valemb data prepare --out ${dir}\``);
    }
    const bins = fs.readdirSync(dir).filter((f) => f.endsWith(".bin")).sort();
    const trainFiles = bins.filter((f) => f.includes("train")).map((f) => path.join(dir, f));
    const valFiles = bins.filter((f) => f.includes("val")).map((f) => path.join(dir, f));
    if (trainFiles.length === 0 || valFiles.length === 0) {
      throw new Error(`${dir}: no meta.json and no *train*.bin / *val*.bin shards (found ${bins.length} .bin files)`);
    }
    for (const f of [...trainFiles, ...valFiles]) readShardHeader(f); // a bad header fails before any hashing
    const contents = [...trainFiles, ...valFiles].map((f) => `${path.basename(f)}:${fs.statSync(f).size}:${contentHash(f)}`);
    info = { dir, tokenizer: "gpt2", vocabSize: 50257, eotToken: GPT2_EOT, trainFiles, valFiles, hash: sha256(contents.join(" ")) };
  }
  const count = (files: string[]) => files.reduce((n, f) => n + readShardHeader(f).numTokens, 0);
  return { ...info, trainTokens: count(info.trainFiles), valTokens: count(info.valFiles) };
}
