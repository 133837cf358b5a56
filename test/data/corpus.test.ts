import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  BpeTokenizer, openDataset, prepareCorpus, readShard, shuffleDocuments, splitDocuments, splitTrainVal, DEFAULT_FORTUNES_DIR,
} from "../../src/data";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-corpus-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

// A small fortune folder: 300 deterministic "documents" over two files, plus files that must be ignored.
const words = "time flies like an arrow fruit flies like a banana the answer is forty two don't panic".split(" ");
function fortuneFile(n: number, offset: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 5 + ((i * 7 + offset) % 11);
    docs.push(Array.from({ length: len }, (_, k) => words[(i * 3 + k * 5 + offset) % words.length]).join(" ") + (i % 4 === 0 ? "\n\t-- someone" : ""));
  }
  return docs.join("\n%\n") + "\n%\n";
}
const src = path.join(tmp, "src");
fs.mkdirSync(src);
fs.writeFileSync(path.join(src, "alpha"), fortuneFile(150, 0));
fs.writeFileSync(path.join(src, "beta"), fortuneFile(150, 3).replace(/\n/g, "\r\n"));
fs.writeFileSync(path.join(src, "alpha.dat"), Buffer.from([1, 2, 3])); // fortune index files are skipped
fs.writeFileSync(path.join(src, "alpha.u8"), "ignored");

test("fortune files split on lines holding only %", () => {
  const docs = splitDocuments(Buffer.from("one\n%\ntwo\nlines\n%\n\n%\nthree\n%\n"));
  assert.deepEqual(docs.map(String), ["one", "two\nlines", "three"]);
});

test("plain text splits into paragraphs", () => {
  const docs = splitDocuments(Buffer.from("Para one\nstill one.\n\n\nPara two.\n  \nPara three.\n"));
  assert.deepEqual(docs.map(String), ["Para one\nstill one.", "Para two.", "Para three."]);
});

test("95/5 split by contiguous blocks keeps every document once, in order", () => {
  const docs = Array.from({ length: 1000 }, (_, i) => Buffer.from(`document ${i} `.repeat(1 + (i % 5))));
  const { train, val } = splitTrainVal(docs);
  assert.equal(train.length + val.length, docs.length);
  const valBytes = val.reduce((n, d) => n + d.length, 0);
  const total = docs.reduce((n, d) => n + d.length, 0);
  assert.ok(Math.abs(valBytes / total - 0.05) < 0.01, `val share ${valBytes / total}`);
  const valIds = val.map((d) => Number(String(d).split(" ")[1]));
  assert.deepEqual(valIds, [...valIds].sort((a, b) => a - b), "validation keeps source order");
  assert.ok(valIds.some((id, k) => k > 0 && id !== valIds[k - 1] + 1), "several blocks, not one");
  assert.throws(() => splitTrainVal(docs.slice(0, 3)), /too small to split 95\/5: 3 documents/);
});

test("prepare writes shards, tokenizer and meta; re-running gives byte-identical files", () => {
  const outA = path.join(tmp, "a");
  const outB = path.join(tmp, "b");
  const metaA = prepareCorpus({ source: src, out: outA, vocabSize: 300 });
  prepareCorpus({ source: src, out: outB, vocabSize: 300 });
  const files = ["meta.json", "tokenizer.json", "train.bin", "val.bin"];
  assert.deepEqual(fs.readdirSync(outA).sort(), files);
  for (const f of files) assert.ok(fs.readFileSync(path.join(outA, f)).equals(fs.readFileSync(path.join(outB, f))), `${f} differs`);

  assert.deepEqual(metaA.source.files.map((f) => f.name), ["alpha", "beta"]);
  assert.equal(metaA.source.documents, 300);
  assert.equal(metaA.train.documents + metaA.val.documents, 300);
  const tok = BpeTokenizer.load(path.join(outA, "tokenizer.json"));
  assert.equal(metaA.tokenizer.eotToken, tok.eotToken);
  const train = readShard(path.join(outA, "train.bin"));
  assert.equal(train.length, metaA.train.tokens);
  assert.equal(train[0], tok.eotToken, "documents start with end-of-text");
  assert.equal(train.filter((t) => t === tok.eotToken).length, metaA.train.documents);
  // decoding the shards gives every source document back once (CRLF normalised), in shuffled order
  const sourceDocs = [fortuneFile(150, 0), fortuneFile(150, 3)].flatMap((f) => f.replace(/\n%\n$/, "").split("\n%\n"));
  const decoded = [train, readShard(path.join(outA, "val.bin"))].flatMap((shard) => {
    const docs: string[] = [];
    for (let i = 0; i < shard.length; ) {
      const end = shard.indexOf(tok.eotToken, i + 1);
      docs.push(tok.decode(shard.subarray(i + 1, end < 0 ? shard.length : end)));
      i = end < 0 ? shard.length : end;
    }
    return docs;
  });
  assert.deepEqual([...decoded].sort(), [...sourceDocs].sort());
  assert.notDeepEqual(decoded.slice(0, 20), sourceDocs.slice(0, 20), "training documents are shuffled, not in source (topic) order");

  const ds = openDataset(outA);
  assert.equal(ds.tokenizer, "byte-bpe");
  assert.equal(ds.trainTokens, metaA.train.tokens);
  assert.equal(ds.valTokens, metaA.val.tokens);
  assert.equal(ds.eotToken, tok.eotToken);
});

test("missing sources and folders give clear errors", () => {
  assert.throws(() => prepareCorpus({ source: path.join(tmp, "nope"), out: path.join(tmp, "c") }), /corpus source .*nope not found/);
  assert.throws(() => openDataset(path.join(tmp, "nope")), /dataset folder .*nope not found/);
  const empty = path.join(tmp, "empty");
  fs.mkdirSync(empty);
  assert.throws(() => openDataset(empty), /no meta\.json and no \*train\*\.bin/);
});

test("the shipped corpus opens and matches its meta", { skip: !fs.existsSync("data/fortunes/meta.json") && "data/fortunes not built" }, () => {
  const ds = openDataset("data/fortunes");
  const meta = JSON.parse(fs.readFileSync("data/fortunes/meta.json", "utf8"));
  assert.equal(ds.vocabSize, 2048);
  assert.equal(ds.eotToken, 2047);
  assert.equal(ds.trainTokens, meta.train.tokens);
  assert.ok(ds.trainTokens > 500_000);
});

test("the default source is Debian's fortunes", () => {
  assert.equal(DEFAULT_FORTUNES_DIR, "/usr/share/games/fortunes");
});

test("shuffleDocuments: a seeded permutation, the same for the same seed", () => {
  const docs = Array.from({ length: 100 }, (_, i) => i);
  const a = shuffleDocuments(docs, 1);
  assert.deepEqual([...a].sort((x, y) => x - y), docs);
  assert.deepEqual(shuffleDocuments(docs, 1), a);
  assert.notDeepEqual(shuffleDocuments(docs, 2), a);
  assert.notDeepEqual(a, docs);
});
