// Chart builders for the post's figures. Pure functions: runs in, Plotly figure out.

import { ColorMap, variantColors, withAlpha } from "./colors";
import { axisStyle, DEFAULT_HEIGHT, DEFAULT_WIDTH, Figure, FONT, Trace } from "./figure";
import { crossingStep, crossingTime, seedGroupName } from "../analysis";
import type { Run } from "./types";

export type Axis = "time" | "step";
/** The x range shown: explicit bounds, or the last fraction of training (`{ last: 0.25 }`). */
export type XWindow = { from?: number; to?: number } | { last: number };
/** "run": one line per run; "variant": one mean line with a ±std band per variant; or a key function. */
export type GroupBy = "run" | "variant" | ((run: Run) => string);

export interface LossChartOptions {
  axis?: Axis;
  window?: XWindow;
  groupBy?: GroupBy;
  /** Draws a dashed horizontal line at this validation loss. */
  target?: number;
  title?: string;
  name?: string;
  /** Legend label per run name or variant (default: the name itself). */
  labels?: Record<string, string>;
  colors?: ColorMap;
  /**
   * The group every other is compared with (groupBy "variant"): with more than BANDS_FOR_ALL groups
   * only its ±std band is drawn. Default: the group whose key or label says "baseline".
   */
  baseline?: string;
  width?: number;
  height?: number;
}

/**
 * Up to this many groups each get a ±std band; with more, only the baseline's: six or more translucent
 * bands stack into one muddy area, while the question every chart asks is whether a variant's mean
 * leaves the baseline's seed-to-seed spread. Every mean's own std stays in its hover text.
 */
export const BANDS_FOR_ALL = 3;

export interface CrossingChartOptions {
  target: number;
  axis?: Axis;
  groupBy?: GroupBy;
  title?: string;
  name?: string;
  labels?: Record<string, string>;
  colors?: ColorMap;
  width?: number;
  height?: number;
}

const AXIS_TITLE: Record<Axis, string> = { time: "training time (s)", step: "step" };
const DASHES = ["solid", "dot", "dash", "dashdot", "longdash", "longdashdot"];

/**
 * The variant a run belongs to (its color, and its group with groupBy "variant"): meta.variant when
 * set, else the run name without its seed part, as src/analysis groups seeds
 * (`adding/baseline/seed-3` → `adding/baseline`, `25 7` → `25`, `22-3` → `22`).
 */
export function variantOf(run: Run): string {
  const v = run.meta?.variant;
  return typeof v === "string" && v !== "" ? v : seedGroupName(run.name);
}

function keyFn(groupBy: GroupBy): (run: Run) => string {
  if (groupBy === "run") return (r) => r.name;
  if (groupBy === "variant") return variantOf;
  return groupBy;
}

/** Runs grouped by key, in first-seen order. */
function groupRuns(runs: Run[], groupBy: GroupBy): Map<string, Run[]> {
  const key = keyFn(groupBy);
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return groups;
}

type Curve = { x: number[]; y: number[] };

function curveOf(run: Run, axis: Axis): Curve {
  const pts = run.evals
    .filter((e) => Number.isFinite(e.valLoss))
    .filter((e) => axis === "step" || e.timeS !== null) // a log without training time (llm.c) has no time curve
    .map((e) => [axis === "time" ? e.timeS as number : e.step, e.valLoss] as const)
    .sort((a, b) => a[0] - b[0]);
  return { x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) };
}

/** Linear interpolation of a sorted curve at x (null outside its range). */
export function interpolate(c: Curve, x: number): number | null {
  const n = c.x.length;
  if (n === 0 || x < c.x[0] || x > c.x[n - 1]) return null;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (c.x[mid] <= x) lo = mid; else hi = mid;
  }
  if (c.x[hi] === c.x[lo]) return c.y[lo];
  const t = (x - c.x[lo]) / (c.x[hi] - c.x[lo]);
  return c.y[lo] + t * (c.y[hi] - c.y[lo]);
}

/** 7 significant digits: enough for losses 1e-5 apart, and keeps the saved notebook small. */
const r7 = (v: number): number => +v.toPrecision(7);

