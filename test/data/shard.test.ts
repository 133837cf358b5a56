import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readShard, readShardHeader, writeShard, encodeShard, ShardError, SHARD_MAGIC, SHARD_HEADER_BYTES } from "../../src/data";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-shard-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

test("round trip keeps every token, header as modded-nanogpt writes it", () => {
  const tokens = [0, 1, 50256, 65535, 7, 7, 2047];
  const f = path.join(tmp, "a.bin");
  writeShard(f, tokens);
  assert.deepEqual(Array.from(readShard(f)), tokens);
  const bytes = fs.readFileSync(f);
  assert.equal(bytes.length, SHARD_HEADER_BYTES + 2 * tokens.length);
  assert.equal(bytes.readInt32LE(0), 20240520);
  assert.equal(bytes.readInt32LE(4), 1);
  assert.equal(bytes.readInt32LE(8), tokens.length);
  assert.equal(bytes.readUInt16LE(SHARD_HEADER_BYTES + 2 * 3), 65535);
  assert.deepEqual(readShardHeader(f), { magic: SHARD_MAGIC, version: 1, numTokens: tokens.length });
  assert.deepEqual(fs.readdirSync(tmp), ["a.bin"], "no temp file left behind");
});

test("empty shard is valid", () => {
  const f = path.join(tmp, "empty.bin");
  writeShard(f, []);
  assert.equal(readShard(f).length, 0);
});

function corrupt(name: string, edit: (b: Buffer) => Buffer): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, edit(encodeShard([1, 2, 3, 4])));
  return f;
}

test("wrong magic names the file and the numbers", () => {
  const f = corrupt("magic.bin", (b) => { b.writeInt32LE(12345, 0); return b; });
  assert.throws(() => readShard(f), (e: Error) => e instanceof ShardError && e.message.includes(f) && /magic number 12345, expected 20240520/.test(e.message));
  assert.throws(() => readShardHeader(f), /magic/);
});

test("wrong version", () => {
  const f = corrupt("version.bin", (b) => { b.writeInt32LE(7, 4); return b; });
  assert.throws(() => readShard(f), /version\.bin: unsupported shard version 7, expected 1/);
});

test("truncated: count larger than the file", () => {
  const f = corrupt("trunc.bin", (b) => b.subarray(0, b.length - 3));
  assert.throws(() => readShard(f), /trunc\.bin: truncated: header says 4 tokens \(1032 bytes\), file has 1029 bytes/);
  assert.throws(() => readShardHeader(f), /truncated/);
});

test("shorter than the header", () => {
  const f = corrupt("short.bin", (b) => b.subarray(0, 100));
  assert.throws(() => readShard(f), /short\.bin: not a token shard: 100 bytes/);
});

test("trailing bytes are corruption too", () => {
  const f = corrupt("long.bin", (b) => Buffer.concat([b, Buffer.alloc(2)]));
  assert.throws(() => readShard(f), /long\.bin: corrupt: .*trailing data/);
});

test("missing file", () => {
  assert.throws(() => readShard(path.join(tmp, "nope.bin")), /nope\.bin: cannot read token shard \(ENOENT\)/);
});

test("token ids that do not fit in uint16 are refused, nothing written", () => {
  const f = path.join(tmp, "big.bin");
  assert.throws(() => writeShard(f, [1, 65536]), /big\.bin: token 65536 at position 1 does not fit in uint16/);
  assert.throws(() => writeShard(f, [-1]), /token -1 at position 0/);
  assert.throws(() => writeShard(f, [1.5]), /token 1.5/);
  assert.equal(fs.existsSync(f), false);
});
