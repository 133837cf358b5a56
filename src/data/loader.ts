// Batches as modded-nanogpt makes them: contiguous windows read in order through the train shards,
// next shard when the current one cannot fill a batch. Runs longer than the data wrap around to the
// first shard (epoch + 1): the tiny corpus is ~0.9 M tokens; a 100-step tiny run (16×128 per step) reads 0.2 M.
import { readShard, readShardHeader } from "./shard";

export interface Batch {
  /** [batchSize × seqLen] token ids, row-major. */
  inputs: Int32Array;
  /** inputs shifted by one token. */
  targets: Int32Array;
  batchSize: number;
  seqLen: number;
}

/** Where the loader is: enough to resume exactly. */
export interface LoaderState {
  file: number;
  pos: number;
  epoch: number;
}

function sliceBatch(tokens: Uint16Array, start: number, batchSize: number, seqLen: number): Batch {
  const n = batchSize * seqLen;
  const inputs = new Int32Array(n);
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    inputs[i] = tokens[start + i];
    targets[i] = tokens[start + i + 1];
  }
  return { inputs, targets, batchSize, seqLen };
}

export class TokenLoader {
  private fileIndex = 0;
  private pos = 0;
  private epoch = 0;
  private loaded: { index: number; tokens: Uint16Array } | null = null;

  constructor(
    readonly files: string[],
    readonly batchSize: number,
    readonly seqLen: number,
    state?: LoaderState,
  ) {
    if (files.length === 0) throw new Error("TokenLoader: no train shards");
    const need = batchSize * seqLen + 1;
    for (const f of files) {
      const { numTokens } = readShardHeader(f);
      if (numTokens < need) throw new Error(`${f}: ${numTokens} tokens, fewer than one batch of ${batchSize}×${seqLen}+1 = ${need}`);
    }
    if (state) this.restore(state);
  }

  get state(): LoaderState {
    return { file: this.fileIndex, pos: this.pos, epoch: this.epoch };
  }

  restore(state: LoaderState): void {
    if (!(Number.isInteger(state.file) && state.file >= 0 && state.file < this.files.length && Number.isInteger(state.pos) && state.pos >= 0)) {
      throw new Error(`TokenLoader: invalid state ${JSON.stringify(state)} for ${this.files.length} shard(s)`);
    }
    this.fileIndex = state.file;
    this.pos = state.pos;
    this.epoch = state.epoch;
  }

  private tokens(): Uint16Array {
    if (this.loaded?.index !== this.fileIndex) this.loaded = { index: this.fileIndex, tokens: readShard(this.files[this.fileIndex]) };
    return this.loaded.tokens;
  }

  next(): Batch {
    const n = this.batchSize * this.seqLen;
    if (this.pos + n + 1 > this.tokens().length) {
      this.pos = 0;
      this.fileIndex++;
      if (this.fileIndex === this.files.length) {
        this.fileIndex = 0;
        this.epoch++;
      }
    }
    const batch = sliceBatch(this.tokens(), this.pos, this.batchSize, this.seqLen);
    this.pos += n;
    return batch;
  }
}

export interface ValidationSet {
  batches: Batch[];
  /** Tokens actually used: the request rounded down to whole batches, capped by what the shards hold. */
  tokens: number;
}

/** The first `tokens` tokens of the validation shards (read in order), in batches of batchSize×seqLen. */
export function loadValidationSet(files: string[], tokens: number, batchSize: number, seqLen: number): ValidationSet {
  const perBatch = batchSize * seqLen;
  const parts: Uint16Array[] = [];
  let have = 0;
  for (const f of files) {
    if (have >= tokens + 1) break;
    const t = readShard(f);
    parts.push(t);
    have += t.length;
  }
  const all = new Uint16Array(have);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  const numBatches = Math.floor(Math.min(tokens, have - 1) / perBatch);
  if (numBatches < 1) {
    throw new Error(`validation shards ${files.join(", ")} hold ${have} tokens; need at least one batch of ${batchSize}×${seqLen}+1 (asked for ${tokens})`);
  }
  const batches: Batch[] = [];
  for (let b = 0; b < numBatches; b++) batches.push(sliceBatch(all, b * perBatch, batchSize, seqLen));
  return { batches, tokens: numBatches * perBatch };
}
