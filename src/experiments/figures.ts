// The post's figures for a section, from its spec: which variants, which axis, which late window.
import { finalEval, timeOf } from "../analysis";
import { crossingChart, lossChart, scalarChart, type Figure } from "../viz";
import { variantScalarGrids } from "./paired";
import type { SectionResults } from "./results";
import { sectionColors } from "./styles";

/** Every chart of the section's spec (seeds as mean ± std), then the crossing-time chart. */
export function sectionFigures(results: SectionResults): Figure[] {
  const { spec, target } = results;
  const labels: Record<string, string> = {};
  for (const v of results.variants) labels[v.variant.name] = v.variant.label;
  const base = results.variants.find((v) => v.variant.name === spec.baseline);
  // Windows are fractions of the baseline's length, so the same spec fits tiny runs and the speedrun.
  const end = (axis: "time" | "step") => {
    const xs = (base ?? results.variants[0])?.runs.map((r) => { const f = finalEval(r)!; return axis === "time" ? timeOf(f, r) : f.step; }) ?? [];
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  const colors = sectionColors();
  const figs: Figure[] = [];
  for (const chart of spec.charts) {
    const runs = results.variants.filter((v) => chart.variants.includes(v.variant.name)).flatMap((v) => v.runs);
    if (runs.length === 0) continue;
    const e = end(chart.axis);
    figs.push(lossChart(runs, {
      axis: chart.axis, groupBy: "variant", target: target.value, labels: labels, colors, baseline: spec.baseline, name: chart.name, title: chart.title,
      // the window ends where the data ends (each mean curve runs to its seeds' mean final time), unless the spec cuts earlier
      window: Number.isFinite(e) ? { from: chart.window.fromFrac * e, to: chart.window.toFrac < 1 ? chart.window.toFrac * e : undefined } : undefined,
    }));
  }
  const all = results.variants.flatMap((v) => v.runs);
  if (all.length) figs.push(crossingChart(all, { target: target.value, groupBy: "variant", labels: labels, colors, name: `${spec.name}-crossing-time`, title: `${spec.title}: time to reach ${target.value.toFixed(4)}` }));
  return figs;
}

/** One chart per variant with recorded scalars: each layer's value-embedding weight λb over steps, mean over seeds. */
export function scalarFigures(results: SectionResults, family = "lambda_ve"): Figure[] {
  return variantScalarGrids(results, family).map(({ variant, label, grid }) => scalarChart(grid, {
    name: `${results.spec.name}-${variant}-${family}`, title: `${label}: ${family === "lambda_ve" ? "value-embedding weight λb" : family} by layer (mean of ${grid.runs} seed${grid.runs > 1 ? "s" : ""})`,
  }));
}
