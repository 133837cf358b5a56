// A section's conclusion read from its numbers: who is best, whether the gap to the baseline is
// significant, and whether the post's claims hold here. Claims are judged seed by seed (a seed fixes the
// shared initialisation and the data order), with Welch's test of the same losses kept beside the paired
// one. Notebooks show it; nothing is typed by hand.
import { escapeHtml, welchTTest } from "../analysis";
import { MODEL_PRESETS } from "../model";
import { TRAIN_PRESETS } from "../train";
import { pairedComparison, type PairedRow } from "./paired";
import { finalsBySeed, pairedDiff, variantsByCrossing, type SectionResults, type VariantResult } from "./results";
import type { SectionSpec } from "./sections";

/** "`better` ends lower than `worse`", as the post states it. */
export interface PostClaim { better: string; worse: string; post: string }

export interface PostFinding {
  /** The post's finding in one or two sentences (speedrun scale: 16 × 1024, 5960 steps, 8 × H100). */
  finding: string;
  claims: PostClaim[];
}

export const POST_FINDINGS: Record<SectionSpec["name"], PostFinding> = {
  adding: {
    finding: "Two additional tables (5 in all) reach 2.92 first (1410 s vs 1436 s for the baseline) and lead over the whole late window, one additional table is second; 3, 4 or 5 additional tables are no better than the baseline. Over 28 vs 37 seeds, the edge of two additional tables is significant.",
    claims: [
      { better: "add-2", worse: "baseline", post: "2 additional tables beat the baseline" },
      { better: "add-1", worse: "baseline", post: "1 additional table beats the baseline" },
      { better: "add-2", worse: "add-3", post: "2 additional beat 3 additional" },
      { better: "add-2", worse: "add-4", post: "2 additional beat 4 additional" },
    ],
  },
  removing: {
    finding: "No removal beats the baseline. Removing layer 2 hurts most, layers 0 and 1 least; removing more early layers is worse; removing a whole table seems worse than keeping its parameters but applying it to fewer layers.",
    claims: [
      { better: "baseline", worse: "remove-0", post: "the baseline beats removing layer 0" },
      { better: "baseline", worse: "remove-1", post: "the baseline beats removing layer 1" },
      { better: "baseline", worse: "remove-2", post: "the baseline beats removing layer 2" },
      { better: "remove-1", worse: "remove-2", post: "removing layer 1 costs less than removing layer 2" },
      { better: "remove-0-1", worse: "remove-0-1-2", post: "removing layers 0, 1 costs less than removing 0, 1, 2" },
      { better: "remove-0-1", worse: "remove-table-0-13", post: "removing layers 0, 1 costs less than removing table 0&13" },
      { better: "baseline", worse: "remove-table-0-13", post: "the baseline beats removing the whole table 0&13" },
      { better: "baseline", worse: "remove-table-1-14", post: "the baseline beats removing the whole table 1&14" },
      { better: "baseline", worse: "remove-table-2-15", post: "the baseline beats removing the whole table 2&15" },
    ],
  },
  shifting: {
    finding: "Moving the early value embeddings to layers 1, 2, 3 (or 2, 3, 4) is worse than keeping them on layers 0, 1, 2.",
    claims: [
      { better: "baseline", worse: "shift-1-2-3", post: "the baseline beats the shift to layers 1, 2, 3" },
      { better: "baseline", worse: "shift-2-3-4", post: "the baseline beats the shift to layers 2, 3, 4" },
    ],
  },
  sharing: {
    finding: "With two tables, sharing early with late layers (1&14, 2&15) beats sharing neighbours (0&1, 14&15), and sharing one table over three layers (0-2, 13-15) is worse than over two, at the same parameter count.",
    claims: [
      { better: "remove-table-0-13", worse: "share-01-1415", post: "early-with-late sharing beats neighbour sharing" },
      { better: "remove-table-0-13", worse: "share-0-2-13-15", post: "two layers per table beat three layers per table" },
    ],
  },
};