/** Keeps a line trace's points inside the window plus one each side (lines reach the edges), rounded. */
function clipTrace(t: Trace, win: [number, number] | null): void {
  const x = t.x as number[];
  let a = 0, b = x.length - 1;
  if (win) {
    while (a < b && x[a + 1] <= win[0]) a++;
    while (b > a && x[b - 1] >= win[1]) b--;
  }
  for (const key of ["x", "y", "customdata"]) {
    const v = t[key] as number[] | undefined;
    if (v) t[key] = v.slice(a, b + 1).map(r7);
  }
}

/** Mean and sample std of several curves, on the union of their x values where all overlap (exact for piecewise-linear curves). */
export function meanCurve(curves: Curve[]): { x: number[]; mean: number[]; std: number[] } {
  const start = Math.max(...curves.map((c) => c.x[0]));
  const end = Math.min(...curves.map((c) => c.x[c.x.length - 1]));
  const xs = [...new Set(curves.flatMap((c) => c.x))].filter((x) => x >= start && x <= end).sort((a, b) => a - b);
  const mean: number[] = [], std: number[] = [];
  for (const x of xs) {
    const ys = curves.map((c) => interpolate(c, x) as number);
    const m = ys.reduce((a, b) => a + b, 0) / ys.length;
    const v = ys.length > 1 ? ys.reduce((a, b) => a + (b - m) ** 2, 0) / (ys.length - 1) : 0;
    mean.push(m);
    std.push(Math.sqrt(v));
  }
  return { x: xs, mean, std };
}

/**
 * Mean and std over seeds of one group. Seeds evaluated at the same steps (every run of a section) are
 * averaged step by step: on the time axis the point sits at the seeds' mean time, so the mean curve
 * runs to the end of training (mean final time) instead of stopping where the fastest seed stops.
 * Seeds with different eval steps fall back to meanCurve on their common x range.
 */
export function seedMean(runs: Run[], axis: Axis): { x: number[]; mean: number[]; std: number[] } {
  const evals = runs.map((r) => r.evals.filter((e) => Number.isFinite(e.valLoss)).sort((a, b) => a.step - b.step));
  const steps = evals[0].map((e) => e.step);
  const aligned = evals.every((es) => es.length === steps.length && es.every((e, i) => e.step === steps[i] && (axis === "step" || e.timeS !== null)));
  if (!aligned) return meanCurve(runs.map((r) => curveOf(r, axis)));
  const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const sd = (v: number[]) => { const m = avg(v); return v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0; };
  const at = (i: number) => evals.map((es) => es[i]);
  return {
    x: steps.map((step, i) => (axis === "step" ? step : avg(at(i).map((e) => e.timeS as number)))),
    mean: steps.map((_, i) => avg(at(i).map((e) => e.valLoss))),
    std: steps.map((_, i) => sd(at(i).map((e) => e.valLoss))),
  };
}

/** The x range a window selects, given the largest x in the data. */
export function resolveWindow(w: XWindow | undefined, xMin: number, xMax: number): [number, number] | null {
  if (!w) return null;
  let lo: number, hi: number;
  if ("last" in w) {
    if (!(w.last > 0 && w.last <= 1)) throw new Error(`window.last must be a fraction in (0, 1], got ${w.last}`);
    [lo, hi] = [xMax * (1 - w.last), xMax];
  } else {
    [lo, hi] = [w.from ?? xMin, w.to ?? xMax];
  }
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
    throw new Error(`window must have from < to, got from=${lo} to=${hi}`);
  }
  return [lo, hi];
}

/** y range covering every curve inside [lo, hi] (with the values where curves cross the edges), padded. */
export function fitYRange(curves: Curve[], lo: number, hi: number, pad = 0.05): [number, number] | null {
  const ys: number[] = [];
  for (const c of curves) {
    c.x.forEach((x, i) => { if (x >= lo && x <= hi) ys.push(c.y[i]); });
    for (const edge of [lo, hi]) {
      const y = interpolate(c, edge);
      if (y !== null) ys.push(y);
    }
  }
  if (ys.length === 0) return null;
  const min = Math.min(...ys), max = Math.max(...ys);
  const span = max - min || Math.abs(max) * 0.01 || 0.01;
  return [min - pad * span, max + pad * span];
}

function labelOf(key: string, labels: Record<string, string> | undefined): string {
  return labels?.[key] ?? key;
}

