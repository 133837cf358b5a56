// Data identity comes from the data (issue 13, case 4): changed shards, half-prepared folders and
// incomplete meta.json are refused with clear errors; an interrupted prepare's swap is rolled back.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HASH_CACHE_FILE, openDataset } from "../../src/data";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-dataset-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const copyCorpus = (name: string) => {
  const dir = path.join(tmp, name);
  fs.cpSync("data/fortunes", dir, { recursive: true, filter: (f) => !f.endsWith(HASH_CACHE_FILE) });
  return dir;
};

test("a train.bin whose tokens changed (same size) is refused, even after its hash was cached", () => {
  const dir = copyCorpus("changed");
  const before = openDataset(dir).hash; // caches the hashes by size + mtime
  const bin = path.join(dir, "train.bin");
  const bytes = fs.readFileSync(bin);
  for (let i = 0; i < 200_000; i++) bytes.writeUInt16LE((bytes.readUInt16LE(1024 + 2 * i) + 1) % 2047, 1024 + 2 * i);
  fs.writeFileSync(bin, bytes);
  assert.throws(() => openDataset(dir), /train\.bin: its content \(sha256 [0-9a-f]{12}…\) is not what .*meta\.json records .*changed after `valemb data prepare`/);
  fs.copyFileSync("data/fortunes/train.bin", bin);
  assert.equal(openDataset(dir).hash, before, "the original bytes are the original dataset again");
});

test("a folder with tokenizer.json but no meta.json is not read as GPT-2 shards", () => {
  const dir = copyCorpus("no-meta");
  fs.rmSync(path.join(dir, "meta.json"));
  assert.throws(() => openDataset(dir), /has tokenizer\.json but no meta\.json, so it is not a complete `valemb data prepare` folder/);
});

test("meta.json with missing or wrong fields: an error naming the field, not a TypeError", () => {
  const dir = copyCorpus("bad-meta");
  const metaFile = path.join(dir, "meta.json");
  const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
  const write = (m: unknown) => fs.writeFileSync(metaFile, JSON.stringify(m));
  write({ ...meta, train: { ...meta.train, sha256: undefined } });
  assert.throws(() => openDataset(dir), /meta\.json: field "train\.sha256" is missing, expected the shard's sha256/);
  write({ ...meta, tokenizer: undefined });
  assert.throws(() => openDataset(dir), /meta\.json: field "tokenizer\.vocabSize" is missing/);
  write({ ...meta, tokenizer: { ...meta.tokenizer, eotToken: 5000 } });
  assert.throws(() => openDataset(dir), /field "tokenizer\.eotToken" is 5000, expected an integer below tokenizer\.vocabSize \(2048\)/);
  write({ format: "valemb-corpus" });
  assert.throws(() => openDataset(dir), /field "tokenizer\.vocabSize" is missing/);
});

test("a prepare killed between its two renames: the old corpus is put back, half-built folders go", () => {
  const old = copyCorpus(".c.old-99999999");
  const expected = openDataset(old).hash;
  fs.mkdirSync(path.join(tmp, ".c.preparing-99999998"));
  const dir = path.join(tmp, "c");
  assert.equal(openDataset(dir).hash, expected);
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith(".c.")), []);
});