export interface ClaimCheck extends PostClaim {
  /** The preset of the runs it is judged on (the section's own, or the longer headline runs). */
  preset: string;
  /** Seeds finished for both variants there: the pairs. */
  seeds: number[];
  /** Mean over the pairs of `better` − `worse` final loss (negative = the claim holds); null without a pair. */
  diff: number | null;
  /** 95 % confidence interval of that mean and the two-sided paired t-test (null below 2 pairs). */
  ciLow: number | null;
  ciHigh: number | null;
  p: number | null;
  /** diff < 0; null without a pair. */
  holds: boolean | null;
  /** Paired p < 0.05. */
  significant: boolean;
  /** Welch's test on all finished seeds of both (independent groups): mean difference and two-sided p (null below 2 seeds a side). */
  welchDiff: number | null;
  welchP: number | null;
}

export interface Conclusion {
  /** Earliest to reach the target on average (null when no variant reaches it). */
  firstToTarget: VariantResult | null;
  /** Lowest mean final validation loss. */
  lowestFinal: VariantResult;
  /** Best mean rank over the window before the crossing (null with fewer than 2 variants). */
  bestRanked: string | null;
  claims: ClaimCheck[];
  /** The conclusion as short sentences (the HTML form has the same). */
  lines: string[];
}

export interface ConclusionOptions {
  /**
   * The section's headline variants trained longer (`headlineResults`): a claim between two headline
   * variants is judged on these when they hold at least 2 pairs for it, else on the section's own runs.
   */
  headline?: SectionResults | null;
  /** Two-sided significance level (default 0.05; the intervals are at 1 − alpha). */
  alpha?: number;
}

