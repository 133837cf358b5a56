import { test } from "node:test";
import assert from "node:assert/strict";
import { mean, oneSampleTTest, pairedTTest, pooledStd, sampleStd, seedsForDifference, welchTTest } from "../../src/analysis";

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);

// Expected values from SciPy 1.10 (scipy.stats.ttest_1samp / ttest_ind(equal_var=False), t.ppf).
test("one-sample t-test (one-sided, mean below the threshold) matches SciPy", () => {
  const x = [2.918, 2.921, 2.919, 2.92, 2.917];
  const r = oneSampleTTest(x, 2.92);
  assert.equal(r.n, 5);
  assert.equal(r.df, 4);
  close(r.mean, 2.919);
  close(r.std, 0.0015811388300841559);
  close(r.t, -1.4142135623729697, 1e-7);
  close(r.p, 0.11509982054026643, 1e-7);
  close(r.upperBound, 2.920507443315534);
  assert.equal(r.level, 0.95);
  close(oneSampleTTest(x, 2.92, { level: 0.99 }).upperBound, 2.921649491906791);
  close(oneSampleTTest(x, 2.92, { alternative: "greater" }).p, 0.8849001794597335, 1e-7);
});

test("one-sample t-test: textbook critical values (t at p = 0.05, one-sided)", () => {
  // With n = 10 (df 9) the one-sided 5% critical value is 1.833: a sample whose t is exactly -1.833113 has p 0.05.
  const x = [-1, 1, -1, 1, -1, 1, -1, 1, -1, 1]; // mean 0, std 1.0541
  const shift = (1.8331129326536335 * sampleStd(x)) / Math.sqrt(10);
  const r = oneSampleTTest(x, shift);
  close(r.t, -1.8331129326536335);
  close(r.p, 0.05, 1e-9);
  close(r.upperBound, shift, 1e-9); // the bound sits exactly at the threshold when p = 0.05
});

test("Welch's t-test matches SciPy", () => {
  const a = [1, 2, 3, 4];
  const b = [2, 4, 6, 8, 10];
  const w = welchTTest(a, b);
  close(w.t, -2.2514363231593695, 1e-9);
  close(w.df, 5.520787746170677, 1e-9);
  close(w.p, 0.06913359319239236, 1e-7);
  close(w.pLess, 0.03456679659619618, 1e-7);
  close(w.pGreater, 1 - 0.03456679659619618, 1e-7);
  close(w.diff, -3.5);
  close(w.ciLow, -7.385368072817465, 1e-7);
  close(w.ciHigh, 0.38536807281746466, 1e-7);
  assert.deepEqual(w.a, { n: 4, mean: 2.5, std: sampleStd(a) });
});

test("t-tests refuse samples they cannot test", () => {
  assert.throws(() => oneSampleTTest([2.9], 2.92), /at least 2 values, got 1/);
  assert.throws(() => oneSampleTTest([2.9, NaN], 2.92), /not a finite number/);
  assert.throws(() => oneSampleTTest([2.9, 2.91], 2.92, { level: 1.5 }), /confidence level/);
  assert.throws(() => welchTTest([1, 2], [3]), /second group: a t-test needs at least 2 values/);
  assert.equal(mean([1, 2, 3]), 2);
  assert.ok(Number.isNaN(sampleStd([1])));
});

test("paired t-test: the one-sample test of the differences, two-sided, with its CI", () => {
  // diffs 1, 2, 3: mean 2, sd 1, t = 2/(1/√3) = 3.4641, df 2, p = 0.0742; CI 2 ± t(0.975, 2)·0.57735 = 2 ± 2.4841
  const r = pairedTTest([11, 12, 13], [10, 10, 10]);
  assert.deepEqual(r.diffs, [1, 2, 3]);
  assert.equal(r.mean, 2);
  assert.ok(Math.abs(r.t - 3.4641) < 1e-4 && r.df === 2);
  assert.ok(Math.abs(r.p - 0.0742) < 1e-4, `p ${r.p}`);
  assert.ok(Math.abs(r.ciLow - -0.4841) < 1e-4 && Math.abs(r.ciHigh - 4.4841) < 1e-4, `${r.ciLow} ${r.ciHigh}`);
  // pairing removes what the pairs share: a common per-seed offset leaves the paired test untouched, not Welch
  const offsets = [0, 5, -3];
  const shifted = pairedTTest([11, 12, 13].map((x, i) => x + offsets[i]), [10, 10, 10].map((x, i) => x + offsets[i]));
  assert.ok(Math.abs(shifted.p - r.p) < 1e-12);
  assert.ok(welchTTest([11, 17, 10], [10, 15, 7]).p > 0.5);
  assert.equal(pairedTTest([1, 2], [1, 2]).p, 1, "identical pairs: no difference");
  assert.throws(() => pairedTTest([1, 2, 3], [1, 2]), /3 values against 2/);
  assert.throws(() => pairedTTest([1], [2]), /at least 2 values/);
});

test("seedsForDifference: pairs a difference needs at p < 0.05 with 80 % power", () => {
  // (t.975,n−1 + t.8,n−1)·sd/√n ≤ δ: with sd = δ, n = 9 gives 1.065·δ, n = 10 gives 0.995·δ
  assert.equal(seedsForDifference(0.01, 0.01), 10);
  assert.equal(seedsForDifference(0.01, -0.01), 10, "the sign does not matter");
  assert.ok(seedsForDifference(0.005, 0.01) < seedsForDifference(0.01, 0.01));
  assert.equal(seedsForDifference(0, 0.01), 2);
  assert.throws(() => seedsForDifference(0.01, 0), /difference must be a non-zero/);
  assert.throws(() => seedsForDifference(NaN, 0.01), /paired standard deviation/);
  assert.ok(Math.abs(pooledStd([{ std: 3, n: 3 }, { std: 4, n: 3 }]) - Math.sqrt(12.5)) < 1e-12);
  assert.ok(Number.isNaN(pooledStd([{ std: 1, n: 1 }])));
});
