// FineWeb-10B, GPT-2 tokens: the shards modded-nanogpt's data/cached_fineweb10B.py fetches from the
// Hugging Face dataset kjj0/fineweb10B-gpt2 (fineweb_val_000000.bin, fineweb_train_000001.bin, …).
// Each file downloads to <name>.part, resumes with an HTTP Range request after a dropped connection
// or an interruption, and becomes <name> only once its size and shard header check out.
import * as fs from "node:fs";
import * as path from "node:path";
import { ShardError, readShardHeader } from "./shard";

export const FINEWEB_BASE_URL = "https://huggingface.co/datasets/kjj0/fineweb10B-gpt2/resolve/main";
/** Train shards the speedrun reads: 5960 steps × 524,288 tokens at 100 M tokens a shard. */
export const FINEWEB_DEFAULT_TRAIN_SHARDS = 32;
/** The dataset has 103 train shards (fineweb_train_000001 … 000103). */
export const FINEWEB_MAX_TRAIN_SHARDS = 103;

/** File names in download order: the validation shard, then train shards 1..trainShards. */
export function finewebFiles(trainShards: number): string[] {
  if (!(Number.isInteger(trainShards) && trainShards >= 1 && trainShards <= FINEWEB_MAX_TRAIN_SHARDS)) {
    throw new Error(`train shards: expected 1..${FINEWEB_MAX_TRAIN_SHARDS}, got ${trainShards}`);
  }
  const name = (split: string, i: number) => `fineweb_${split}_${String(i).padStart(6, "0")}.bin`;
  return [name("val", 0), ...Array.from({ length: trainShards }, (_, i) => name("train", i + 1))];
}

export interface DownloadProgress {
  file: string;
  /** Bytes of this file on disk so far (including a resumed part). */
  received: number;
  /** The file's full size, once the server said it. */
  total: number | null;
  event: "start" | "data" | "retry" | "done" | "present";
  /** For "retry": what went wrong. */
  reason?: string;
}

export interface FinewebOptions {
  out: string;
  trainShards: number;
  baseUrl?: string;
  /** Attempts per file (a dropped connection resumes where it stopped); default 5. */
  attempts?: number;
  /** Pause before a retry, ms × attempt number; default 1000. */
  retryDelayMs?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export interface FileResult {
  file: string;
  status: "present" | "downloaded";
  bytes: number;
  tokens: number;
}

/** Header, token count and size of a complete shard; throws a ShardError naming the file. */
function checkShard(file: string, expectedBytes: number | null): number {
  const { numTokens } = readShardHeader(file);
  const size = fs.statSync(file).size;
  if (expectedBytes !== null && size !== expectedBytes) throw new ShardError(file, `${size} bytes, but the server sent ${expectedBytes}`);
  return numTokens;
}

/** Bytes start..end/total of a 206 reply's Content-Range, or null. */
function contentRange(header: string | null): { start: number; total: number } | null {
  const m = /^bytes (\d+)-\d+\/(\d+)$/.exec(header ?? "");
  return m ? { start: Number(m[1]), total: Number(m[2]) } : null;
}

class HttpError extends Error {
  constructor(readonly url: string, readonly status: number) {
    super(`${url}: HTTP ${status}`);
  }
}

/** One attempt: appends what the server sends to `part` from its current size; returns the file's full size. */
async function fetchInto(url: string, part: string, file: string, onProgress?: (p: DownloadProgress) => void): Promise<number> {
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: "follow" });
  let offset: number, total: number | null;
  if (res.status === 206) {
    const range = contentRange(res.headers.get("content-range"));
    if (!range || range.start !== have) throw new Error(`unexpected Content-Range ${res.headers.get("content-range")} for a resume at byte ${have}`);
    [offset, total] = [have, range.total];
  } else if (res.status === 200) {
    const length = res.headers.get("content-length");
    [offset, total] = [0, length === null ? null : Number(length)];
  } else if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    return have; // the part is already whole
  } else {
    await res.body?.cancel();
    throw new HttpError(url, res.status);
  }
  const out = fs.openSync(part, offset === 0 ? "w" : "a");
  let received = offset;
  onProgress?.({ file, received, total, event: "start" });
  try {
    if (!res.body) throw new Error("empty response body");
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      fs.writeSync(out, chunk);
      received += chunk.length;
      onProgress?.({ file, received, total, event: "data" });
    }
  } finally {
    fs.closeSync(out);
  }
  if (total !== null && received !== total) throw new Error(`connection closed at byte ${received} of ${total}`);
  return received;
}

/** Downloads (or finds, already checked) one shard into `dir`. */
async function downloadShard(name: string, dir: string, opts: FinewebOptions): Promise<FileResult> {
  const file = path.join(dir, name), part = `${file}.part`;
  if (fs.existsSync(file)) {
    try {
      const tokens = checkShard(file, null);
      const bytes = fs.statSync(file).size;
      opts.onProgress?.({ file: name, received: bytes, total: bytes, event: "present" });
      return { file, status: "present", bytes, tokens };
    } catch (err) {
      if (!(err instanceof ShardError)) throw err;
      fs.rmSync(file); // a bad file is downloaded again from the start
      fs.rmSync(part, { force: true });
    }
  }
  const url = `${(opts.baseUrl ?? FINEWEB_BASE_URL).replace(/\/$/, "")}/${name}`;
  const attempts = opts.attempts ?? 5;
  let lastError: Error | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      opts.onProgress?.({ file: name, received: fs.existsSync(part) ? fs.statSync(part).size : 0, total: null, event: "retry", reason: lastError?.message });
      await new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 1000) * (attempt - 1)));
    }
    let total: number;
    try {
      total = await fetchInto(url, part, name, opts.onProgress);
    } catch (err) {
      if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) throw err; // not there: no point retrying
      lastError = err as Error;
      continue;
    }
    try {
      const tokens = checkShard(part, total);
      fs.renameSync(part, file);
      opts.onProgress?.({ file: name, received: total, total, event: "done" });
      return { file, status: "downloaded", bytes: total, tokens };
    } catch (err) {
      if (!(err instanceof ShardError)) throw err;
      lastError = err;
      fs.rmSync(part, { force: true }); // corrupt: start this file over
    }
  }
  throw new Error(`${url}: failed after ${attempts} attempts: ${lastError?.message ?? "unknown error"}${fs.existsSync(part) ? ` (partial download kept in ${part}; rerun to resume)` : ""}`);
}

/**
 * Downloads the validation shard and train shards 1..trainShards into opts.out (created if needed),
 * one file at a time. Files already there are checked, not fetched again; a .part resumes.
 */
export async function downloadFineweb(opts: FinewebOptions): Promise<FileResult[]> {
  const names = finewebFiles(opts.trainShards);
  fs.mkdirSync(opts.out, { recursive: true });
  const results: FileResult[] = [];
  for (const name of names) results.push(await downloadShard(name, opts.out, opts));
  return results;
}