const f4 = (x: number) => x.toFixed(4);
const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(3));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(4)}`;
const seedsText = (n: number) => `${n} paired seed${n === 1 ? "" : "s"}`;

/** The scale a set of runs trained at, from their meta.json (else their preset's defaults). */
export interface RunScale { preset: string; blocks: number; width: number; tokensPerStep: number; steps: number }

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** The scale of a section's runs (the first run that names a preset), or null when they name none. */
export function runScale(results: SectionResults): RunScale | null {
  const run = results.variants.flatMap((v) => v.runs).find((r) => typeof r.meta.preset === "string");
  if (!run) return null;
  const preset = run.meta.preset as string;
  const train = TRAIN_PRESETS[preset as keyof typeof TRAIN_PRESETS];
  const model = train ? MODEL_PRESETS[train.model] : undefined;
  const config = (run.meta.config ?? {}) as Record<string, unknown>, trainMeta = (run.meta.train ?? {}) as Record<string, unknown>;
  const blocks = num(config.nLayer) ?? model?.nLayer, width = num(config.dim) ?? model?.dim;
  const batch = num(trainMeta.batchSize) ?? train?.batchSize, seqLen = num(trainMeta.seqLen) ?? num(config.seqLen) ?? model?.seqLen;
  const steps = num(run.meta.steps) ?? train?.steps;
  if (blocks === undefined || width === undefined || batch === undefined || seqLen === undefined || steps === undefined) return null;
  return { preset, blocks, width, tokensPerStep: batch * seqLen, steps };
}

/** The speedrun's scale: the `medium` presets. */
export function speedrunScale(): RunScale {
  const t = TRAIN_PRESETS.medium, m = MODEL_PRESETS[t.model];
  return { preset: "medium", blocks: m.nLayer, width: m.dim, tokensPerStep: t.batchSize * m.seqLen, steps: t.steps };
}

const tokensText = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : String(n));
const scaleText = (s: RunScale) =>
  `${s.blocks} blocks of width ${s.width}, ${s.tokensPerStep.toLocaleString("en-US")} tokens per step for ${s.steps} steps (${tokensText(s.tokensPerStep * s.steps)} tokens)`;

/** One claim on one set of runs: `better` − `worse` final loss seed by seed over the seeds both finished; Welch beside it. */
export function checkClaim(claim: PostClaim, results: SectionResults, opts: { alpha?: number } = {}): ClaimCheck | null {
  const alpha = opts.alpha ?? 0.05;
  const find = (name: string) => results.variants.find((v) => v.variant.name === name);
  const a = find(claim.better), b = find(claim.worse);
  if (!a || !b) return null;
  const d = pairedDiff(a.runs, b.runs, 1 - alpha);
  const fa = finalsBySeed(a.runs), fb = finalsBySeed(b.runs);
  const w = fa.size >= 2 && fb.size >= 2 ? welchTTest([...fa.values()], [...fb.values()], { level: 1 - alpha }) : null;
  const diff = d?.mean ?? null;
  return {
    ...claim, preset: runScale(results)?.preset ?? String(a.runs[0]?.meta.preset ?? "unknown"), seeds: d?.seeds ?? [], diff,
    ciLow: d?.ciLow ?? null, ciHigh: d?.ciHigh ?? null, p: d?.p ?? null, holds: diff === null ? null : diff < 0,
    significant: d?.p != null && d.p < alpha, welchDiff: w?.diff ?? null, welchP: w?.p ?? null,
  };
}

/** A claim as one line: its verdict, where it was judged, the paired numbers and Welch's p. */
function claimLine(c: ClaimCheck, alpha: number): string {
  if (c.diff === null) return `  not comparable: ${c.post} (${c.preset}: no seed finished for both).`;
  const numbers = c.p === null
    ? `Δ ${signed(c.diff)}, not testable`
    : `Δ ${signed(c.diff)}, ${Math.round((1 - alpha) * 100)} % CI ${signed(c.ciLow!)} … ${signed(c.ciHigh!)}, paired p = ${pText(c.p)}${c.significant ? ", significant" : ""}`;
  const welch = c.welchP === null ? "" : `; Welch p = ${pText(c.welchP)}`;
  return `  ${c.holds ? "holds" : "reversed"}: ${c.post} (${c.preset}, ${seedsText(c.seeds.length)}: ${numbers}${welch}).`;
}

/** The lowest-final-loss sentence for one set of runs, tested seed by seed against the baseline. */
function lowestFinalLine(results: SectionResults, lead: string, alpha: number): { lowest: VariantResult; line: string } {
  const lowest = [...results.variants].sort((a, b) => a.summary.finalLossMean - b.summary.finalLossMean)[0];
  if (lowest.variant.name === results.spec.baseline) return { lowest, line: `${lead}: the baseline (${f4(lowest.summary.finalLossMean)}); no variant beats it.` };
  const base = results.variants.find((v) => v.variant.name === results.spec.baseline);
  const row: PairedRow | undefined = pairedComparison(results, 1 - alpha).find((r) => r.variant === lowest.variant.name);
  const head = `${lead}: ${lowest.variant.label} (${f4(lowest.summary.finalLossMean)}, ${signed(lowest.summary.finalLossMean - (base?.summary.finalLossMean ?? NaN))} vs the baseline's mean)`;
  if (!row || row.p === null) return { lowest, line: `${head}; not testable: a paired t-test needs at least 2 seeds run in both (${row?.seeds.length ?? 0} here).` };
  const welch = row.welchP === null ? "" : `; Welch's p = ${pText(row.welchP)}`;
  return {
    lowest,
    line: `${head}; paired with the baseline over ${seedsText(row.seeds.length)}: Δ ${signed(row.meanDiff!)} (${Math.round((1 - alpha) * 100)} % CI ${signed(row.ciLow!)} … ${signed(row.ciHigh!)}), ` +
      `${row.p < alpha ? "" : "not "}significant at p < ${alpha} (paired t-test, p = ${pText(row.p)}${welch}).`,
  };
}