function baseLayout(title: string | undefined, width: number, height: number): Record<string, unknown> {
  return {
    width, height,
    font: FONT,
    title: title ? { text: title, x: 0.02, xanchor: "left", font: { size: 18 } } : undefined,
    paper_bgcolor: "white", plot_bgcolor: "white",
    margin: { l: 80, r: 24, t: title ? 56 : 24, b: 64 },
    hovermode: "closest",
  };
}

/** Rough rendered width of a legend entry in px at the legend's font (symbol, gap and text). */
const entryWidth = (label: string, fontSize: number) => 46 + 0.56 * fontSize * label.length;

/**
 * The legend under the plot, in rows across the full width: it covers no data however many lines
 * there are. Returns the layout changes: the legend, and the extra bottom margin and height its rows take.
 */
function legendBelow(labels: string[], width: number, title?: string): { legend: Record<string, unknown>; rows: number } {
  const fontSize = 14;
  const usable = width - 40;
  let rows = title ? 2 : 1, used = 0; // a title takes a row of its own above the entries
  for (const l of labels) {
    const w = entryWidth(l, fontSize);
    if (used > 0 && used + w > usable) { rows++; used = 0; }
    used += w;
  }
  return {
    legend: {
      orientation: "h", xref: "container", x: 0.02, xanchor: "left", yref: "container", y: 0.01, yanchor: "bottom",
      font: { size: fontSize }, itemclick: "toggle", title: title ? { text: title, side: "top", font: { size: 13, color: "#555" } } : undefined,
    },
    rows,
  };
}

/** Same number of decimals on every tick (Plotly alone writes 2.9 next to 2.905). */
function tickFormat(range: [number, number]): string {
  const step = (range[1] - range[0]) / 10; // finer than Plotly's own tick spacing, so no two ticks print alike
  return `.${Math.min(6, Math.max(0, Math.ceil(-Math.log10(step))))}f`;
}

/**
 * Validation loss against training time or step: one line per run, or per group a mean line with
 * a ±std band (groups of one run get a plain line). With a window, the x axis is cut to it and the
 * y axis fitted to the data inside it. Traces per group: 3 (upper, lower, mean) or 1.
 */
