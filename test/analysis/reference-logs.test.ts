// Against the real logs of the post (../shared/reference-logs, never copied into the repo).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  crossingTime, finalEval, loadRuns, oneSampleTTest, rankRuns, selectRuns, summarizeGroups, welchTTest, type Run,
} from "../../src/analysis";
import { REFERENCE_LOGS } from "./helpers";

const have = fs.existsSync(REFERENCE_LOGS);
const skip = have ? false : `reference logs not found at ${REFERENCE_LOGS}`;
const file = (name: string) => path.join(REFERENCE_LOGS, name);
const load = (name: string) => loadRuns([file(name)]);
const named = (runs: Run[], name: string) => runs.find((r) => r.name === name)!;

test("every reference file loads without a problem", { skip }, () => {
  const expected: Record<string, [number, number | null]> = {
    "value-embeddings-results.md": [57, null],
    "value-embeddings-t-test-results.md": [79, null],
    "record-2025-04-22-medium-baseline.txt": [1, 5960],
    "record-2025-08-28-two-new-value-embeddings.txt": [1, 5820],
  };
  for (const [name, [count, total]] of Object.entries(expected)) {
    const { runs, problems } = load(name);
    assert.deepEqual(problems, [], name);
    assert.equal(runs.length, count, name);
    for (const r of runs) {
      assert.ok(r.evals.length >= 48, `${name} ${r.name}: ${r.evals.length} evaluations`);
      assert.equal(finalEval(r)!.step, r.totalSteps, `${name} ${r.name} ends at its total steps`);
    }
    if (total !== null) assert.equal(runs[0].totalSteps, total);
  }
  // The whole folder at once: same runs, no duplicate names.
  const all = loadRuns([REFERENCE_LOGS]);
  assert.deepEqual(all.problems, []);
  assert.equal(all.runs.length, 138);
});

test("raw logs: evaluations after the preamble, environment in meta", { skip }, () => {
  const base = load("record-2025-04-22-medium-baseline.txt").runs[0];
  assert.equal(base.name, "record-2025-04-22-medium-baseline");
  assert.equal(base.evals.length, 49);
  assert.deepEqual(base.evals[0], { step: 0, valLoss: 10.825837, timeS: 0 });
  assert.deepEqual(finalEval(base), { step: 5960, valLoss: 2.91975, timeS: 1468.898 });
  assert.equal(base.meta.gpuCount, 8);
  assert.equal(base.meta.gpu, "NVIDIA H100 80GB HBM3");
  assert.equal(base.meta.python, "3.12.9");
  const record = load("record-2025-08-28-two-new-value-embeddings.txt").runs[0];
  assert.deepEqual(finalEval(record), { step: 5820, valLoss: 2.919093, timeS: 1424.449 });
  // The record run is also the last of the t-test file's "26" seeds.
  const t = load("value-embeddings-t-test-results.md").runs;
  assert.deepEqual(named(t, "26 36").evals, record.evals);
});

// The post, "Adding value embeddings": the order and times at which the runs cross 2.92.
const POST_CROSSINGS: [string, string, number][] = [
  ["16", "2 additional", 1410],
  ["15", "1 additional", 1422],
  ["19", "5 additional", 1425],
  ["17", "3 additional", 1428],
  ["13", "baseline", 1436],
  ["18", "4 additional", 1444],
];

test("adding section: crossing times match the post (within its rounding to whole seconds)", { skip }, () => {
  const { runs } = load("value-embeddings-results.md");
  const times = POST_CROSSINGS.map(([name, label, stated]) => {
    const t = crossingTime(named(runs, name), 2.92)!;
    assert.ok(Math.abs(t - stated) < 1, `${label} (run ${name}): ${t.toFixed(2)} s vs ${stated} s in the post`);
    return t;
  });
  assert.deepEqual([...times].sort((a, b) => a - b), times, "same order as the post");
  // The repeat "13-1" is not the baseline of the post: it crosses 8 s earlier.
  assert.ok(Math.abs(crossingTime(named(runs, "13-1"), 2.92)! - 1428.02) < 0.01);
});

test("adding section: ranking before the crossing gives the post's best-to-worst order", { skip }, () => {
  const { runs } = load("value-embeddings-results.md");
  const adding = selectRuns(runs, "13,15,16,17,18,19").runs;
  for (const [from, to] of [[1100, 1400], [1200, 1400]]) {
    const ranking = rankRuns(adding, { from, to, ref: "13" });
    // 2 additional, 1 additional, baseline, 3, 5, 4 additional.
    assert.deepEqual(ranking.rows.map((r) => r.run), ["16", "15", "13", "17", "19", "18"], `window ${from}-${to}`);
    assert.ok(ranking.rows[0].meanGapToRef < -0.001); // two more tables: ahead of the baseline by > 0.001
  }
});

test("t-test file: 28 baseline seeds (25 *) vs 37 seeds with two more tables (26 *)", { skip }, () => {
  const { runs } = load("value-embeddings-t-test-results.md");
  const g25 = selectRuns(runs, "25 *").runs;
  const g26 = selectRuns(runs, "26 *").runs;
  assert.equal(g25.length, 28);
  assert.equal(g26.length, 37);
  assert.equal(selectRuns(runs, "Old results for 26/*").runs.length, 14); // the earlier 5800-step runs, kept apart
  const finals = (rs: Run[]) => rs.map((r) => finalEval(r)!.valLoss);
  // Reference numbers from SciPy on the same logs.
  const t25 = oneSampleTTest(finals(g25), 2.92);
  assert.ok(Math.abs(t25.mean - 2.9197368214285713) < 1e-12);
  assert.ok(Math.abs(t25.std - 0.0007835970267072948) < 1e-12);
  assert.ok(Math.abs(t25.t - -1.7772018695052398) < 1e-6);
  assert.ok(Math.abs(t25.p - 0.04340171700038697) < 1e-6);
  assert.ok(Math.abs(t25.upperBound - 2.9199890544627403) < 1e-9);
  const t26 = oneSampleTTest(finals(g26), 2.92);
  assert.ok(Math.abs(t26.mean - 2.919115378378378) < 1e-12);
  assert.ok(Math.abs(t26.t - -5.876968901489202) < 1e-6);
  assert.ok(Math.abs(t26.p - 5.07368129288152e-7) < 1e-10);
  assert.ok(t26.upperBound < 2.92 && t25.upperBound < t26.upperBound + 0.001);
  const w = welchTTest(finals(g26), finals(g25));
  assert.ok(Math.abs(w.t - -2.9430554080992954) < 1e-6);
  assert.ok(Math.abs(w.p - 0.004567825425111869) < 1e-6);
  // Crossing times: only runs that reach 2.92 count (17 of 28 baseline, 33 of 37).
  const [s25, s26] = summarizeGroups([{ name: "25", runs: g25 }, { name: "26", runs: g26 }], 2.92);
  assert.equal(s25.nCrossed, 17);
  assert.equal(s26.nCrossed, 33);
  assert.ok(Math.abs(s25.crossingTimeMean! - 1437.0994766637873) < 1e-6);
  assert.ok(Math.abs(s26.crossingTimeMean! - 1412.0557610107594) < 1e-6);
  assert.ok(Math.abs(s26.crossingTimeStd! - 14.706195926451178) < 1e-6);
});
