import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BpeTokenizer, Gpt2Tokenizer, encodeDocument, pretokenize, trainBpe } from "../../src/data";

const text = [
  "The quick brown fox jumps over the lazy dog. The dog doesn't care; it's asleep.",
  "Pack my box with five dozen liquor jugs! 12345 + 67890 = 80235",
  "Ünïcödé stays intact: naïve café, 日本語, emoji 🦊, tabs\tand  spaces\n\n  trailing   ",
  "the the the then there their theory theorem",
].join("\n");
const docs = text.split("\n").map((s) => Buffer.from(s, "utf8"));

test("pre-tokenizer is lossless on any bytes", () => {
  const bytes = Buffer.concat([Buffer.from(text), Buffer.from([0xff, 0xa0, 0x85, 0x00, 0x0a, 0x20, 0xc3])]);
  const pieces = pretokenize(bytes);
  assert.ok(pieces.length > 20);
  assert.deepEqual(Buffer.from(pieces.join(""), "latin1"), bytes);
});

test("training is deterministic and stops at the requested vocabulary", () => {
  const a = trainBpe(docs, 300);
  const b = trainBpe([...docs], 300);
  assert.equal(a.serialize(), b.serialize());
  assert.ok(a.vocabSize <= 300);
  assert.equal(a.eotToken, a.vocabSize - 1, "end-of-text is the last id");
  // "he" occurs in every "the…" and in "The": the most frequent pair is merged first
  assert.deepEqual(a.merges[0].map((x) => String.fromCharCode(x)).join(""), "he");
});

test("ties break on the smallest pair, whatever the input order", () => {
  // "ab" and "cd" occur equally often: (a, b) must be merged first.
  const tie = [Buffer.from("cd cd ab ab"), Buffer.from("ab cd")];
  const t1 = trainBpe(tie, 258);
  const t2 = trainBpe([...tie].reverse(), 258);
  assert.deepEqual(t1.merges, t2.merges);
  assert.deepEqual(t1.merges, [[97, 98]]); // (a, b) and (c, d) both occur 3 times
});

test("encode/decode round trip, unseen text included", () => {
  const tok = trainBpe(docs, 400);
  for (const s of [text, "completely unseen words: zyxwvut QQQ ∑∫ 🦊🦊", "", "\n\n\n"]) {
    const ids = tok.encode(s);
    assert.ok(ids.every((id) => id >= 0 && id < tok.eotToken));
    assert.equal(tok.decode(ids), s);
  }
  assert.ok(tok.encode(text).length < 0.8 * Buffer.byteLength(text), `merges compress the training text: ${tok.encode(text).length} ids for ${Buffer.byteLength(text)} bytes`);
  const doc = encodeDocument(tok, "hi there");
  assert.equal(doc[0], tok.eotToken);
  assert.equal(tok.decode(doc), "hi there");
});

test("save/load gives the same tokenizer; bad files are named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-bpe-"));
  try {
    const tok = trainBpe(docs, 350);
    const f = path.join(dir, "tokenizer.json");
    tok.save(f);
    const back = BpeTokenizer.load(f);
    assert.equal(back.serialize(), tok.serialize());
    assert.deepEqual(back.encode(text), tok.encode(text));
    fs.writeFileSync(f, "{nope");
    assert.throws(() => BpeTokenizer.load(f), /tokenizer\.json: cannot read tokenizer/);
    fs.writeFileSync(f, JSON.stringify({ ...tok.toJSON(), merges: [[300, 1]] }));
    assert.throws(() => BpeTokenizer.load(f), /merge 0 \[300, 1\] refers to an id not yet defined/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("vocabulary bounds", () => {
  assert.throws(() => trainBpe(docs, 5000), /257\.\.4096/);
  assert.throws(() => trainBpe(docs, 256), /257\.\.4096/);
});

test("GPT-2 tokenizer from js-tiktoken: known ids, end-of-text 50256", () => {
  const g = new Gpt2Tokenizer();
  assert.deepEqual(g.encode("Hello world"), [15496, 995]);
  assert.equal(g.eotToken, 50256);
  assert.equal(g.vocabSize, 50257);
  assert.equal(g.decode(encodeDocument(g, "Hello world")), "Hello world");
  assert.ok(!g.encode("a<|endoftext|>b").includes(50256), "special text in documents is ordinary text");
});