export function lossChart(runs: Run[], opts: LossChartOptions = {}): Figure {
  const axis = opts.axis ?? "time";
  const groupBy = opts.groupBy ?? "run";
  const colors = opts.colors ?? variantColors;
  const withData = runs.filter((r) => curveOf(r, axis).x.length > 0);
  if (withData.length === 0) throw new Error(`lossChart: none of the ${runs.length} run(s) has a validation loss to draw`);

  const data: Trace[] = [];
  const drawn: Curve[] = []; // every line on the chart, for fitting the y range
  const bands: string[] = []; // groups drawn with a ±std band
  const hover = axis === "time" ? "%{x:.1f} s" : "step %{x}";
  if (groupBy === "run") {
    const seedIndex = new Map<string, number>();
    for (const run of withData) {
      const variant = variantOf(run);
      const k = seedIndex.get(variant) ?? 0;
      seedIndex.set(variant, k + 1);
      const c = curveOf(run, axis);
      drawn.push(c);
      data.push({
        type: "scatter", mode: "lines", name: labelOf(run.name, opts.labels), x: c.x, y: c.y,
        line: { color: colors.colorOf(variant, labelOf(variant, opts.labels) + labelOf(run.name, opts.labels)), width: 2, dash: DASHES[k % DASHES.length] },
        hovertemplate: `%{fullData.name}<br>${hover}<br>val loss %{y:.4f}<extra></extra>`,
      });
    }
  } else {
    const found = groupRuns(withData, groupBy);
    const baselineKey = opts.baseline ?? [...found.keys()].find((k) => /baseline/i.test(k) || /baseline/i.test(labelOf(k, opts.labels)));
    // the baseline first: drawn under the others, and first in the legend
    const groups = new Map([...found].sort(([a], [b]) => Number(b === baselineKey) - Number(a === baselineKey)));
    const bandsForAll = groups.size <= BANDS_FOR_ALL;
    for (const [key, members] of groups) {
      const color = colors.colorOf(key, labelOf(key, opts.labels));
      const label = labelOf(key, opts.labels);
      if (members.length === 1) {
        const c = curveOf(members[0], axis);
        drawn.push(c);
        data.push({
          type: "scatter", mode: "lines", name: label, legendgroup: key, x: c.x, y: c.y,
          line: { color, width: 2 },
          hovertemplate: `%{fullData.name}<br>${hover}<br>val loss %{y:.4f}<extra></extra>`,
        });
        continue;
      }
      const m = seedMean(members, axis);
      const upper = m.mean.map((v, i) => v + m.std[i]);
      const lower = m.mean.map((v, i) => v - m.std[i]);
      drawn.push({ x: m.x, y: m.mean });
      if (bandsForAll || key === baselineKey) {
        drawn.push({ x: m.x, y: upper }, { x: m.x, y: lower });
        bands.push(key);
        // band = upper edge, then lower edge filled up to it ("tonexty")
        data.push({
          type: "scatter", mode: "lines", name: `${label} +std`, legendgroup: key, showlegend: false,
          x: m.x, y: upper, line: { width: 0, color }, hoverinfo: "skip",
        });
        data.push({
          type: "scatter", mode: "lines", name: `${label} −std`, legendgroup: key, showlegend: false,
          x: m.x, y: lower, line: { width: 0, color }, fill: "tonexty", fillcolor: withAlpha(color, bandsForAll ? 0.18 : 0.22), hoverinfo: "skip",
        });
      }
      data.push({
        type: "scatter", mode: "lines", name: `${label} (n=${members.length})`, legendgroup: key,
        x: m.x, y: m.mean, customdata: m.std, line: { color, width: key === baselineKey ? 2.8 : 2.2 },
        hovertemplate: `%{fullData.name}<br>${hover}<br>mean %{y:.4f} ± %{customdata:.4f} (std over seeds)<extra></extra>`,
      });
    }
  }

  const xMin = Math.min(...drawn.map((c) => c.x[0]));
  const xMax = Math.max(...drawn.map((c) => c.x[c.x.length - 1]));
  const win = resolveWindow(opts.window, xMin, xMax);
  const xaxis: Record<string, unknown> = axisStyle(AXIS_TITLE[axis]);
  const yaxis: Record<string, unknown> = axisStyle("validation loss");
  for (const t of data) clipTrace(t, win);
  if (win) {
    xaxis.range = win;
    let yr = fitYRange(drawn, win[0], win[1]);
    if (yr && opts.target !== undefined) {
      // keep a target that lies near the data in view; one far away would flatten the curves
      const span = yr[1] - yr[0];
      if (opts.target >= yr[0] - span && opts.target <= yr[1] + span) {
        yr = [Math.min(yr[0], opts.target - 0.05 * span), Math.max(yr[1], opts.target + 0.05 * span)];
      }
    }
    if (yr) Object.assign(yaxis, { range: yr, tickformat: tickFormat(yr) });
  }
  const width = opts.width ?? DEFAULT_WIDTH;
  const legendLabels = data.filter((t) => t.showlegend !== false).map((t) => String(t.name));
  const bandNote = groupBy === "run" || bands.length === 0 ? undefined
    : bands.length > 1 ? "mean of seeds, band ±1 std:" : "mean of seeds, band ±1 std of the baseline:";
  const { legend, rows } = legendBelow(legendLabels, width, bandNote);
  const legendPx = 20 + 24 * rows;
  const layout = baseLayout(opts.title, width, (opts.height ?? DEFAULT_HEIGHT) + legendPx);
  Object.assign(layout, { xaxis, yaxis, legend, showlegend: true });
  (layout.margin as { b: number }).b += legendPx;
  if (opts.target !== undefined) {
    layout.shapes = [{
      type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: opts.target, y1: opts.target,
      line: { color: "#333", width: 1.5, dash: "dash" },
    }];
    layout.annotations = [{
      xref: "paper", x: 0.01, xanchor: "left", yref: "y", y: opts.target, yanchor: "bottom",
      text: `target ${opts.target}`, showarrow: false, font: { size: 13, color: "#333" },
    }];
  }
  layout.meta = {
    valemb: {
      chart: "loss", axis, window: win, groupBy: typeof groupBy === "function" ? "custom" : groupBy,
      target: opts.target ?? null, runs: withData.map((r) => r.name),
    },
  };
  const w = opts.window;
  const windowPart = !w ? "" : "last" in w ? `-last${Math.round(w.last * 100)}` : `-${Math.round(win![0])}-${Math.round(win![1])}`;
  return { name: opts.name ?? `loss-${axis}${windowPart}`, data, layout, config: { displaylogo: false } };
}

