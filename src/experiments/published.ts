// The post's own tables and figures, redone from the author's published modded-nanogpt logs
// (value-embeddings-results.md, value-embeddings-t-test-results.md): run ids and windows as in the post.
import {
  crossingRows, finalEval, frame, oneSampleTTest, rankRuns, selectRuns, summarizeGroup, welchTTest, type Ranking, type Run,
} from "../analysis";
import { lossChart, type Axis, type Figure } from "../viz";
import { SECTIONS, type SectionSpec } from "./sections";
import { chartStyle } from "./styles";

/** The speedrun's target (GPT-2 Medium track). */
export const SPEEDRUN_TARGET = 2.92;

/** The post's list for "Adding value embeddings": crossing times of 2.92 in whole seconds, by run id. */
export const POST_ADDING_CROSSINGS: Record<string, number> = { "16": 1410, "15": 1422, "19": 1425, "17": 1428, "13": 1436, "18": 1444 };

/** A post figure's file name says what it shows: `13-15-time-1100-1500.png` = runs 13, 15, time axis, 1100–1500 s. */
export function parsePostFigure(file: string): { runs: string[]; axis: Axis; from: number; to: number } {
  const m = /^([\d-]+)-(time|step)-(\d+)-(\d+)\.png$/.exec(file);
  if (!m) throw new Error(`post figure '${file}': expected <run ids>-<time|step>-<from>-<to>.png`);
  return { runs: m[1].split("-"), axis: m[2] as Axis, from: Number(m[3]), to: Number(m[4]) };
}

/** Legend labels of the post's runs, by run id: `16: 2 additional (5 tables)`. */
export function postRunLabels(): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const spec of Object.values(SECTIONS)) for (const v of spec.variants) labels[v.postRun] = `${v.postRun}: ${v.label}`;
  return labels;
}

/** The section's runs among the loaded logs, by the post's run ids (baseline first); `missing` lists ids not found. */
export function postRuns(runs: Run[], spec: SectionSpec): { runs: Run[]; missing: string[] } {
  const ids = spec.variants.map((v) => v.postRun);
  const sel = selectRuns(runs, ids.join(","));
  return { runs: ids.flatMap((id) => sel.runs.filter((r) => r.name === id)), missing: sel.unmatched };
}

/** The section's figures as the post draws them (one line per run, its window, a dashed 2.92). */
export function postFigures(runs: Run[], spec: SectionSpec): Figure[] {
  const labels = postRunLabels();
  const figs: Figure[] = [];
  for (const chart of spec.charts) {
    if (!chart.postFigure) continue;
    const f = parsePostFigure(chart.postFigure);
    const sel = f.runs.flatMap((id) => runs.filter((r) => r.name === id));
    if (sel.length === 0) continue;
    figs.push(lossChart(sel, {
      axis: f.axis, window: { from: f.from, to: f.to }, groupBy: "run", target: SPEEDRUN_TARGET, labels: labels, colors: chartStyle(sel).colors,
      name: `post-${chart.postFigure.replace(/\.png$/, "")}`, title: `${chart.title} (runs ${f.runs.join(", ")})`,
    }));
  }
  return figs;
}

/** The section's runs sorted by when they cross `target` (danfo), with the post's stated times for the adding section. */
export function postCrossingTable(runs: Run[], spec: SectionSpec, target = SPEEDRUN_TARGET) {
  const labels = postRunLabels();
  const rows = crossingRows(postRuns(runs, spec).runs, target);
  const cols: Record<string, (number | string | null)[]> = {
    label: rows.map((r) => labels[r.run] ?? r.run),
    crossingTimeS: rows.map((r) => r.crossingTimeS),
    crossingStep: rows.map((r) => r.crossingStep),
    finalLoss: rows.map((r) => r.finalLoss),
    finalTimeS: rows.map((r) => r.finalTimeS),
  };
  if (spec.name === "adding") cols.postS = rows.map((r) => POST_ADDING_CROSSINGS[r.run] ?? null);
  return frame(rows.map((r) => r.run), cols);
}

