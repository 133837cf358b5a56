// A section's finished runs, measured the way the post measures: crossing times of the target loss,
// the order of the variants before the crossing, seeds as mean ± std, and a test against the baseline.
import * as path from "node:path";
import {
  crossingRows, finalEval, timeOf, frame, groupCurve, loadRuns, pairedTTest, rankRuns, summarizeGroup, welchTTest, oneSampleTTest,
  type CrossingRow, type GroupSummary, type LoadProblem, type Ranking, type Run, type RunGroup,
} from "../analysis";
import type { SectionSpec, Variant } from "./sections";

export interface TargetLoss {
  value: number;
  /** How the value was chosen, for every table caption. */
  rule: string;
}

export interface VariantResult {
  variant: Variant;
  runs: Run[];
  summary: GroupSummary;
  /** Welch's t-test of final losses, this variant minus the baseline (null for the baseline or < 2 seeds). */
  vsBaseline: { diff: number; t: number; df: number; p: number; pLess: number } | null;
  /** Final loss minus the baseline's, seed by seed over the seeds both finished (null for the baseline or no common seed). */
  paired: PairedDiff | null;
  /** One-sided one-sample t-test: is the mean final loss below the target? (null with < 2 seeds) */
  belowTarget: { t: number; p: number; upperBound: number } | null;
}

/** A variant against the baseline seed by seed: the seeds fix shared weights and data order, so pairs cancel their noise. */
export interface PairedDiff {
  seeds: number[];
  /** Variant minus baseline final loss, one per seed. */
  diffs: number[];
  mean: number;
  /** The rest need ≥ 2 pairs (null below). */
  std: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** Paired t-test, two-sided. */
  p: number | null;
}

export interface SectionResults {
  spec: SectionSpec;
  root: string;
  target: TargetLoss;
  variants: VariantResult[];
  /** Every run, one row each, sorted by crossing time (never-crossed last). */
  crossings: CrossingRow[];
  /** Variants' mean curves ranked over the section's window before the crossing. */
  ranking: Ranking | null;
  problems: LoadProblem[];
  missing: string[];
}

/**
 * The speedrun's target (2.92) sits at the baseline's mean final loss; at our scale we define it the
 * same way: the baseline's mean final loss, rounded up to 4 decimals. `override` replaces it.
 */
export function targetLoss(baselineRuns: Run[], override?: number): TargetLoss {
  if (override !== undefined) return { value: override, rule: `set by the user (${override})` };
  if (baselineRuns.length === 0) throw new Error("no finished baseline runs: cannot define the target loss (train the baseline, or pass a target)");
  const finals = baselineRuns.map((r) => finalEval(r)!.valLoss);
  const m = finals.reduce((a, b) => a + b, 0) / finals.length;
  const value = Math.ceil(m * 1e4) / 1e4;
  return { value, rule: `baseline mean final val loss over ${finals.length} seed${finals.length === 1 ? "" : "s"}, rounded up` };
}

/** The seed of one of our runs: meta.json's `seed`, else the `seed-N` folder name. */
export function runSeed(run: Run): number | null {
  if (Number.isInteger(run.meta.seed)) return run.meta.seed as number;
  const m = /seed-(\d+)$/.exec(run.name);
  return m ? Number(m[1]) : null;
}

/** Each run's final validation loss by its seed (runs without a seed or an evaluation are left out). */
export function finalsBySeed(runs: Run[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of runs) {
    const seed = runSeed(r), f = finalEval(r);
    if (seed !== null && f) out.set(seed, f.valLoss);
  }
  return out;
}

/** `runs` minus `baseline`, seed by seed over their common seeds (null without one); the test needs ≥ 2 pairs. */
export function pairedDiff(runs: Run[], baseline: Run[], level = 0.95): PairedDiff | null {
  const a = finalsBySeed(runs), b = finalsBySeed(baseline);
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  const diffs = seeds.map((s) => a.get(s)! - b.get(s)!);
  if (seeds.length === 1) return { seeds, diffs, mean: diffs[0], std: null, ciLow: null, ciHigh: null, p: null };
  const t = pairedTTest(seeds.map((s) => a.get(s)!), seeds.map((s) => b.get(s)!), { level });
  return { seeds, diffs, mean: t.mean, std: t.std, ciLow: t.ciLow, ciHigh: t.ciHigh, p: t.p };
}