/** Reads a section's results: the ordering, the paired test against the baseline, and the post's claims. */
export function sectionConclusion(results: SectionResults, opts: ConclusionOptions = {}): Conclusion {
  const { spec, target } = results;
  const alpha = opts.alpha ?? 0.05;
  if (results.variants.length === 0) throw new Error(`section '${spec.name}': no finished runs to conclude from`);
  const label = (v: VariantResult) => `${v.variant.label}`;
  const byName = new Map(results.variants.map((v) => [v.variant.name, v]));
  const base = byName.get(spec.baseline);
  const ordered = variantsByCrossing(results);
  const firstToTarget = ordered[0].summary.crossingTimeMean !== null ? ordered[0] : null;
  const bestRanked = results.ranking?.rows[0]?.run ?? null;
  const unit = results.ranking?.axis === "step" ? "" : " s";
  const lines: string[] = [];

  if (firstToTarget) {
    const b = base?.summary.crossingTimeMean;
    lines.push(`First to reach the target ${f4(target.value)}: ${label(firstToTarget)}, after ${firstToTarget.summary.crossingTimeMean!.toFixed(2)} s on average` +
      (base && firstToTarget !== base ? (b !== null && b !== undefined ? ` (baseline: ${b.toFixed(2)} s)` : " (the baseline's mean does not reach it in every seed)") : "") + ".");
  } else {
    lines.push(`No variant reaches the target ${f4(target.value)} on average.`);
  }
  if (bestRanked) {
    const row = results.ranking!.rows[0];
    const v = byName.get(bestRanked)!;
    lines.push(`Best over the window before the crossing (${results.ranking!.axis} ${results.ranking!.from.toFixed(1)}–${results.ranking!.to.toFixed(1)}${unit}): ${label(v)}` +
      (bestRanked === spec.baseline ? " (the baseline itself)." : `, ${signed(row.meanGapToRef)} loss vs the baseline on average.`));
  }
  const { lowest: lowestFinal, line } = lowestFinalLine(results, "Lowest mean final loss", alpha);
  lines.push(line);
  const headline = opts.headline && opts.headline.variants.length > 0 ? opts.headline : null;
  const headlineScale = headline ? runScale(headline) : null;
  if (headline) {
    lines.push(lowestFinalLine(headline, `Headline variants at ${headlineScale?.preset ?? "the longer preset"}${headlineScale ? ` (${headlineScale.steps} steps)` : ""}, lowest mean final loss`, alpha).line);
  }

  const claims: ClaimCheck[] = [];
  for (const c of POST_FINDINGS[spec.name].claims) {
    const here = checkClaim(c, results, { alpha });
    const long = headline && spec.headline.includes(c.better) && spec.headline.includes(c.worse) ? checkClaim(c, headline, { alpha }) : null;
    const chosen = long && (long.seeds.length >= 2 || !here) ? long : here;
    if (chosen) claims.push(chosen);
  }
  if (claims.length) {
    const judged = claims.filter((c) => c.holds !== null);
    const held = judged.filter((c) => c.holds).length, heldSig = judged.filter((c) => c.holds && c.significant).length;
    const reversedSig = judged.filter((c) => !c.holds && c.significant).length;
    lines.push(`The post's claims checked on final losses, paired seed by seed: ${held} of ${claims.length} hold here` +
      (heldSig + reversedSig === 0 ? `, none with a significant paired difference (p < ${alpha})` : `, ${heldSig} of them significantly (paired p < ${alpha})`) +
      (reversedSig ? `; ${reversedSig} reversed significantly` : "") + ".");
    const presets = [...new Set(claims.map((c) => c.preset))];
    if (presets.length > 1 && headlineScale) {
      lines.push(`Claims between headline variants are judged on the ${headlineScale.preset} runs where they have at least 2 paired seeds there; the others on the section's own runs.`);
    }
    for (const c of claims) lines.push(claimLine(c, alpha));
    lines.push(...differencesFromPost(claims, [results, ...(headline ? [headline] : [])]));
  } else {
    lines.push("None of the post's claims for this section can be checked: their variants are not all here.");
  }
  const preset = results.variants.flatMap((v) => v.runs).map((r) => r.meta.preset).find((p) => typeof p === "string");
  if (preset !== "medium") {
    lines.push(`These are ${preset ?? "small"}-preset runs, not the speedrun: a far smaller model, other data and far fewer steps, with large noise between seeds, so the order may differ from the post's.`);
  }
  return { firstToTarget, lowestFinal, bestRanked, claims, lines };
}

