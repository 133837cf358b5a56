import { test } from "node:test";
import assert from "node:assert/strict";
import {
  crossing, crossingStep, crossingTime, groupCurve, groupRuns, linearGrid, lossAt, matchesRunPattern,
  rankRuns, seedGroupName, selectRuns, summarizeGroups,
} from "../../src/analysis";
import { run } from "./helpers";

// step, loss, time (s)
const r = run("r", [[0, 4.0, 0], [100, 3.0, 10], [200, 2.0, 30]]);

test("crossing: linear interpolation in time and step between the evaluations around it", () => {
  assert.deepEqual(crossing(r, 2.5), { timeS: 20, step: 150 });
  assert.deepEqual(crossing(r, 2.75), { timeS: 15, step: 125 });
  assert.equal(crossingTime(r, 3.5), 5);
  assert.equal(crossingStep(r, 3.5), 50);
  // The last three evaluations of run 13 of the post: it crosses 2.92 between steps 5875 and 5960.
  const real = run("13", [[5750, 2.924825, 1391.86], [5875, 2.92071, 1424.003], [5960, 2.919369, 1445.945]]);
  const f = (2.92071 - 2.92) / (2.92071 - 2.919369);
  assert.ok(Math.abs(crossingTime(real, 2.92)! - (1424.003 + f * (1445.945 - 1424.003))) < 1e-9);
  assert.ok(Math.abs(crossingStep(real, 2.92)! - (5875 + f * 85)) < 1e-9);
  assert.ok(Math.abs(crossingTime(real, 2.92)! - 1435.6203) < 1e-4);
});

test("crossing: exactly at an evaluation, at the first one, and never", () => {
  assert.deepEqual(crossing(r, 3.0), { timeS: 10, step: 100 }); // reaching the target counts
  assert.deepEqual(crossing(r, 2.0), { timeS: 30, step: 200 });
  assert.deepEqual(crossing(r, 5.0), { timeS: 0, step: 0 }); // already below at the first evaluation
  assert.equal(crossing(r, 1.99), null);
  assert.equal(crossingTime(r, 1.99), null);
  assert.equal(crossingStep(r, 1.99), null);
});

test("crossing: the first crossing counts, not a later one after the loss went back up", () => {
  const bumpy = run("b", [[0, 3.0, 0], [1, 2.5, 1], [2, 3.0, 2], [3, 2.0, 3]]);
  assert.deepEqual(crossing(bumpy, 2.75), { timeS: 0.5, step: 0.5 });
});