// When a run first reaches the target (src/analysis: interpolated between the two evals around it).
const crossingOf = (run: Run, target: number, axis: Axis): number | null =>
  axis === "time" ? crossingTime(run, target) : crossingStep(run, target);

/**
 * When each run reaches the target loss: one row per group (fastest on top), a dot per run and,
 * for groups of 2+, the mean with a ±std bar. Traces per group: 2 (runs, mean) or 1 (runs).
 */
export function crossingChart(runs: Run[], opts: CrossingChartOptions): Figure {
  const axis = opts.axis ?? "time";
  const colors = opts.colors ?? variantColors;
  const unit = axis === "time" ? " s" : "";
  const digits = axis === "time" ? 1 : 0;
  const rows: { key: string; label: string; xs: number[]; missed: number; mean: number; std: number }[] = [];
  for (const [key, members] of groupRuns(runs, opts.groupBy ?? "variant")) {
    const xs = members.map((r) => crossingOf(r, opts.target, axis)).filter((x): x is number => x !== null);
    const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Infinity;
    const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
    rows.push({ key, label: labelOf(key, opts.labels), xs, missed: members.length - xs.length, mean, std });
  }
  rows.sort((a, b) => a.mean - b.mean);
  const reached = rows.filter((r) => r.xs.length > 0);
  if (reached.length === 0) throw new Error(`crossingChart: no run reaches val loss ${opts.target}`);

  const data: Trace[] = [];
  for (const r of reached) {
    const color = colors.colorOf(r.key, r.label);
    const rowName = r.missed ? `${r.label} (${r.missed} of ${r.xs.length + r.missed} never reach it)` : r.label;
    data.push({
      type: "scatter", mode: "markers", name: `${r.label} runs`, legendgroup: r.key, showlegend: false,
      x: r.xs, y: r.xs.map(() => rowName),
      marker: { color, size: r.xs.length > 1 ? 10 : 12, opacity: r.xs.length > 1 ? 0.55 : 1, line: { width: 1, color: "white" } },
      hovertemplate: `%{y}<br>%{x:.1f}${unit}<extra></extra>`,
    });
    if (r.xs.length > 1) {
      data.push({
        type: "scatter", mode: "markers+text", name: `${r.label} mean ± std`, legendgroup: r.key, showlegend: false,
        x: [r.mean], y: [rowName], error_x: { type: "data", array: [r.std], color, thickness: 2, width: 8 },
        marker: { color, size: 14, symbol: "diamond", line: { width: 1, color: "#222" } },
        text: [`${r.mean.toFixed(digits)} ± ${r.std.toFixed(digits)}${unit}`], textposition: "top center", textfont: { size: 13 },
        hovertemplate: `%{y}<br>mean %{x:.1f}${unit} ± ${r.std.toFixed(1)}<extra></extra>`,
      });
    }
  }
  const layout = baseLayout(opts.title, opts.width ?? DEFAULT_WIDTH, opts.height ?? 150 + 70 * reached.length);
  const xTitle = axis === "time" ? `training time to reach val loss ${opts.target} (s)` : `steps to reach val loss ${opts.target}`;
  Object.assign(layout, {
    xaxis: axisStyle(xTitle),
    yaxis: { ...axisStyle(""), autorange: "reversed", automargin: true, ticksuffix: "  " },
    showlegend: false,
    margin: { l: 80, r: 30, t: opts.title ? 56 : 24, b: 64 },
  });
  const never = rows.filter((r) => r.xs.length === 0);
  if (never.length) {
    layout.annotations = [{
      xref: "paper", yref: "paper", x: 1, y: 1.0, xanchor: "right", yanchor: "bottom", showarrow: false,
      text: `never reach ${opts.target}: ${never.map((r) => r.label).join(", ")}`, font: { size: 12, color: "#a00" },
    }];
  }
  layout.meta = { valemb: { chart: "crossing", axis, target: opts.target, groups: rows.map((r) => r.key), runs: runs.map((r) => r.name) } };
  return { name: opts.name ?? `crossing-${axis}-${opts.target}`, data, layout, config: { displaylogo: false } };
}
