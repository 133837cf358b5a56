import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TokenLoader, loadValidationSet, writeShard } from "../../src/data";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-loader-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const s0 = path.join(tmp, "train_0.bin");
const s1 = path.join(tmp, "train_1.bin");
writeShard(s0, range(0, 50));
writeShard(s1, range(100, 130));

test("contiguous batches, targets shifted by one, then the next shard, then wrap around", () => {
  const l = new TokenLoader([s0, s1], 2, 10);
  const b1 = l.next();
  assert.deepEqual(Array.from(b1.inputs), range(0, 20));
  assert.deepEqual(Array.from(b1.targets), range(1, 21));
  assert.deepEqual(Array.from(l.next().inputs), range(20, 40));
  assert.deepEqual(l.state, { file: 0, pos: 40, epoch: 0 });
  // 40 + 21 > 50: next shard
  assert.deepEqual(Array.from(l.next().inputs), range(100, 120));
  assert.deepEqual(l.state, { file: 1, pos: 20, epoch: 0 });
  // 20 + 21 > 30: wrap to the first shard, epoch 1
  assert.deepEqual(Array.from(l.next().inputs), range(0, 20));
  assert.deepEqual(l.state, { file: 0, pos: 20, epoch: 1 });
});

test("a restored position continues exactly", () => {
  const a = new TokenLoader([s0, s1], 2, 10);
  a.next(); a.next();
  const saved = JSON.parse(JSON.stringify(a.state));
  const expected = [a.next(), a.next(), a.next()].map((b) => Array.from(b.inputs));
  const b = new TokenLoader([s0, s1], 2, 10, saved);
  assert.deepEqual([b.next(), b.next(), b.next()].map((x) => Array.from(x.inputs)), expected);
  assert.throws(() => b.restore({ file: 5, pos: 0, epoch: 0 }), /invalid state/);
});

test("a shard smaller than one batch is refused, naming it", () => {
  assert.throws(() => new TokenLoader([s0, s1], 2, 20), /train_1\.bin: 30 tokens, fewer than one batch of 2×20\+1 = 41/);
});

test("validation set: first N tokens in whole batches, always the same", () => {
  const v = loadValidationSet([s0], 45, 2, 10);
  assert.equal(v.tokens, 40);
  assert.equal(v.batches.length, 2);
  assert.deepEqual(Array.from(v.batches[1].inputs), range(20, 40));
  assert.deepEqual(Array.from(v.batches[1].targets), range(21, 41));
  // asking for more than there is uses what there is
  assert.equal(loadValidationSet([s0], 1000, 2, 10).tokens, 40);
  assert.throws(() => loadValidationSet([s1], 100, 2, 20), /hold 30 tokens; need at least one batch of 2×20\+1/);
});
