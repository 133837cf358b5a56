// The default corpus: Debian's fortunes, split into documents, 95/5 train/val by contiguous blocks,
// tokenized with a BPE learned on the train split, written as modded-nanogpt shards.
import * as fs from "node:fs";
import * as path from "node:path";
import { trainBpe } from "./bpe";
import type { BpeTokenizer } from "./bpe";
import { HASH_CACHE_FILE } from "./content-hash";
import { LockHeldError, acquireLock } from "./lock";
import type { HeldLock } from "./lock";
import { sha256, sha256File, writeFileAtomic } from "./files";
import { writeShard } from "./shard";

export const DEFAULT_FORTUNES_DIR = "/usr/share/games/fortunes";
export const DEFAULT_CORPUS_VOCAB = 2048;
/** The split: documents fall into 200 contiguous blocks by byte offset; every 20th block is validation. */
export const SPLIT_BLOCKS = 200;
export const SPLIT_VAL_EVERY = 20;

export interface SourceFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface CorpusSource {
  path: string;
  files: SourceFile[];
  /** Documents in source order, as raw bytes. */
  documents: Buffer[];
}

/**
 * A fortune file separates documents with lines holding only "%"; a file without such lines is
 * split into paragraphs (blank lines). Leading/trailing newlines are dropped, empty documents skipped.
 */
export function splitDocuments(bytes: Uint8Array): Buffer[] {
  // latin1: one char per byte, so splitting is byte-exact whatever the encoding.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1").replace(/\r\n?/g, "\n");
  const isFortune = /(^|\n)%\n/.test(text) || /\n%\n?$/.test(text);
  const parts = isFortune ? text.split(/\n%(?:\n|$)/) : text.split(/\n[ \t]*\n+/);
  const docs: Buffer[] = [];
  for (const part of parts) {
    const doc = part.replace(/^(?:%?\n)+|\n+$/g, "");
    if (doc.trim() !== "" && doc !== "%") docs.push(Buffer.from(doc, "latin1"));
  }
  return docs;
}

/** Which files of a folder are text sources: fortune files (no dot in the name) and *.txt. */
function sourceFilesOf(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => (!name.includes(".") || name.endsWith(".txt")) && fs.statSync(path.join(dir, name)).isFile())
    .sort();
}

/** Reads a folder (every fortune/*.txt file, sorted by name) or one file into documents. */
export function readCorpusSource(source: string): CorpusSource {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    if (path.resolve(source) === DEFAULT_FORTUNES_DIR) {
      throw new Error(`${source} not found: the default corpus needs Debian's fortunes (apt-get install fortunes fortunes-min), or pass --source <dir|file> with any text`);
    }
    throw new Error(`corpus source ${source} not found`);
  }
  const names = stat.isDirectory() ? sourceFilesOf(source) : [path.basename(source)];
  const dir = stat.isDirectory() ? source : path.dirname(source);
  if (names.length === 0) throw new Error(`${source}: no text files (fortune files without a dot, or *.txt)`);
  const files: SourceFile[] = [];
  const documents: Buffer[] = [];
  for (const name of names) {
    const bytes = fs.readFileSync(path.join(dir, name));
    files.push({ name, bytes: bytes.length, sha256: sha256(bytes) });
    documents.push(...splitDocuments(bytes));
  }
  return { path: path.resolve(source), files, documents };
}

/** Contiguous-block split: a document goes to validation when its start falls in every 20th of 200 byte blocks. */
export function splitTrainVal(documents: Buffer[]): { train: Buffer[]; val: Buffer[] } {
  const total = documents.reduce((n, d) => n + d.length, 0);
  const train: Buffer[] = [];
  const val: Buffer[] = [];
  let offset = 0;
  for (const doc of documents) {
    const block = Math.floor((offset * SPLIT_BLOCKS) / total);
    (block % SPLIT_VAL_EVERY === SPLIT_VAL_EVERY - 1 ? val : train).push(doc);
    offset += doc.length;
  }
  if (train.length === 0 || val.length === 0) {
    throw new Error(`corpus too small to split 95/5: ${documents.length} documents (${total} bytes) gave ${train.length} train and ${val.length} val; separate documents with lines holding only %, or blank lines`);
  }
  return { train, val };
}

