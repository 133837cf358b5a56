// Significance over seeds: a one-sided one-sample t-test against the target loss (is the mean below
// 2.92?) and Welch's two-sample test (do two layouts differ?). The t distribution comes from @stdlib.
import tCdf from "@stdlib/stats-base-dists-t-cdf"; // not `import x = require`: tslab compiles to ES modules
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

export function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Sample standard deviation (n - 1 in the denominator); NaN below two values. */
export function sampleStd(xs: number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

function checkSample(xs: number[], what: string): void {
  if (xs.length < 2) throw new Error(`${what}: a t-test needs at least 2 values, got ${xs.length}`);
  const bad = xs.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new Error(`${what}: value ${bad} is not a finite number`);
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level must be in (0, 1), got ${level}`);
}

export interface OneSampleTTest {
  n: number;
  mean: number;
  /** Sample standard deviation. */
  std: number;
  t: number;
  df: number;
  /** One-sided p-value for the alternative (default: the true mean is below the threshold). */
  p: number;
  /** One-sided upper confidence bound of the mean at `level`: the mean is below it with that confidence. */
  upperBound: number;
  /** One-sided lower confidence bound of the mean at `level`. */
  lowerBound: number;
  threshold: number;
  level: number;
  alternative: "less" | "greater";
}

/**
 * One-sample t-test of `values` against `threshold`. With the default alternative "less" a small p
 * says the mean is below the threshold (the speedrun's "final loss < 2.92" claim).
 */
export function oneSampleTTest(
  values: number[], threshold: number,
  opts: { level?: number; alternative?: "less" | "greater" } = {},
): OneSampleTTest {
  const level = opts.level ?? 0.95;
  const alternative = opts.alternative ?? "less";
  checkSample(values, "one-sample t-test");
  checkLevel(level);
  const n = values.length;
  const df = n - 1;
  const m = mean(values);
  const s = sampleStd(values);
  const se = s / Math.sqrt(n);
  const t = (m - threshold) / se; // ±Infinity (p 0 or 1) when every value is the same
  const p = alternative === "less" ? tCdf(t, df) : tCdf(-t, df); // symmetry keeps small p-values exact
  const q = tQuantile(level, df);
  return { n, mean: m, std: s, t, df, p, upperBound: m + q * se, lowerBound: m - q * se, threshold, level, alternative };
}

export interface SampleSummary {
  n: number;
  mean: number;
  std: number;
}

export interface WelchTTest {
  a: SampleSummary;
  b: SampleSummary;
  /** mean(a) - mean(b). */
  diff: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** One-sided p-value for mean(a) < mean(b). */
  pLess: number;
  /** One-sided p-value for mean(a) > mean(b). */
  pGreater: number;
  /** Two-sided confidence interval of the difference at `level`. */
  ciLow: number;
  ciHigh: number;
  level: number;
}

/** Welch's t-test (unequal variances) between two samples. */
export function welchTTest(a: number[], b: number[], opts: { level?: number } = {}): WelchTTest {
  const level = opts.level ?? 0.95;
  checkSample(a, "Welch t-test, first group");
  checkSample(b, "Welch t-test, second group");
  checkLevel(level);
  const sa = { n: a.length, mean: mean(a), std: sampleStd(a) };
  const sb = { n: b.length, mean: mean(b), std: sampleStd(b) };
  const va = sa.std ** 2 / sa.n;
  const vb = sb.std ** 2 / sb.n;
  const se = Math.sqrt(va + vb);
  const diff = sa.mean - sb.mean;
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1));
  const pLess = tCdf(t, df);
  const pGreater = tCdf(-t, df);
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return { a: sa, b: sb, diff, t, df, p: Math.min(1, 2 * Math.min(pLess, pGreater)), pLess, pGreater, ciLow: diff - half, ciHigh: diff + half, level };
}

export interface PairedTTest {
  n: number;
  /** a[i] − b[i], pair by pair. */
  diffs: number[];
  /** Mean of the differences. */
  mean: number;
  /** Sample standard deviation of the differences. */
  std: number;
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Two-sided confidence interval of the mean difference at `level`. */
  ciLow: number;
  ciHigh: number;
  level: number;
}

/** Paired t-test of a[i] − b[i] (the same seed trained as two variants): a one-sample test of the differences against 0. */
export function pairedTTest(a: number[], b: number[], opts: { level?: number } = {}): PairedTTest {
  const level = opts.level ?? 0.95;
  if (a.length !== b.length) throw new Error(`paired t-test: ${a.length} values against ${b.length}; pairs need equal counts`);
  checkSample(a, "paired t-test, first group");
  checkSample(b, "paired t-test, second group");
  checkLevel(level);
  const diffs = a.map((x, i) => x - b[i]);
  const n = diffs.length, df = n - 1, m = mean(diffs), s = sampleStd(diffs);
  const se = s / Math.sqrt(n);
  const t = m / se; // ±Infinity when every pair differs by the same amount
  const p = s === 0 ? (m === 0 ? 1 : 0) : Math.min(1, 2 * tCdf(-Math.abs(t), df));
  const half = tQuantile(1 - (1 - level) / 2, df) * se;
  return { n, diffs, mean: m, std: s, t: s === 0 && m === 0 ? 0 : t, df, p, ciLow: m - half, ciHigh: m + half, level };
}

/**
 * Pairs needed for a paired t-test to find a true mean difference `difference` significant at two-sided
 * `alpha` with probability `power`, given the standard deviation of the paired differences: the smallest
 * n ≥ 2 with (t₁₋α/₂,ₙ₋₁ + t_power,ₙ₋₁)·std/√n ≤ |difference| (the usual t approximation of the power).
 */
export function seedsForDifference(pairedStd: number, difference: number, opts: { alpha?: number; power?: number; maxN?: number } = {}): number {
  const alpha = opts.alpha ?? 0.05, power = opts.power ?? 0.8, maxN = opts.maxN ?? 100_000;
  if (!(pairedStd >= 0 && Number.isFinite(pairedStd))) throw new Error(`power estimate: the paired standard deviation must be a finite number ≥ 0, got ${pairedStd}`);
  if (!(Math.abs(difference) > 0 && Number.isFinite(difference))) throw new Error(`power estimate: the difference must be a non-zero finite number, got ${difference}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`power estimate: alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new Error(`power estimate: power must be in (0, 1), got ${power}`);
  for (let n = 2; n <= maxN; n++) {
    const needed = (tQuantile(1 - alpha / 2, n - 1) + tQuantile(power, n - 1)) * pairedStd / Math.sqrt(n);
    if (needed <= Math.abs(difference)) return n;
  }
  throw new Error(`power estimate: more than ${maxN} pairs needed`);
}

/** Pooled standard deviation of several samples' standard deviations, weighted by their degrees of freedom (n − 1). */
export function pooledStd(groups: { std: number; n: number }[]): number {
  const usable = groups.filter((g) => g.n >= 2 && Number.isFinite(g.std));
  const df = usable.reduce((s, g) => s + g.n - 1, 0);
  if (df === 0) return NaN;
  return Math.sqrt(usable.reduce((s, g) => s + (g.n - 1) * g.std ** 2, 0) / df);
}
