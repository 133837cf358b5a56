// What the post measures on a loss curve: when a run first reaches the target, and which run is
// ahead over a window of training. Curves are piecewise linear between evaluations.
import type { Axis, EvalPoint, Run } from "./types";

export interface Crossing {
  /** Null for a run whose log has no training time (llm.c). */
  timeS: number | null;
  step: number;
}

/**
 * The first time the validation loss reaches `threshold` (loss <= threshold), linearly
 * interpolated in time and step between the evaluation before and the first one at or below it.
 * Null when the run never gets there. A run already below at its first evaluation crosses there.
 */
export function crossing(run: Run, threshold: number): Crossing | null {
  const ev = run.evals;
  for (let i = 0; i < ev.length; i++) {
    const b = ev[i];
    if (!(b.valLoss <= threshold)) continue;
    if (i === 0) return { timeS: b.timeS, step: b.step };
    const a = ev[i - 1];
    const f = (a.valLoss - threshold) / (a.valLoss - b.valLoss); // in (0, 1]: a is above, b at or below
    const timeS = a.timeS === null || b.timeS === null ? null : a.timeS + f * (b.timeS - a.timeS);
    return { timeS, step: a.step + f * (b.step - a.step) };
  }
  return null;
}

export function crossingTime(run: Run, threshold: number): number | null {
  return crossing(run, threshold)?.timeS ?? null;
}

export function crossingStep(run: Run, threshold: number): number | null {
  return crossing(run, threshold)?.step ?? null;
}

export function finalEval(run: Run): EvalPoint | null {
  return run.evals[run.evals.length - 1] ?? null;
}

/** True when every evaluation of the run has a training time (false for llm.c logs). */
export function hasTime(run: Run): boolean {
  return run.evals.every((e) => e.timeS !== null);
}

/** The training time of an evaluation; an error naming the run when its log has none. */
export function timeOf(p: EvalPoint, run?: Run): number {
  if (p.timeS === null) throw new Error(`${run ? `run '${run.name}'` : "this run"} has no training time in its log (llm.c's format); use the step axis`);
  return p.timeS;
}

const axisValue = (p: EvalPoint, axis: Axis) => (axis === "time" ? (p.timeS ?? NaN) : p.step);

/** The loss at `x` (seconds or steps) by linear interpolation; null outside the run's evaluations (and on the time axis of a run without time). */
export function lossAt(run: Run, x: number, axis: Axis = "time"): number | null {
  const ev = run.evals;
  if (axis === "time" && !hasTime(run)) return null;
  if (ev.length === 0 || x < axisValue(ev[0], axis) || x > axisValue(ev[ev.length - 1], axis)) return null;
  let lo = 0;
  let hi = ev.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (axisValue(ev[mid], axis) <= x) lo = mid;
    else hi = mid;
  }
  const xa = axisValue(ev[lo], axis);
  const xb = axisValue(ev[hi], axis);
  if (x === xa || xb === xa) return ev[lo].valLoss;
  if (x === xb) return ev[hi].valLoss;
  return ev[lo].valLoss + ((x - xa) / (xb - xa)) * (ev[hi].valLoss - ev[lo].valLoss);
}

/** The part of [from, to] that every run covers, or null when they share none of it. */
export function commonWindow(runs: Run[], axis: Axis, from = -Infinity, to = Infinity): { from: number; to: number } | null {
  let lo = from;
  let hi = to;
  for (const r of runs) {
    if (r.evals.length === 0 || (axis === "time" && !hasTime(r))) return null;
    lo = Math.max(lo, axisValue(r.evals[0], axis));
    hi = Math.min(hi, axisValue(r.evals[r.evals.length - 1], axis));
  }
  return lo <= hi && Number.isFinite(lo) && Number.isFinite(hi) ? { from: lo, to: hi } : null;
}