/** Load a section's runs from `<root>/<section>/<variant>/seed-<n>` and measure them. */
export function sectionResults(spec: SectionSpec, opts: { root: string; target?: number; partial?: boolean; variants?: Variant[] }): SectionResults {
  const dir = path.join(opts.root, spec.name);
  const wanted = opts.variants ?? spec.variants;
  const { runs, problems } = loadRuns([dir], { keepIncomplete: opts.partial ?? false });
  const byVariant = new Map<string, Run[]>();
  for (const r of runs) {
    const variant = r.name.split("/")[0];
    byVariant.set(variant, [...(byVariant.get(variant) ?? []), r]);
  }
  const baselineRuns = byVariant.get(spec.baseline) ?? [];
  const target = targetLoss(baselineRuns, opts.target);
  const baselineFinals = baselineRuns.map((r) => finalEval(r)!.valLoss);
  const missing: string[] = [];
  const variants: VariantResult[] = [];
  for (const v of wanted) {
    const vr = byVariant.get(v.name) ?? [];
    if (vr.length === 0) { missing.push(v.name); continue; }
    const group: RunGroup = { name: v.name, runs: vr };
    const finals = vr.map((r) => finalEval(r)!.valLoss);
    let vsBaseline: VariantResult["vsBaseline"] = null;
    if (v.name !== spec.baseline && finals.length >= 2 && baselineFinals.length >= 2) {
      const w = welchTTest(finals, baselineFinals);
      vsBaseline = { diff: w.diff, t: w.t, df: w.df, p: w.p, pLess: w.pLess };
    }
    const paired = v.name === spec.baseline ? null : pairedDiff(vr, baselineRuns);
    let belowTarget: VariantResult["belowTarget"] = null;
    if (finals.length >= 2) {
      const o = oneSampleTTest(finals, target.value);
      belowTarget = { t: o.t, p: o.p, upperBound: o.upperBound };
    }
    variants.push({ variant: v, runs: vr, summary: summarizeGroup(group, target.value), vsBaseline, paired, belowTarget });
  }
  const all = variants.flatMap((v) => v.runs);
  return { spec, root: opts.root, target, variants, crossings: all.length ? crossingRows(all, target.value) : [], ranking: rankVariants(spec, variants), problems, missing };
}

/** Rank the variants' mean curves (over seeds) inside the section's window, as fractions of the baseline's length. */
export function rankVariants(spec: SectionSpec, variants: VariantResult[]): Ranking | null {
  const base = variants.find((v) => v.variant.name === spec.baseline);
  if (!base || variants.length < 2) return null;
  const { axis, fromFrac, toFrac } = spec.rankWindow;
  const ends = base.runs.map((r) => { const f = finalEval(r)!; return axis === "time" ? timeOf(f, r) : f.step; });
  const end = ends.reduce((a, b) => a + b, 0) / ends.length;
  const from = fromFrac * end;
  const to = toFrac * end;
  // Each variant enters as one pseudo-run: its seeds' mean curve on the ranked axis.
  const curves: Run[] = variants.map((v) => {
    const c = groupCurve({ name: v.variant.name, runs: v.runs }, { axis, from, to, points: 101 });
    return { name: v.variant.name, source: "mean over seeds", totalSteps: null, meta: {}, evals: c.grid.map((x, i) => ({ step: x, timeS: x, valLoss: c.mean[i] })) };
  });
  return rankRuns(curves, { from, to, axis, ref: spec.baseline });
}

/** Variants sorted like the post's list: by mean crossing time, never-crossed ones last by final loss. */
export function variantsByCrossing(results: SectionResults): VariantResult[] {
  return [...results.variants].sort((a, b) =>
    (a.summary.crossingTimeMean ?? Infinity) - (b.summary.crossingTimeMean ?? Infinity) || a.summary.finalLossMean - b.summary.finalLossMean);
}

/** The section's main table (danfo): one row per variant, seeds as mean ± std, the paired Δ against the baseline with Welch's p beside. */
export function variantTable(results: SectionResults) {
  const rows = variantsByCrossing(results);
  const tables = (layout: string) => new Set(layout.replace(/\./g, "")).size;
  return frame(rows.map((v) => v.variant.name), {
    label: rows.map((v) => v.variant.label),
    layout: rows.map((v) => v.variant.layout),
    tables: rows.map((v) => tables(v.variant.layout)),
    seeds: rows.map((v) => v.summary.n),
    crossed: rows.map((v) => v.summary.nCrossed),
    crossingTimeS: rows.map((v) => v.summary.crossingTimeMean),
    crossingTimeStd: rows.map((v) => v.summary.crossingTimeStd),
    crossingStep: rows.map((v) => v.summary.crossingStepMean),
    finalLoss: rows.map((v) => v.summary.finalLossMean),
    finalLossStd: rows.map((v) => v.summary.finalLossStd),
    pairs: rows.map((v) => v.paired?.seeds.length ?? null),
    pairedDiff: rows.map((v) => v.paired?.mean ?? null),
    pairedP: rows.map((v) => v.paired?.p ?? null),
    welchP: rows.map((v) => v.vsBaseline?.p ?? null),
  });
}