/** The post's "order before the crossing": the section's runs ranked over [from, to] against its baseline. */
export function postRanking(runs: Run[], spec: SectionSpec, window: { from: number; to: number; axis?: Axis }): Ranking {
  const baseline = spec.variants.find((v) => v.name === spec.baseline)!.postRun;
  return rankRuns(postRuns(runs, spec).runs, { from: window.from, to: window.to, axis: window.axis ?? "time", ref: baseline });
}

/** A ranking as a danfo table with the post's labels. */
export function postRankingTable(r: Ranking) {
  const labels = postRunLabels();
  return frame(r.rows.map((x) => x.run), {
    label: r.rows.map((x) => labels[x.run] ?? x.run),
    meanRank: r.rows.map((x) => x.meanRank),
    meanLoss: r.rows.map((x) => x.meanLoss),
    meanGapToBaseline: r.rows.map((x) => x.meanGapToRef),
  });
}

/** The t-test file's two groups: 28 baseline seeds ("25 N") and 37 seeds with two more tables ("26 N"). */
export function tTestGroups(runs: Run[]): { baseline: Run[]; twoMore: Run[] } {
  return { baseline: selectRuns(runs, "25 *").runs, twoMore: selectRuns(runs, "26 *").runs };
}

/** Per group: seeds, mean ± std of final loss, one-sided one-sample t-test against the target, crossing times (danfo). */
export function tTestTable(runs: Run[], target = SPEEDRUN_TARGET) {
  const g = tTestGroups(runs);
  const groups = [["25: baseline", g.baseline], ["26: 2 additional tables", g.twoMore]] as const;
  const rows = groups.map(([name, rs]) => {
    const finals = rs.map((r) => finalEval(r)!.valLoss);
    const t = oneSampleTTest(finals, target);
    const s = summarizeGroup({ name, runs: [...rs] }, target);
    return { name, n: rs.length, mean: t.mean, std: t.std, t: t.t, p: t.p, upperBound: t.upperBound, crossed: s.nCrossed, crossingTimeMean: s.crossingTimeMean, crossingTimeStd: s.crossingTimeStd };
  });
  return frame(rows.map((r) => r.name), {
    seeds: rows.map((r) => r.n), finalLossMean: rows.map((r) => r.mean), finalLossStd: rows.map((r) => r.std),
    tVsTarget: rows.map((r) => r.t), pBelowTarget: rows.map((r) => r.p), upperBound95: rows.map((r) => r.upperBound),
    crossed: rows.map((r) => r.crossed), crossingTimeS: rows.map((r) => r.crossingTimeMean), crossingTimeStd: rows.map((r) => r.crossingTimeStd),
  });
}

/** Welch's t-test of the final losses, two more tables minus the baseline. */
export function tTestWelch(runs: Run[]) {
  const g = tTestGroups(runs);
  const finals = (rs: Run[]) => rs.map((r) => finalEval(r)!.valLoss);
  return welchTTest(finals(g.twoMore), finals(g.baseline));
}

/** The post's `25-26-record-*` figures: mean curves of the two groups at the end of training. */
export function tTestFigures(runs: Run[]): Figure[] {
  const g = tTestGroups(runs);
  const sel = [...g.baseline, ...g.twoMore];
  if (sel.length === 0) return [];
  // the chart adds each group's seed count as (n=…)
  const labels = { "25": "25: baseline", "26": "26: 2 additional tables" };
  const common = { groupBy: "variant" as const, target: SPEEDRUN_TARGET, labels: labels, colors: chartStyle(sel).colors, baseline: "25" };
  return [
    lossChart(sel, { ...common, axis: "time", window: { from: 1395, to: 1450 }, name: "post-25-26-record-time", title: "Baseline vs two additional tables, mean ± std over seeds (time)" }),
    lossChart(sel, { ...common, axis: "step", window: { from: 5500, to: 5960 }, name: "post-25-26-record-step", title: "Baseline vs two additional tables, mean ± std over seeds (step)" }),
  ];
}
