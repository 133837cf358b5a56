// Paired comparisons: a seed fixes every shared parameter's initial value and the data order for every
// variant (test/experiments/pairing.test.ts), so each variant is compared with the baseline seed by seed.
// Welch's test on the same final losses stays as a second column; a power estimate says how many seeds
// a given difference needs.
import {
  escapeHtml, finalScalars, frame, pooledStd, scalarGrid, seedsForDifference, toHtml, type ScalarGrid,
} from "../analysis";
import * as fs from "node:fs";
import * as path from "node:path";
import { finalsBySeed, pairedDiff, sectionResults, type SectionResults } from "./results";
import { defaultRoot, readRunMeta } from "./runner";
import { HEADLINE, getSection, selectVariants } from "./sections";

/** The preset of the headline runs (src/train's TRAIN_PRESETS). */
export const HEADLINE_PRESET = "tiny-long";

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

/** Every variant but the baseline against the baseline, seed by seed (needs ≥ 2 common seeds for the test). */
export function pairedComparison(results: SectionResults, level = 0.95): PairedRow[] {
  const base = results.variants.find((v) => v.variant.name === results.spec.baseline);
  return results.variants.filter((v) => v !== base).map((v) => {
    const d = pairedDiff(v.runs, base?.runs ?? [], level);
    const w = v.vsBaseline; // Welch's test, from sectionResults (its difference and p do not depend on the level)
    return {
      variant: v.variant.name, label: v.variant.label, seeds: d?.seeds ?? [], diffs: d?.diffs ?? [],
      meanDiff: d?.mean ?? null, diffStd: d?.std ?? null, ciLow: d?.ciLow ?? null, ciHigh: d?.ciHigh ?? null, p: d?.p ?? null,
      welchDiff: w?.diff ?? null, welchP: w?.p ?? null,
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

const f4 = (x: number) => (x >= 0 ? "+" : "") + x.toFixed(4);

/**
 * What the paired numbers and the learned weights say, sentence by sentence, computed from the results:
 * each variant's paired Δ with its CI and p, the power estimate, and the early vs late value-embedding
 * weights at the end of training. The post's own logs hold no scalars, so those cannot be compared.
 */
export function pairedFindings(results: SectionResults, opts: { difference?: number; splitLayer?: number } = {}): string[] {
  const rows = pairedComparison(results);
  const out: string[] = [];
  for (const r of rows) {
    if (r.seeds.length < 2) { out.push(`${r.label}: ${r.seeds.length} seed paired with the baseline, no test yet.`); continue; }
    const sig = r.p! < 0.05;
    out.push(`${r.label}: Δ ${f4(r.meanDiff!)} (95 % CI ${f4(r.ciLow!)} … ${f4(r.ciHigh!)}, ${r.seeds.length} paired seeds, paired p ${r.p!.toFixed(3)}; Welch p ${r.welchP?.toFixed(3) ?? "–"}): ` +
      (sig ? `${r.meanDiff! < 0 ? "below" : "above"} the baseline, significant at p < 0.05.` : "not significantly different from the baseline."));
  }
  const pw = powerEstimate(rows, { difference: opts.difference });
  if (pw.seedsNeeded !== null) {
    out.push(`Power: the paired differences spread by ${pw.pairedStd.toFixed(4)} (pooled over ${pw.variants} variant${pw.variants > 1 ? "s" : ""}); a true difference of ${pw.difference} needs ${pw.seedsNeeded} seeds ` +
      `to reach p < ${pw.alpha} with ${Math.round(pw.power * 100)} % power, and ${pw.pairs} seeds find differences of about ${pw.detectableWithPairs!.toFixed(4)}.`);
  }
  const base = results.variants.find((v) => v.variant.name === results.spec.baseline);
  const finals = base ? finalScalars(base.runs, "lambda_ve") : [];
  if (finals.length === 0) {
    out.push("These runs recorded no learned scalars (runs trained before evals.jsonl held them), so the value-embedding weights cannot be shown for them.");
  } else {
    const split = opts.splitLayer ?? Math.ceil(finals.length / 2);
    const early = finals.slice(0, split).filter((x): x is number => x !== null), late = finals.slice(split).filter((x): x is number => x !== null);
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    if (early.length && late.length) {
      const e = avg(early), l = avg(late);
      out.push(`Learned weights (baseline, end of training, mean over seeds): the value-embedding weight λb averages ${e.toFixed(3)} on the early layers ` +
        `(${finals.slice(0, split).map((x, i) => (x === null ? null : `${i}: ${x.toFixed(3)}`)).filter(Boolean).join(", ")}) and ${l.toFixed(3)} on the late ones ` +
        `(${finals.map((x, i) => (x === null || i < split ? null : `${i}: ${x.toFixed(3)}`)).filter(Boolean).join(", ")}), from 0.5 at initialisation: ` +
        (e < l ? "the early layers' value embeddings are weighted down relative to the late ones" : "the early layers keep at least the late layers' weight") + ".");
    }
  }
  out.push("The post's own logs hold no learned scalars, so its runs' weights cannot be compared with these.");
  return out;
}

/** The paired table, the findings and a caption as one HTML block for a notebook cell. */
export function pairedSummaryHtml(results: SectionResults): string {
  const rows = pairedComparison(results);
  const table = toHtml(pairedTable(rows), { indexName: "variant", digits: { meanDiff: 4, ciLow: 4, ciHigh: 4, pairedP: 3, welchP: 3 }, caption: "Δ = variant − baseline final validation loss, seed by seed; 95 % CI and two-sided paired t-test; Welch's test (independent groups) beside it" });
  return `${table}<ul>${pairedFindings(results).map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>`;
}

/** The section's headline variants at the longer `tiny-long` preset, or null while no baseline run there has finished. */
export function headlineResults(section: string, root = defaultRoot(HEADLINE_PRESET)): SectionResults | null {
  const spec = getSection(section);
  if (spec.headline.length === 0) return null;
  const baselineDir = path.join(root, spec.name, spec.baseline);
  const finished = fs.existsSync(baselineDir) && fs.readdirSync(baselineDir).some((d) => /^seed-\d+$/.test(d) && readRunMeta(path.join(baselineDir, d))?.finished);
  return finished ? sectionResults(spec, { root, variants: selectVariants(spec, HEADLINE) }) : null;
}

export interface FrameworkRow {
  variant: string;
  /** Seeds finished in both frameworks. */
  seeds: number[];
  /** Final loss per common seed, ours and theirs. */
  ours: number[];
  theirs: number[];
  oursMean: number | null;
  theirsMean: number | null;
  /** Mean of ours − theirs over the common seeds, and the seed spread (std over seeds, ours) to compare it with. */
  frameworkDiff: number | null;
  seedStd: number | null;
  /** Paired Δ vs the baseline in each framework (null for the baseline or < 2 pairs). */
  oursVsBaseline: { mean: number; ciLow: number; ciHigh: number; p: number } | null;
  theirsVsBaseline: { mean: number; ciLow: number; ciHigh: number; p: number } | null;
}

/**
 * The same variants and seeds trained by two frameworks (our tfjs engine and PyTorch): final losses side
 * by side, their difference against the seed noise, and each framework's paired difference from the baseline.
 */
export function frameworkComparison(ours: SectionResults, theirs: SectionResults): FrameworkRow[] {
  const bySeed = (r: SectionResults, name: string) => finalsBySeed(r.variants.find((v) => v.variant.name === name)?.runs ?? []);
  const paired = (r: SectionResults, name: string) => {
    const row = pairedComparison(r).find((x) => x.variant === name);
    return row && row.p !== null ? { mean: row.meanDiff!, ciLow: row.ciLow!, ciHigh: row.ciHigh!, p: row.p } : null;
  };
  const names = ours.variants.map((v) => v.variant.name).filter((n) => theirs.variants.some((v) => v.variant.name === n));
  return names.map((name) => {
    const a = bySeed(ours, name), b = bySeed(theirs, name);
    const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
    const oa = seeds.map((s) => a.get(s)!), tb = seeds.map((s) => b.get(s)!);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
    const sd = oa.length >= 2 ? Math.sqrt(oa.reduce((s, x) => s + (x - avg(oa)!) ** 2, 0) / (oa.length - 1)) : null;
    return {
      variant: name, seeds, ours: oa, theirs: tb, oursMean: avg(oa), theirsMean: avg(tb),
      frameworkDiff: avg(oa.map((x, i) => x - tb[i])), seedStd: sd,
      oursVsBaseline: name === ours.spec.baseline ? null : paired(ours, name), theirsVsBaseline: name === theirs.spec.baseline ? null : paired(theirs, name),
    };
  });
}

/** The framework comparison as a table (danfo). */
export function frameworkTable(rows: FrameworkRow[], names: { ours: string; theirs: string } = { ours: "tfjs", theirs: "torch" }) {
  return frame(rows.map((r) => r.variant), {
    seeds: rows.map((r) => r.seeds.length),
    [`${names.ours} final`]: rows.map((r) => r.oursMean),
    [`${names.theirs} final`]: rows.map((r) => r.theirsMean),
    [`${names.ours} − ${names.theirs}`]: rows.map((r) => r.frameworkDiff),
    "seed std": rows.map((r) => r.seedStd),
    [`${names.ours} Δ vs baseline`]: rows.map((r) => r.oursVsBaseline?.mean ?? null),
    [`${names.ours} paired p`]: rows.map((r) => r.oursVsBaseline?.p ?? null),
    [`${names.theirs} Δ vs baseline`]: rows.map((r) => r.theirsVsBaseline?.mean ?? null),
    [`${names.theirs} paired p`]: rows.map((r) => r.theirsVsBaseline?.p ?? null),
  });
}
