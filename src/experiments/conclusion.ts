// A section's conclusion read from its numbers: who is best, whether the gap to the baseline is
// significant, and whether the post's claims hold here. Notebooks show it; nothing is typed by hand.
import { escapeHtml, finalEval, welchTTest } from "../analysis";
import { variantsByCrossing, type SectionResults, type VariantResult } from "./results";
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
  /** Mean final loss of `better` minus `worse` here (negative = the claim holds). */
  diff: number;
  holds: boolean;
  /** Welch's two-sided p (null with fewer than 2 seeds on either side). */
  p: number | null;
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

const f4 = (x: number) => x.toFixed(4);
const pText = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toFixed(3));
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(4)}`;

/** Reads a section's results: the ordering, the test against the baseline, and the post's claims. */
export function sectionConclusion(results: SectionResults): Conclusion {
  const { spec, target } = results;
  if (results.variants.length === 0) throw new Error(`section '${spec.name}': no finished runs to conclude from`);
  const label = (v: VariantResult) => `${v.variant.label}`;
  const byName = new Map(results.variants.map((v) => [v.variant.name, v]));
  const base = byName.get(spec.baseline);
  const ordered = variantsByCrossing(results);
  const firstToTarget = ordered[0].summary.crossingTimeMean !== null ? ordered[0] : null;
  const lowestFinal = [...results.variants].sort((a, b) => a.summary.finalLossMean - b.summary.finalLossMean)[0];
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
  if (lowestFinal.variant.name === spec.baseline) {
    lines.push(`Lowest mean final loss: the baseline (${f4(lowestFinal.summary.finalLossMean)}); no variant beats it.`);
  } else {
    const t = lowestFinal.vsBaseline;
    lines.push(`Lowest mean final loss: ${label(lowestFinal)} (${f4(lowestFinal.summary.finalLossMean)}, ${signed(lowestFinal.summary.finalLossMean - (base?.summary.finalLossMean ?? NaN))} vs the baseline); ` +
      (t ? (t.p < 0.05 ? `significant at p < 0.05 (Welch's t-test, p = ${pText(t.p)}).` : `not significant at p < 0.05 (Welch's t-test, p = ${pText(t.p)}).`)
        : "not testable: a t-test needs at least 2 seeds of both."));
  }

  const finals = (v: VariantResult) => v.runs.map((r) => finalEval(r)!.valLoss);
  const claims: ClaimCheck[] = [];
  for (const c of POST_FINDINGS[spec.name].claims) {
    const a = byName.get(c.better), b = byName.get(c.worse);
    if (!a || !b) continue;
    const diff = a.summary.finalLossMean - b.summary.finalLossMean;
    const p = a.runs.length >= 2 && b.runs.length >= 2 ? welchTTest(finals(a), finals(b)).p : null;
    claims.push({ ...c, diff, holds: diff < 0, p });
  }
  if (claims.length) {
    const held = claims.filter((c) => c.holds).length;
    lines.push(`The post's claims checked on final losses: ${held} of ${claims.length} hold here` +
      `${claims.some((c) => c.p !== null && c.p < 0.05) ? "" : ", none with a significant difference (p < 0.05)"}.`);
    for (const c of claims) {
      lines.push(`  ${c.holds ? "holds" : "reversed"}: ${c.post} (${signed(c.diff)}${c.p === null ? ", not testable" : `, p = ${pText(c.p)}${c.p < 0.05 ? ", significant" : ""}`}).`);
    }
  } else {
    lines.push("None of the post's claims for this section can be checked: their variants are not all here.");
  }
  const preset = results.variants.flatMap((v) => v.runs).map((r) => r.meta.preset).find((p) => typeof p === "string");
  if (preset !== "medium") {
    lines.push(`These are ${preset ?? "small"}-preset runs, not the speedrun: a far smaller model, other data and far fewer steps, with large noise between seeds, so the order may differ from the post's.`);
  }
  return { firstToTarget, lowestFinal, bestRanked, claims, lines };
}

const pm = (m: number | null, s: number | null, d: number) => (m === null ? "–" : s === null ? m.toFixed(d) : `${m.toFixed(d)} ± ${s.toFixed(d)}`);

/** Seeds summarised per variant (the post's order): mean ± std, and Welch's test of the final loss against the baseline. */
export function seedSummaryRows(results: SectionResults): Record<string, string | number>[] {
  return variantsByCrossing(results).map((v) => {
    const s = v.summary, t = v.vsBaseline;
    return {
      variant: v.variant.name, seeds: s.n, "reach target": `${s.nCrossed}/${s.n}`,
      "time to target (s)": pm(s.crossingTimeMean, s.crossingTimeStd, 2),
      "final loss": pm(s.finalLossMean, s.finalLossStd, 4),
      "Δ final vs baseline": v.variant.name === results.spec.baseline ? "–" : t ? signed(t.diff) : "–",
      "Welch p": t ? pText(t.p) : "–",
      "p < 0.05": v.variant.name === results.spec.baseline ? "baseline" : t ? (t.p < 0.05 ? "yes" : "no") : "needs ≥ 2 seeds",
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
