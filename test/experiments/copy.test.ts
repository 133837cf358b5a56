// Twin copies and leftovers (issue 13, cases 5 and 6): a finished run copied onto a folder that
// already holds something (an unreadable meta.json) replaces it, and half-done copies and temp files
// of killed writers are invisible to the analysis (`valemb crossings` on a sweep root) and cleaned.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadRuns } from "../../src/analysis";
import { copyRun, removeCopyLeftovers } from "../../src/experiments";
import { evalRecord, formatTrainLine, formatValLine } from "../../src/train";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-copy-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A finished 4-step run folder as the trainer writes it. */
function finishedRun(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const log: string[] = [], evals: string[] = [];
  for (let s = 0; s <= 4; s++) {
    if (s > 0) log.push(formatTrainLine(s, 4, 100 * s));
    if (s % 2 === 0) { log.push(formatValLine(s, 4, 5 - s / 2, 100 * s)); evals.push(JSON.stringify(evalRecord(s, 4, 5 - s / 2, 100 * s))); }
  }
  fs.writeFileSync(path.join(dir, "log.txt"), log.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "evals.jsonl"), evals.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ identity: "abc", finished: "2026-01-01T00:00:00Z", steps: 4 }));
}

test("copying a finished twin onto a folder with an unreadable meta.json replaces it; the analysis sees two runs", () => {
  const root = path.join(tmp, "root");
  const from = path.join(root, "adding", "baseline", "seed-0");
  const to = path.join(root, "shifting", "baseline", "seed-0");
  finishedRun(from);
  fs.mkdirSync(to, { recursive: true });
  fs.writeFileSync(path.join(to, "meta.json"), "{ not json");
  fs.writeFileSync(path.join(to, "log.txt"), "step:0/4 val_loss:9.000000 train_time:0ms step_avg:0.00ms\n");
  copyRun(from, to);
  assert.deepEqual(fs.readFileSync(path.join(to, "evals.jsonl")), fs.readFileSync(path.join(from, "evals.jsonl")));
  assert.equal(JSON.parse(fs.readFileSync(path.join(to, "meta.json"), "utf8")).copiedFrom, "adding/baseline/seed-0");
  const aside = fs.readdirSync(path.dirname(to)).filter((n) => n.startsWith("seed-0.stale-"));
  assert.equal(aside.length, 1, "what the folder held is kept aside, not lost");
  const loaded = loadRuns([root]);
  assert.deepEqual(loaded.runs.map((r) => r.name).sort(), ["adding/baseline/seed-0", "shifting/baseline/seed-0"]);
  assert.deepEqual(loaded.problems, []);
});

test("leftovers of killed writers: ignored by the analysis, removed by the next sweep", () => {
  const root = path.join(tmp, "leftovers");
  const run = path.join(root, "adding", "baseline", "seed-0");
  finishedRun(run);
  finishedRun(path.join(root, "adding", "baseline", "seed-1.copying-4242")); // an older sweep's visible half copy
  finishedRun(path.join(root, "adding", "baseline", ".seed-2.copying-4243"));
  fs.writeFileSync(path.join(run, "meta.json.tmp-4244"), "{");
  fs.writeFileSync(path.join(run, "log.txt.tmp-4245"), "step:9/4 val_loss:1.000000 train_time:1ms step_avg:1.00ms\n");
  const loaded = loadRuns([root]);
  assert.deepEqual(loaded.runs.map((r) => r.name), ["adding/baseline/seed-0"]);
  assert.deepEqual(loaded.problems, []);
  assert.equal(removeCopyLeftovers(path.join(root, "adding")).length, 2);
  assert.deepEqual(fs.readdirSync(path.join(root, "adding", "baseline")), ["seed-0"]);
});
