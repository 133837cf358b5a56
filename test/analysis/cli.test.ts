// The CLI as other tools use it: `npx valemb <command> … --json` from the repo root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REFERENCE_LOGS, evalLine, tempDir, write } from "./helpers";

const ROOT = path.join(__dirname, "..", "..");

function valemb(...args: string[]) {
  const r = spawnSync("npx", ["--no-install", "valemb", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const runLines = (losses: number[], total: number) => losses.map((l, i) => evalLine(i * 100, total, l, i * 10_000)).join("\n") + "\n";

function fixtures(): string {
  const dir = tempDir();
  write(dir, "logs/a.txt", `some preamble\n${runLines([4, 3, 2.9, 2.8], 300)}`);
  write(dir, "logs/b.txt", runLines([4, 3.1, 3.0, 2.95], 300));
  write(dir, "logs/agg.md", `## c 0\n${runLines([4, 3.0, 2.85, 2.8], 300)}## c 1\n${runLines([4, 3.0, 2.8, 2.7], 300)}## broken\nstep:0/300 val_loss:4.0 oops\n`);
  return path.join(dir, "logs");
}

test("crossings --json: the contract, problems on stderr with file and line, good runs reported", () => {
  const logs = fixtures();
  const r = valemb("crossings", logs, "--threshold", "2.92", "--json");
  assert.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out);
  assert.deepEqual(rows.map((x: { run: string }) => x.run), ["c 1", "c 0", "a", "b"]);
  assert.deepEqual(Object.keys(rows[0]), ["run", "crossingTimeS", "crossingStep", "finalLoss", "finalStep", "finalTimeS"]);
  assert.deepEqual(rows[0], { run: "c 1", crossingTimeS: 14, crossingStep: 140, finalLoss: 2.7, finalStep: 300, finalTimeS: 30 });
  assert.equal(rows[3].crossingTimeS, null);
  assert.equal(rows[3].crossingStep, null);
  assert.match(r.err, /agg\.md:12: run 'broken': garbled step line: cannot read 'oops'; run left out/);
  // --runs selection and --csv.
  const csv = path.join(path.dirname(logs), "t.csv");
  const sel = valemb("crossings", logs, "--runs", "c *", "--csv", csv);
  assert.equal(sel.code, 0, sel.err);
  assert.match(sel.out, /^crossing of val_loss 2\.92/);
  assert.match(sel.out, /\nc 1 +14\.00 +140\.0 +2\.700000 +300 +30\nc 0 +15\.33 +153\.3 /);
  assert.equal(fs.readFileSync(csv, "utf8").split("\n")[1], "c 1,14,140,2.7,300,30");
});

test("rank --json and ttest --json on the same runs", () => {
  const logs = fixtures();
  const rank = valemb("rank", logs, "--from", "0", "--to", "30", "--ref", "b", "--runs", "a,b,c*", "--json");
  assert.equal(rank.code, 0, rank.err);
  const rows = JSON.parse(rank.out);
  assert.deepEqual(Object.keys(rows[0]), ["run", "meanRank", "meanLoss", "meanGapToRef"]);
  assert.equal(rows[0].run, "c 1");
  assert.equal(rows.find((x: { run: string }) => x.run === "b").meanGapToRef, 0);
  const tt = valemb("ttest", logs, "--runs", "c *,a", "--threshold", "2.92", "--json");
  assert.equal(tt.code, 0, tt.err);
  const t = JSON.parse(tt.out);
  assert.deepEqual(Object.keys(t).slice(0, 7), ["n", "mean", "std", "t", "p", "upperBound", "threshold"]);
  assert.equal(t.n, 3);
  assert.ok(Math.abs(t.mean - 2.7666666666666666) < 1e-12);
});

test("nothing usable: a clear message and a non-zero exit", () => {
  const dir = tempDir();
  write(dir, "bad.txt", "step:0/10 val_loss:nan train_time:0ms step_avg:0ms\n");
  const r = valemb("crossings", path.join(dir, "bad.txt"), "--json");
  assert.equal(r.code, 1);
  assert.equal(r.out, "");
  assert.match(r.err, /bad\.txt:1: run 'bad': val_loss is nan/);
  assert.match(r.err, /no usable runs/);
  const none = valemb("rank", path.join(dir, "missing"), "--from", "0", "--to", "1");
  assert.equal(none.code, 1);
  assert.match(none.err, /missing: no such file or folder/);
  assert.equal(valemb("rank", dir).code, 2); // no window: usage error
});

test("reference logs through the CLI: the post's crossing times, the 25 vs 26 t-tests", { skip: fs.existsSync(REFERENCE_LOGS) ? false : `reference logs not found at ${REFERENCE_LOGS}` }, () => {
  const rel = path.relative(ROOT, REFERENCE_LOGS);
  const r = valemb("crossings", rel, "--runs", "13,15,16,17,18,19", "--json");
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, "");
  const rows = JSON.parse(r.out) as { run: string; crossingTimeS: number }[];
  assert.deepEqual(rows.map((x) => [x.run, Math.round(x.crossingTimeS)]), [["16", 1411], ["15", 1422], ["19", 1425], ["17", 1428], ["13", 1436], ["18", 1444]]);
  const w = valemb("ttest", rel, "--runs", "26 *", "--vs", "25 *", "--json");
  assert.equal(w.code, 0, w.err);
  const welch = JSON.parse(w.out);
  assert.equal(welch.finalLoss.a.n, 37);
  assert.equal(welch.finalLoss.b.n, 28);
  assert.ok(welch.finalLoss.p < 0.01);
  assert.equal(welch.crossingTimeS.a.n, 33);
  assert.ok(welch.crossingTimeS.diff < -20);
  assert.equal(welch.crossingTimeS.notCrossed.second.length, 11);
});
