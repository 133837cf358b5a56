// Data: token shards, tokenizers, the default corpus, batches.
export {
  SHARD_MAGIC, SHARD_VERSION, SHARD_HEADER_BYTES, MAX_SHARD_TOKEN, ShardError,
  readShard, readShardHeader, writeShard, encodeShard,
} from "./shard";
export type { ShardHeader } from "./shard";
export { writeFileAtomic, sha256, sha256File } from "./files";
export { contentHash, HASH_CACHE_FILE } from "./content-hash";
export { restoreInterruptedPrepare } from "./corpus";
export { acquireLock, probeLock, describeHolder, LockHeldError } from "./lock";
export type { HeldLock, LockHolder } from "./lock";
export type { Tokenizer } from "./tokenizer";
export { Gpt2Tokenizer, GPT2_EOT, encodeDocument } from "./tokenizer";
export { BpeTokenizer, trainBpe, pretokenize, MAX_BPE_VOCAB } from "./bpe";
export type { BpeJson } from "./bpe";
export {
  DEFAULT_FORTUNES_DIR, DEFAULT_CORPUS_VOCAB, SHUFFLE_SEED, prepareCorpus, readCorpusSource, shuffleDocuments, splitDocuments, splitTrainVal,
} from "./corpus";
export type { CorpusMeta, CorpusSource, PrepareOptions, ShardInfo, SourceFile } from "./corpus";
export { openDataset } from "./dataset";
export type { DatasetInfo } from "./dataset";
export { TokenLoader, loadValidationSet } from "./loader";
export { FINEWEB_BASE_URL, FINEWEB_DEFAULT_TRAIN_SHARDS, FINEWEB_MAX_TRAIN_SHARDS, downloadFineweb, finewebFiles } from "./fineweb";
export type { DownloadProgress, FileResult, FinewebOptions } from "./fineweb";
export type { Batch, LoaderState, ValidationSet } from "./loader";

import * as fs from "node:fs";
import * as path from "node:path";
import { BpeTokenizer } from "./bpe";
import type { DatasetInfo } from "./dataset";
import { Gpt2Tokenizer, type Tokenizer } from "./tokenizer";

/** The tokenizer of a dataset folder (tokenizer.json, else GPT-2). */
export function loadTokenizer(dataset: DatasetInfo | string): Tokenizer {
  const dir = typeof dataset === "string" ? dataset : dataset.dir;
  const file = path.join(dir, "tokenizer.json");
  return fs.existsSync(file) ? BpeTokenizer.load(file) : new Gpt2Tokenizer();
}
