// The modded-nanogpt token shard: a header of 256 little-endian int32 (magic, version, token count),
// then the tokens as little-endian uint16. Same bytes as the FineWeb shards of the speedrun.
import * as fs from "node:fs";
import { writeFileAtomic } from "./files";

export const SHARD_MAGIC = 20240520;
export const SHARD_VERSION = 1;
export const SHARD_HEADER_INTS = 256;
export const SHARD_HEADER_BYTES = SHARD_HEADER_INTS * 4;
/** uint16 tokens: ids must be below this. */
export const MAX_SHARD_TOKEN = 65535;

export interface ShardHeader {
  magic: number;
  version: number;
  /** Number of uint16 tokens after the header. */
  numTokens: number;
}

export class ShardError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ShardError";
  }
}

/** Checks the header bytes against the file size; throws a ShardError naming the file. */
function checkHeader(file: string, header: Buffer, fileBytes: number): ShardHeader {
  if (fileBytes < SHARD_HEADER_BYTES) {
    throw new ShardError(file, `not a token shard: ${fileBytes} bytes, shorter than the ${SHARD_HEADER_BYTES}-byte header`);
  }
  const magic = header.readInt32LE(0);
  const version = header.readInt32LE(4);
  const numTokens = header.readInt32LE(8);
  if (magic !== SHARD_MAGIC) {
    throw new ShardError(file, `not a token shard: magic number ${magic}, expected ${SHARD_MAGIC}`);
  }
  if (version !== SHARD_VERSION) {
    throw new ShardError(file, `unsupported shard version ${version}, expected ${SHARD_VERSION}`);
  }
  if (numTokens < 0) throw new ShardError(file, `corrupt header: negative token count ${numTokens}`);
  const expected = SHARD_HEADER_BYTES + 2 * numTokens;
  if (fileBytes < expected) {
    throw new ShardError(file, `truncated: header says ${numTokens} tokens (${expected} bytes), file has ${fileBytes} bytes`);
  }
  if (fileBytes > expected) {
    throw new ShardError(file, `corrupt: header says ${numTokens} tokens (${expected} bytes), file has ${fileBytes} bytes (trailing data)`);
  }
  return { magic, version, numTokens };
}

/** Reads and validates only the header (cheap: for listing shards and checking inputs up front). */
export function readShardHeader(file: string): ShardHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new ShardError(file, `cannot open token shard (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const header = Buffer.alloc(SHARD_HEADER_BYTES);
    fs.readSync(fd, header, 0, Math.min(size, SHARD_HEADER_BYTES), 0);
    return checkHeader(file, header, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a whole shard into memory. */
export function readShard(file: string): Uint16Array {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new ShardError(file, `cannot read token shard (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const { numTokens } = checkHeader(file, bytes, bytes.length);
  const tokens = new Uint16Array(numTokens);
  // Copy rather than view: the Buffer's offset in its pool need not be 2-byte aligned.
  for (let i = 0; i < numTokens; i++) tokens[i] = bytes.readUInt16LE(SHARD_HEADER_BYTES + 2 * i);
  return tokens;
}

/** Encodes tokens as shard bytes; throws if a token does not fit in uint16. */
export function encodeShard(tokens: ArrayLike<number>, file = "<shard>"): Buffer {
  const out = Buffer.alloc(SHARD_HEADER_BYTES + 2 * tokens.length);
  out.writeInt32LE(SHARD_MAGIC, 0);
  out.writeInt32LE(SHARD_VERSION, 4);
  out.writeInt32LE(tokens.length, 8);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t > MAX_SHARD_TOKEN) {
      throw new ShardError(file, `token ${t} at position ${i} does not fit in uint16 (0..${MAX_SHARD_TOKEN})`);
    }
    out.writeUInt16LE(t, SHARD_HEADER_BYTES + 2 * i);
  }
  return out;
}

/** Writes a shard atomically (temp file + rename): a crash never leaves half a shard. */
export function writeShard(file: string, tokens: ArrayLike<number>): void {
  writeFileAtomic(file, encodeShard(tokens, file));
}