/**
 * Documents in a seeded pseudo-random order (Fisher–Yates, mulberry32). The source files are sorted by
 * topic, and the trainer reads shards in order as modded-nanogpt does (FineWeb comes pre-shuffled):
 * unshuffled, training would walk through the topics one by one and the validation loss would follow.
 */
export function shuffleDocuments<T>(docs: T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = docs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const SHUFFLE_SEED = { train: 1, val: 2 } as const;

export interface PrepareOptions {
  /** Folder or file of text; default Debian's fortunes. */
  source?: string;
  /** Output folder, e.g. data/fortunes. */
  out: string;
  /** BPE vocabulary size including end-of-text (≤ 4096); default 2048. */
  vocabSize?: number;
  log?: (message: string) => void;
}

export interface ShardInfo {
  file: string;
  documents: number;
  textBytes: number;
  tokens: number;
  bytes: number;
  sha256: string;
}

/** data/<corpus>/meta.json: how the corpus was made. No timestamps, so re-running gives the same bytes. */
export interface CorpusMeta {
  format: "valemb-corpus";
  version: 1;
  source: { path: string; files: SourceFile[]; documents: number; bytes: number };
  split: { rule: string; blocks: number; valEvery: number };
  tokenizer: { type: "byte-bpe"; file: string; vocabSize: number; eotToken: number; sha256: string };
  documentBoundary: string;
  train: ShardInfo;
  val: ShardInfo;
}

/** Builds <out>/{tokenizer.json, train.bin, val.bin, meta.json} beside it and swaps the folder in whole. */
export function prepareCorpus(opts: PrepareOptions): CorpusMeta {
  const log = opts.log ?? (() => {});
  const vocabSize = opts.vocabSize ?? DEFAULT_CORPUS_VOCAB;
  const src = readCorpusSource(opts.source ?? DEFAULT_FORTUNES_DIR);
  const sourceBytes = src.documents.reduce((n, d) => n + d.length, 0);
  log(`read ${src.files.length} files, ${src.documents.length} documents, ${sourceBytes} bytes from ${src.path}`);
  const split = splitTrainVal(src.documents);
  const train = shuffleDocuments(split.train, SHUFFLE_SEED.train);
  const val = shuffleDocuments(split.val, SHUFFLE_SEED.val); // the fixed validation set (its first N tokens) then samples every topic

  const t0 = Date.now();
  const tok = trainBpe(train, vocabSize);
  log(`trained BPE: ${tok.vocabSize} ids (${tok.merges.length} merges, end-of-text ${tok.eotToken}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const out = opts.out;
  const lock = acquireLock(prepareLockFile(out), "valemb data prepare", `${out} is being prepared by another process`);
  try {
    restoreInterruptedPrepare(out, lock);
    refuseForeignFiles(out);
    // Everything is built in a hidden folder beside `out` and swapped in at the end: a kill at any moment leaves the old corpus or the new one.
    const staging = stagingDir(out, "preparing");
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const meta = writeCorpus(staging, src, sourceBytes, train, val, tok, log);
    swapIn(staging, out);
    return meta;
  } finally {
    lock.release();
  }
}

/** The files of a corpus folder: anything else in `out` is not ours to replace. */
const CORPUS_FILES = new Set(["meta.json", "tokenizer.json", "train.bin", "val.bin", HASH_CACHE_FILE]);

function refuseForeignFiles(out: string): void {
  if (!fs.existsSync(out)) return;
  const foreign = fs.readdirSync(out).filter((n) => !CORPUS_FILES.has(n) && !/\.tmp-\d+$/.test(n));
  if (foreign.length) {
    throw new Error(`${out} holds files that are not a corpus (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", …" : ""}); \`valemb data prepare\` replaces the whole folder, so give it an empty or corpus-only --out`);
  }
}