/** `points` evenly spaced values from `from` to `to`, both included. */
export function linearGrid(from: number, to: number, points: number): number[] {
  if (!(points >= 1) || !Number.isInteger(points)) throw new Error(`grid needs a whole number of points >= 1, got ${points}`);
  if (points === 1 || from === to) return [from];
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? to : from + ((to - from) * i) / (points - 1)));
}

export interface RankOptions {
  from: number;
  to: number;
  axis?: Axis;
  /** The run the gaps are measured to; default: the best-ranked run. */
  ref?: string;
  /** Grid points inside the window; default 101. */
  points?: number;
}

export interface RankRow {
  run: string;
  meanRank: number;
  meanLoss: number;
  /** Mean of (this run's loss - the reference's loss) over the grid; negative = ahead of it. */
  meanGapToRef: number;
}

export interface Ranking {
  axis: Axis;
  /** The window actually used: [from, to] cut to the part every run covers. */
  from: number;
  to: number;
  points: number;
  /** True when the requested window had to be cut. */
  clipped: boolean;
  ref: string;
  /** Best first: lowest mean rank, then lowest mean loss. */
  rows: RankRow[];
}

/**
 * Ranks runs over a window (the post's "order before the crossing"): every run is interpolated onto
 * one grid, ranked at each grid point (1 = lowest loss, ties share the mean of their ranks), and the
 * ranks, losses and gaps to the reference are averaged.
 */
export function rankRuns(runs: Run[], opts: RankOptions): Ranking {
  const axis = opts.axis ?? "time";
  if (runs.length === 0) throw new Error("rank: no runs to rank");
  if (!(opts.from <= opts.to)) throw new Error(`rank: window from ${opts.from} to ${opts.to} is empty`);
  const untimed = axis === "time" ? runs.filter((r) => !hasTime(r)).map((r) => `'${r.name}'`) : [];
  if (untimed.length) throw new Error(`rank: ${untimed.join(", ")} ha${untimed.length === 1 ? "s" : "ve"} no training time in the log (llm.c's format); rank on --axis step`);
  const window = commonWindow(runs, axis, opts.from, opts.to);
  if (!window) {
    const ends = runs.map((r) => `${r.name}: ${axisValue(r.evals[0], axis)}..${axisValue(r.evals[r.evals.length - 1], axis)}`);
    throw new Error(`rank: no part of [${opts.from}, ${opts.to}] (${axis}) is covered by every run (${ends.join("; ")})`);
  }
  if (opts.ref !== undefined && !runs.some((r) => r.name === opts.ref)) throw new Error(`rank: reference run '${opts.ref}' is not among the runs`);
  const grid = linearGrid(window.from, window.to, opts.points ?? 101);
  const losses = runs.map((r) => grid.map((x) => lossAt(r, x, axis) as number));
  const rankSum = new Array<number>(runs.length).fill(0);
  for (let g = 0; g < grid.length; g++) {
    const order = runs.map((_, i) => i).sort((i, j) => losses[i][g] - losses[j][g]);
    for (let k = 0; k < order.length; ) {
      let end = k;
      while (end + 1 < order.length && losses[order[end + 1]][g] === losses[order[k]][g]) end++;
      const shared = (k + end) / 2 + 1; // ranks k+1 … end+1, averaged
      for (let m = k; m <= end; m++) rankSum[order[m]] += shared;
      k = end + 1;
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rows = runs.map((r, i) => ({ run: r.name, meanRank: rankSum[i] / grid.length, meanLoss: mean(losses[i]), meanGapToRef: 0 }));
  rows.sort((a, b) => a.meanRank - b.meanRank || a.meanLoss - b.meanLoss || a.run.localeCompare(b.run));
  const ref = opts.ref ?? rows[0].run;
  const refLosses = losses[runs.findIndex((r) => r.name === ref)];
  for (const row of rows) {
    const own = losses[runs.findIndex((r) => r.name === row.run)];
    row.meanGapToRef = mean(own.map((l, g) => l - refLosses[g]));
  }
  return { axis, from: window.from, to: window.to, points: grid.length, clipped: window.from !== opts.from || window.to !== opts.to, ref, rows };
}
