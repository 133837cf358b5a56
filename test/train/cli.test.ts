// `valemb train` and `valemb data prepare` as a sweep runner calls them: exit codes, JSON progress lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import "../engine/backends-here"; // VALEMB_TEST_BACKEND → VALEMB_BACKEND for train() and the CLI children

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-cli-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const valemb = (...args: string[]) => spawnSync(process.execPath, ["bin/valemb.js", ...args], { encoding: "utf8", timeout: 120_000 });

test("train --json-progress: one JSON object per line on stderr, summary on stdout", () => {
  const out = path.join(tmp, "run");
  const r = valemb("train", "--preset", "smoke", "--steps", "4", "--eval-every", "2", "--out", out, "--json-progress");
  assert.equal(r.status, 0, r.stderr);
  const recs = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((p) => p.step), [0, 1, 2, 2, 3, 4, 4]);
  assert.deepEqual(Object.keys(recs[1]), ["step", "totalSteps", "trainLoss", "tokensPerS", "etaS"]);
  assert.equal(typeof recs[6].valLoss, "number");
  assert.match(r.stdout, /4 steps, final val_loss \d+\.\d{6}/);
  assert.ok(JSON.parse(fs.readFileSync(path.join(out, "meta.json"), "utf8")).finished);
  // the same command again: nothing to do
  const again = valemb("train", "--preset", "smoke", "--steps", "4", "--eval-every", "2", "--out", out);
  assert.equal(again.status, 0);
  assert.match(again.stdout, /already finished/);
});

test("bad input: clear message, non-zero exit, no run folder", () => {
  const out = path.join(tmp, "bad");
  const r = valemb("train", "--preset", "smoke", "--layout", "0123", "--out", out);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /layout "0123" has 4 layers, but the model has 16/);
  assert.equal(fs.existsSync(out), false);
  const r2 = valemb("train", "--preset", "nope"); // no --out: the default folder is named, and nothing is written there
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /run folder: runs\/nope\/baseline\/seed-0\n[^]*unknown preset "nope"/);
  assert.equal(fs.existsSync(path.join(__dirname, "../../runs/nope")), false);
});

test("data prepare --source: any text folder", () => {
  const src = path.join(tmp, "src");
  fs.mkdirSync(src);
  const para = (i: number) => `Paragraph ${i} talks about ${["cats", "dogs", "the sea", "trains"][i % 4]} and ${i % 7} other things.`;
  fs.writeFileSync(path.join(src, "book.txt"), Array.from({ length: 400 }, (_, i) => para(i)).join("\n\n"));
  const out = path.join(tmp, "corpus");
  const r = valemb("data", "prepare", "--source", src, "--out", out, "--vocab", "300");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /train \d+ tokens \(\d+ documents\), val \d+ tokens/);
  assert.deepEqual(fs.readdirSync(out).sort(), ["meta.json", "tokenizer.json", "train.bin", "val.bin"]);
  const missing = valemb("data", "prepare", "--source", path.join(tmp, "nope"), "--out", path.join(tmp, "x"));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /corpus source .*nope not found/);
});