/**
 * Where the claims are not confirmed (reversed, or not significant), one sentence per preset: how its scale
 * differs from the speedrun's and what that leaves open. Nothing for runs at the speedrun's scale.
 */
function differencesFromPost(claims: ClaimCheck[], sets: SectionResults[]): string[] {
  const speedrun = speedrunScale();
  const out: string[] = [], seen = new Set<string>();
  for (const set of sets) {
    const scale = runScale(set);
    if (!scale || scale.preset === speedrun.preset || seen.has(scale.preset)) continue;
    seen.add(scale.preset);
    const mine = claims.filter((c) => c.preset === scale.preset && c.holds !== null);
    const open = mine.filter((c) => !c.significant), reversed = mine.filter((c) => c.significant && !c.holds);
    if (open.length + reversed.length === 0) continue;
    const parts: string[] = [];
    if (reversed.length) parts.push(`${reversed.length} significantly reversed`);
    if (open.length) parts.push(`${open.length} not significant`);
    out.push(`The ${scale.preset} runs do not confirm ${open.length + reversed.length} of the post's ${mine.length} claim${mine.length === 1 ? "" : "s"} judged on them (${parts.join(", ")}). ` +
      `They train ${scaleText(scale)}; the speedrun trains ${scaleText(speedrun)}, on other data. ` +
      `At this scale ${open.length ? "the unconfirmed questions stay open" : "the result differs"}${reversed.length ? "; a reversal here says nothing yet about the speedrun's scale" : ""}.`);
  }
  return out;
}

const pm = (m: number | null, s: number | null, d: number) => (m === null ? "–" : s === null ? m.toFixed(d) : `${m.toFixed(d)} ± ${s.toFixed(d)}`);

/**
 * Seeds summarised per variant (the post's order): mean ± std, the final loss against the baseline's seed
 * by seed (mean paired difference, 95 % CI, paired t-test) and Welch's test of the same losses beside it.
 */
export function seedSummaryRows(results: SectionResults): Record<string, string | number>[] {
  const paired = new Map(pairedComparison(results).map((r) => [r.variant, r]));
  return variantsByCrossing(results).map((v) => {
    const s = v.summary, t = v.vsBaseline, isBase = v.variant.name === results.spec.baseline;
    const r = paired.get(v.variant.name);
    return {
      variant: v.variant.name, seeds: s.n, "reach target": `${s.nCrossed}/${s.n}`,
      "time to target (s)": pm(s.crossingTimeMean, s.crossingTimeStd, 2),
      "final loss": pm(s.finalLossMean, s.finalLossStd, 4),
      "paired seeds": isBase || !r ? "–" : r.seeds.length,
      "paired Δ vs baseline (95 % CI)": isBase || !r || r.meanDiff === null ? "–"
        : `${signed(r.meanDiff)}${r.ciLow === null ? "" : ` (${signed(r.ciLow)} … ${signed(r.ciHigh!)})`}`,
      "paired p": r && r.p !== null ? pText(r.p) : "–",
      "Welch p": t ? pText(t.p) : "–",
      "paired p < 0.05": isBase ? "baseline" : r && r.p !== null ? (r.p < 0.05 ? "yes" : "no") : "needs ≥ 2 paired seeds",
    };
  });
}

/** The conclusion as HTML for a notebook cell: sentences, claim checks as a nested list. */
export function conclusionHtml(c: Conclusion): string {
  const items: string[] = [];
  for (const line of c.lines) {
    if (line.startsWith("  ")) items.push(`<li style="list-style:circle;margin-left:1.5em">${escapeHtml(line.trim())}</li>`);
    else items.push(`<li>${escapeHtml(line)}</li>`);
  }
  return `<div class="valemb-conclusion"><b>What these runs say</b><ul>${items.join("")}</ul></div>`;
}