const prepareLockFile = (out: string) => path.join(path.dirname(path.resolve(out)), `.${path.basename(path.resolve(out))}.prepare.lock`);
const stagingDir = (out: string, kind: "preparing" | "old", pid = process.pid) =>
  path.join(path.dirname(path.resolve(out)), `.${path.basename(path.resolve(out))}.${kind}-${pid}`);

/** Replace `out` by `staging` with two renames; until the old folder is deleted, restoreInterruptedPrepare can roll back. */
function swapIn(staging: string, out: string): void {
  if (!fs.existsSync(out)) { fs.renameSync(staging, out); return; }
  const old = stagingDir(out, "old");
  fs.renameSync(out, old);
  fs.renameSync(staging, out);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Undo what a killed `valemb data prepare` left beside `out`: if it died between its two renames the
 * old corpus is put back; half-built folders are removed. Takes the prepare lock itself unless given
 * it; when a live preparer holds it, leaves everything to that one.
 */
export function restoreInterruptedPrepare(out: string, held?: HeldLock): void {
  const parent = path.dirname(path.resolve(out));
  const base = path.basename(path.resolve(out));
  if (!fs.existsSync(parent)) return;
  const leftovers = fs.readdirSync(parent).filter((n) => n.startsWith(`.${base}.`) && /\.(preparing|old)-\d+$/.test(n));
  if (!leftovers.length) return;
  let lock = held;
  if (!lock) {
    try { lock = acquireLock(prepareLockFile(out), "restoring an interrupted valemb data prepare"); } catch (e) {
      if (e instanceof LockHeldError) return; // a live preparer: its own swap will finish
      throw e;
    }
  }
  try {
    for (const n of leftovers) {
      const p = path.join(parent, n);
      if (n.includes(".old-") && !fs.existsSync(out)) fs.renameSync(p, out);
      else fs.rmSync(p, { recursive: true, force: true });
    }
  } finally {
    if (!held) lock.release();
  }
}

/** Writes tokenizer.json, train.bin, val.bin, then meta.json into `dir`. */
function writeCorpus(dir: string, src: CorpusSource, sourceBytes: number, train: Buffer[], val: Buffer[], tok: BpeTokenizer, log: (m: string) => void): CorpusMeta {
  const tokFile = path.join(dir, "tokenizer.json");
  tok.save(tokFile);

  const writeSplit = (name: string, docs: Buffer[]): ShardInfo => {
    const ids: number[] = [];
    for (const doc of docs) {
      ids.push(tok.eotToken); // modded-nanogpt: every document starts with end-of-text
      for (const id of tok.encodeBytes(doc)) ids.push(id);
    }
    const file = path.join(dir, `${name}.bin`);
    writeShard(file, ids);
    const textBytes = docs.reduce((n, d) => n + d.length, 0);
    log(`${name}: ${docs.length} documents, ${textBytes} bytes → ${ids.length} tokens (${(textBytes / ids.length).toFixed(2)} bytes/token)`);
    return { file: `${name}.bin`, documents: docs.length, textBytes, tokens: ids.length, bytes: fs.statSync(file).size, sha256: sha256File(file) };
  };

  const meta: CorpusMeta = {
    format: "valemb-corpus",
    version: 1,
    source: { path: src.path, files: src.files, documents: src.documents.length, bytes: sourceBytes },
    split: {
      rule: `documents in source order; a document whose start offset falls in block b of ${SPLIT_BLOCKS} equal byte blocks is validation when b % ${SPLIT_VAL_EVERY} == ${SPLIT_VAL_EVERY - 1}; then each split is shuffled (mulberry32 Fisher–Yates, seeds train ${SHUFFLE_SEED.train}, val ${SHUFFLE_SEED.val})`,
      blocks: SPLIT_BLOCKS,
      valEvery: SPLIT_VAL_EVERY,
    },
    tokenizer: { type: "byte-bpe", file: "tokenizer.json", vocabSize: tok.vocabSize, eotToken: tok.eotToken, sha256: sha256File(tokFile) },
    documentBoundary: "each document is preceded by the end-of-text token, as in modded-nanogpt's FineWeb shards",
    train: writeSplit("train", train),
    val: writeSplit("val", val),
  };
  writeFileAtomic(path.join(dir, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  return meta;
}