/** The order before the crossing (danfo): variants' mean curves ranked over the section's window. */
export function rankingByVariant(results: SectionResults) {
  const r = results.ranking;
  if (!r) return null;
  const label = new Map(results.variants.map((v) => [v.variant.name, v.variant.label]));
  return frame(r.rows.map((x) => x.run), {
    label: r.rows.map((x) => label.get(x.run) ?? ""),
    meanRank: r.rows.map((x) => x.meanRank),
    meanLoss: r.rows.map((x) => x.meanLoss),
    meanGapToBaseline: r.rows.map((x) => x.meanGapToRef),
  });
}

/** A ranking window for people: "steps 50–90", "1200–1400 s". */
export function windowText(r: { axis: "time" | "step"; from: number; to: number }): string {
  const n = (x: number) => (Math.abs(x - Math.round(x)) < 0.05 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));
  return r.axis === "step" ? `steps ${n(r.from)}–${n(r.to)}` : `${n(r.from)}–${n(r.to)} s`;
}

/** One line saying what the table's numbers are, for captions. */
export function caption(results: SectionResults): string {
  const r = results.ranking;
  return `target loss ${results.target.value.toFixed(4)} (${results.target.rule})` +
    (r ? `; ranked over ${windowText(r)}` : "") +
    (results.missing.length ? `; not yet run: ${results.missing.join(", ")}` : "");
}

const pm = (m: number | null, s: number | null, d: number) => (m === null ? "–" : s === null || !Number.isFinite(s) ? m.toFixed(d) : `${m.toFixed(d)} ± ${s.toFixed(d)}`);
const signed = (x: number, d = 4) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(d)}`;
const pText = (p: number) => (p < 1e-3 ? p.toExponential(1) : p.toFixed(3));

/**
 * The section's main table as a notebook shows it: short columns, mean ± std in one cell,
 * numbers rounded for reading, the layout in monospace; the post's label of each variant is its
 * row's tooltip (and in the layout chart above). Same rows and order as variantTable.
 */
export function sectionTableRows(results: SectionResults): Record<string, string | number>[] {
  return variantsByCrossing(results).map((v) => {
    const s = v.summary, t = v.vsBaseline, d = v.paired;
    return {
      variant: v.variant.name,
      layout: v.variant.layout,
      reach: `${s.nCrossed}/${s.n}`,
      "cross step": s.crossingStepMean === null ? "–" : s.crossingStepMean.toFixed(1),
      "cross time (s)": pm(s.crossingTimeMean, s.crossingTimeStd, 1),
      "final loss": pm(s.finalLossMean, s.finalLossStd, 4),
      "paired Δ final (95 % CI)": !d ? "–" : `${signed(d.mean)}${d.ciLow === null ? "" : ` (${signed(d.ciLow)} … ${signed(d.ciHigh!)})`}`,
      "paired p": d && d.p !== null ? `${pText(d.p)} (${d.seeds.length})` : "–",
      "Welch p": t ? pText(t.p) : "–",
    };
  });
}

/** The caption of sectionTableRows: what each column means and how the target was set. */
export function sectionTableCaption(results: SectionResults): string {
  return `Sorted by mean crossing time. Target ${results.target.value.toFixed(4)}: ${results.target.rule}. ` +
    "reach: seeds that reach it; cross step/time: mean (± std) over those seeds; final loss: mean ± std over seeds; " +
    "paired Δ final: variant − baseline final loss, seed by seed over the seeds both finished, mean and 95 % CI; " +
    "paired p: two-sided paired t-test (pairs in brackets); Welch p: the Welch t-test on all finished seeds of both (independent groups)." + (results.missing.length ? ` Not yet run: ${results.missing.join(", ")}.` : "");
}

/** Variant name → the post's label, for tooltips. */
export function variantLabels(results: SectionResults): Record<string, string> {
  return Object.fromEntries(results.variants.map((v) => [v.variant.name, `${v.variant.label} (the post's run ${v.variant.postRun})`]));
}

/** The order before the crossing, as a notebook shows it (null without a ranking). */
export function rankingTableRows(results: SectionResults): Record<string, string | number>[] | null {
  const r = results.ranking;
  if (!r) return null;
  return r.rows.map((x) => ({
    variant: x.run, "mean rank": x.meanRank.toFixed(1), "mean loss": x.meanLoss.toFixed(4),
    "gap to baseline": x.run === results.spec.baseline ? "–" : signed(x.meanGapToRef),
  }));
}

/** The caption of rankingTableRows. */
export function rankingCaption(results: SectionResults): string {
  const r = results.ranking;
  return r ? `Ranked over ${windowText(r)} on each variant's mean curve over seeds (rank 1 = lowest loss, averaged over the window); ` +
    "gap: mean loss minus the baseline's (negative = ahead)." : "";
}