test("lossAt: interpolation inside, exact at evaluations, null outside", () => {
  assert.equal(lossAt(r, 20), 2.5);
  assert.equal(lossAt(r, 10), 3.0);
  assert.equal(lossAt(r, 150, "step"), 2.5);
  assert.equal(lossAt(r, 30.0001), null);
  assert.equal(lossAt(r, -1), null);
  assert.deepEqual(linearGrid(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(linearGrid(3, 3, 10), [3]);
});

test("rankRuns: ranks on a common grid, ties share the mean rank, gaps to the reference", () => {
  const falling = run("falling", [[0, 3.0, 0], [100, 2.0, 10]]); // 2.5 at t = 5
  const flat = run("flat", [[0, 2.5, 0], [100, 2.5, 10]]);
  const worse = run("worse", [[0, 4.0, 0], [100, 4.0, 10]]);
  const twin = run("twin", [[0, 4.0, 0], [100, 4.0, 10]]);
  const ranking = rankRuns([worse, falling, flat, twin], { from: 0, to: 10, points: 11, ref: "flat" });
  const by = Object.fromEntries(ranking.rows.map((x) => [x.run, x]));
  // falling is 2nd for t < 5, tied with flat at t = 5 (1.5 each), 1st after: (5·2 + 1.5 + 5·1) / 11.
  assert.equal(by.falling.meanRank, 16.5 / 11);
  assert.equal(by.flat.meanRank, 16.5 / 11);
  assert.equal(by.worse.meanRank, 3.5); // always tied with twin for 3rd and 4th
  assert.equal(by.twin.meanRank, 3.5);
  assert.equal(by.worse.meanLoss, 4);
  assert.equal(by.flat.meanGapToRef, 0);
  assert.equal(by.worse.meanGapToRef, 1.5);
  assert.ok(Math.abs(by.falling.meanGapToRef) < 1e-12);
  assert.deepEqual(ranking.rows.slice(2).map((x) => x.run), ["twin", "worse"].sort());
  assert.equal(ranking.ref, "flat");
  assert.equal(ranking.clipped, false);
  assert.equal(ranking.points, 11);
});

test("rankRuns: default reference is the best run; window cut to what every run covers; step axis", () => {
  const a = run("a", [[0, 3.0, 0], [100, 2.0, 10]]);
  const b = run("b", [[0, 3.5, 0], [80, 2.5, 8]]);
  const ranking = rankRuns([b, a], { from: 2, to: 20, points: 4 });
  assert.deepEqual(ranking.rows.map((x) => x.run), ["a", "b"]);
  assert.equal(ranking.ref, "a");
  assert.equal(ranking.clipped, true);
  assert.equal(ranking.from, 2);
  assert.equal(ranking.to, 8);
  // b - a = 0.5 - t/40 at t = 2, 4, 6, 8.
  assert.ok(Math.abs(ranking.rows[1].meanGapToRef - 0.375) < 1e-12);
  const bySteps = rankRuns([a, b], { from: 0, to: 80, axis: "step", points: 5 });
  assert.equal(bySteps.to, 80);
  assert.equal(bySteps.clipped, false);
  assert.throws(() => rankRuns([a, b], { from: 50, to: 60 }), /no part of \[50, 60\]/);
  assert.throws(() => rankRuns([a, b], { from: 0, to: 5, ref: "zz" }), /reference run 'zz'/);
  assert.throws(() => rankRuns([a], { from: 5, to: 1 }), /empty/);
});

test("groups: seed group names, mean/std curves, crossing-time summary over the runs that cross", () => {
  assert.equal(seedGroupName("adding/baseline/seed-3"), "adding/baseline");
  assert.equal(seedGroupName("25 7"), "25");
  assert.equal(seedGroupName("add-1/seed-0"), "add-1", "a variant name ending in a number keeps it");
  assert.equal(seedGroupName("22-3"), "22");
  assert.equal(seedGroupName("13"), "13");
  const s0 = run("x/seed-0", [[0, 2, 0], [10, 4, 10]]);
  const s1 = run("x/seed-1", [[0, 4, 0], [10, 6, 10]]);
  const s2 = run("x/seed-2", [[0, 9, 0], [10, 9, 10]]);
  const other = run("y/seed-0", [[0, 1, 0], [10, 1, 10]]);
  const groups = groupRuns([s0, s1, other, s2]);
  assert.deepEqual(groups.map((g) => [g.name, g.runs.length]), [["x", 3], ["y", 1]]);
  const curve = groupCurve({ name: "x", runs: [s0, s1] }, { points: 3 });
  assert.deepEqual(curve.grid, [0, 5, 10]);
  assert.deepEqual(curve.mean, [3, 4, 5]);
  assert.deepEqual(curve.std, [Math.SQRT2, Math.SQRT2, Math.SQRT2]);
  assert.deepEqual(groupCurve({ name: "y", runs: [other] }, { points: 2 }).std, [0, 0]);
  const [x, y] = summarizeGroups(groups, 3);
  // seed-0 is at 2 from the start (crosses at 0 s), seed-1 and seed-2 never get down to 3.
  assert.equal(x.n, 3);
  assert.equal(x.nCrossed, 1);
  assert.equal(x.crossingTimeMean, 0);
  assert.equal(x.crossingTimeStd, null);
  assert.equal(x.finalLossMean, (4 + 6 + 9) / 3);
  assert.equal(y.finalLossStd, null);
  const byPattern = groupRuns([s0, s1, other], { xs: "x/*", ys: "y/*,nothing" });
  assert.deepEqual(byPattern.map((g) => g.runs.map((q) => q.name)), [["x/seed-0", "x/seed-1"], ["y/seed-0"]]);
});

test("--runs selection: comma lists, * wildcards, literal punctuation, unmatched patterns", () => {
  const runs = ["13", "13-1", "15", "25 0", "25 10", "22-3", "13 (2)", "a.b"].map((n) => run(n, [[0, 1, 0]]));
  const names = (spec: string) => selectRuns(runs, spec).runs.map((x) => x.name);
  assert.deepEqual(names("13,15"), ["13", "15"]);
  assert.deepEqual(names(" 15 , 13 "), ["13", "15"]); // load order, spaces around commas dropped
  assert.deepEqual(names("25 *"), ["25 0", "25 10"]);
  assert.deepEqual(names("22-*"), ["22-3"]);
  assert.deepEqual(names("13*"), ["13", "13-1", "13 (2)"]);
  assert.deepEqual(names("13 (2)"), ["13 (2)"]);
  assert.deepEqual(names("a?b,a.b"), ["a.b"]);
  assert.equal(names("*").length, runs.length);
  assert.deepEqual(selectRuns(runs, "13,99,x*").unmatched, ["99", "x*"]);
  assert.equal(selectRuns(runs, undefined).runs.length, runs.length);
  assert.equal(matchesRunPattern("25 0", "25*"), true);
  assert.equal(matchesRunPattern("125 0", "25*"), false);
});
