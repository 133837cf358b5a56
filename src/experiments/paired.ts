// Paired comparisons: a seed fixes every shared parameter's initial value and the data order for every
// variant (test/experiments/pairing.test.ts), so each variant is compared with the baseline seed by seed.
// Welch's test on the same final losses stays as a second column; a power estimate says how many seeds
// a given difference needs.
import {
  finalEval, finalScalars, frame, pairedTTest, pooledStd, scalarGrid, seedsForDifference, welchTTest, type Run, type ScalarGrid,
} from "../analysis";
import type { SectionResults } from "./results";

export interface PairedRow {
  variant: string;
  label: string;
  /** Seeds finished for both this variant and the baseline. */
  seeds: number[];
  /** Final loss, variant minus baseline, seed by seed. */
  diffs: number[];
  meanDiff: number | null;
  diffStd: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** Paired t-test, two-sided. */
  p: number | null;
  /** Welch's test on all finished seeds of both (independent groups), two-sided. */
  welchDiff: number | null;
  welchP: number | null;
}

/** The seed of one of our runs: meta.json's `seed`, else the `seed-N` folder name. */
export function runSeed(run: Run): number | null {
  if (Number.isInteger(run.meta.seed)) return run.meta.seed as number;
  const m = /seed-(\d+)$/.exec(run.name);
  return m ? Number(m[1]) : null;
}

const finalsBySeed = (runs: Run[]) => {
  const out = new Map<number, number>();
  for (const r of runs) {
    const seed = runSeed(r), f = finalEval(r);
    if (seed !== null && f) out.set(seed, f.valLoss);
  }
  return out;
};

/** Every variant but the baseline against the baseline, seed by seed (needs ≥ 2 common seeds for the test). */
export function pairedComparison(results: SectionResults, level = 0.95): PairedRow[] {
  const base = results.variants.find((v) => v.variant.name === results.spec.baseline);
  const baseFinals = finalsBySeed(base?.runs ?? []);
  return results.variants.filter((v) => v !== base).map((v) => {
    const finals = finalsBySeed(v.runs);
    const seeds = [...finals.keys()].filter((s) => baseFinals.has(s)).sort((a, b) => a - b);
    const a = seeds.map((s) => finals.get(s)!), b = seeds.map((s) => baseFinals.get(s)!);
    const t = seeds.length >= 2 ? pairedTTest(a, b, { level }) : null;
    const w = finals.size >= 2 && baseFinals.size >= 2 ? welchTTest([...finals.values()], [...baseFinals.values()], { level }) : null;
    return {
      variant: v.variant.name, label: v.variant.label, seeds, diffs: a.map((x, i) => x - b[i]),
      meanDiff: t?.mean ?? (seeds.length === 1 ? a[0] - b[0] : null), diffStd: t?.std ?? null,
      ciLow: t?.ciLow ?? null, ciHigh: t?.ciHigh ?? null, p: t?.p ?? null, welchDiff: w?.diff ?? null, welchP: w?.p ?? null,
    };
  });
}

/** The paired table (danfo): Δ = variant − baseline final loss, mean over common seeds, its CI and paired p; Welch beside it. */
export function pairedTable(rows: PairedRow[]) {
  return frame(rows.map((r) => r.variant), {
    label: rows.map((r) => r.label),
    pairs: rows.map((r) => r.seeds.length),
    meanDiff: rows.map((r) => r.meanDiff),
    ciLow: rows.map((r) => r.ciLow),
    ciHigh: rows.map((r) => r.ciHigh),
    pairedP: rows.map((r) => r.p),
    welchP: rows.map((r) => r.welchP),
  });
}

export interface PowerEstimate {
  /** Pooled standard deviation of the paired differences over the variants (df-weighted). */
  pairedStd: number;
  /** Variants and pairs it is pooled from. */
  variants: number;
  pairs: number;
  difference: number;
  alpha: number;
  power: number;
  /** Seeds (pairs) a true difference of `difference` needs to be significant at `alpha` with probability `power`. */
  seedsNeeded: number | null;
  /** The smallest difference the seeds at hand find with that power (same approximation). */
  detectableWithPairs: number | null;
}

/** How many seeds a difference needs, from the measured spread of the paired differences. */
export function powerEstimate(rows: PairedRow[], opts: { difference?: number; alpha?: number; power?: number } = {}): PowerEstimate {
  const difference = opts.difference ?? 0.01, alpha = opts.alpha ?? 0.05, power = opts.power ?? 0.8;
  const used = rows.filter((r) => r.diffStd !== null);
  const sd = pooledStd(used.map((r) => ({ std: r.diffStd!, n: r.seeds.length })));
  const pairs = used.length ? Math.min(...used.map((r) => r.seeds.length)) : 0;
  const ok = Number.isFinite(sd) && sd > 0;
  let detectable: number | null = null;
  if (ok && pairs >= 2) {
    // invert seedsForDifference: the smallest difference whose needed seeds fit the pairs at hand
    let lo = 0, hi = 10 * sd;
    for (let i = 0; i < 50; i++) { const mid = (lo + hi) / 2; if (seedsForDifference(sd, mid, { alpha, power }) <= pairs) hi = mid; else lo = mid; }
    detectable = hi;
  }
  return {
    pairedStd: sd, variants: used.length, pairs, difference, alpha, power,
    seedsNeeded: ok ? seedsForDifference(sd, difference, { alpha, power }) : null, detectableWithPairs: detectable,
  };
}

/** One learned-scalar family per variant, mean over seeds (value-embedding weight λb by default). */
export function variantScalarGrids(results: SectionResults, family = "lambda_ve"): { variant: string; label: string; grid: ScalarGrid }[] {
  return results.variants.map((v) => ({ variant: v.variant.name, label: v.variant.label, grid: scalarGrid(v.runs, family) }))
    .filter((g) => g.grid.runs > 0);
}

/** Final value of a family per variant and layer (danfo), mean over seeds; columns are the layers that use it. */
export function finalScalarTable(results: SectionResults, family = "lambda_ve") {
  const rows = results.variants.map((v) => ({ v, finals: finalScalars(v.runs, family) })).filter((r) => r.finals.length > 0);
  const nLayers = Math.max(0, ...rows.map((r) => r.finals.length));
  const layers = Array.from({ length: nLayers }, (_, l) => l).filter((l) => rows.some((r) => r.finals[l] !== null));
  const columns: Record<string, (number | string | null)[]> = {
    layout: rows.map((r) => r.v.variant.layout), seeds: rows.map((r) => scalarGrid(r.v.runs, family).runs),
  };
  for (const l of layers) columns[`L${l}`] = rows.map((r) => r.finals[l] ?? null);
  return frame(rows.map((r) => r.v.variant.name), columns);
}
