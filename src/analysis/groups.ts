// Groups of seeds: one layout run several times. Mean/std curves for plots, and per-group
// crossing-time and final-loss statistics for tables.
import { commonWindow, crossing, finalEval, linearGrid, lossAt, type Crossing } from "./measure";
import { selectRuns } from "./select";
import { mean, sampleStd } from "./stats";
import type { Axis, Run } from "./types";

export interface RunGroup {
  name: string;
  runs: Run[];
}

/**
 * The group a run belongs to when it is one seed of many: its name without the trailing seed part
 * (`adding/baseline/seed-3` → `adding/baseline`, `add-1/seed-0` → `add-1`, `25 7` → `25`, `22-3` → `22`).
 */
export function seedGroupName(name: string): string {
  // our run folders name the seed explicitly; only other names (`25 7`, `22-3`) end in a bare number
  if (/\/seed-\d+$/.test(name)) return name.replace(/\/seed-\d+$/, "");
  return name.replace(/(?<=\S)[ -]\d+$/, "");
}

/**
 * Groups runs by `by`: a function of the run name (default seedGroupName), or a record of group
 * name → `--runs` pattern (`{ baseline: "25 *", plus2: "26 *" }`). Groups keep first-seen order.
 */
export function groupRuns(runs: Run[], by: ((name: string) => string) | Record<string, string> = seedGroupName): RunGroup[] {
  if (typeof by !== "function") return Object.entries(by).map(([name, pattern]) => ({ name, runs: selectRuns(runs, pattern).runs }));
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = by(r.name);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([name, rs]) => ({ name, runs: rs }));
}

export interface GroupCurve {
  name: string;
  runs: string[];
  axis: Axis;
  grid: number[];
  mean: number[];
  /** Sample std across runs at each grid point; 0 for a group of one. */
  std: number[];
}

/** Mean and std of a group's loss curves on one grid over the part of [from, to] all its runs cover. */
export function groupCurve(
  group: RunGroup,
  opts: { axis?: Axis; from?: number; to?: number; points?: number } = {},
): GroupCurve {
  const axis = opts.axis ?? "time";
  if (group.runs.length === 0) throw new Error(`group '${group.name}' has no runs`);
  const window = commonWindow(group.runs, axis, opts.from, opts.to);
  if (!window) throw new Error(`group '${group.name}': its runs share no part of the window on the ${axis} axis`);
  const grid = linearGrid(window.from, window.to, opts.points ?? 200);
  const at = grid.map((x) => group.runs.map((r) => lossAt(r, x, axis) as number));
  return {
    name: group.name,
    runs: group.runs.map((r) => r.name),
    axis,
    grid,
    mean: at.map(mean),
    std: at.map((ls) => (ls.length < 2 ? 0 : sampleStd(ls))),
  };
}

export interface GroupSummary {
  group: string;
  n: number;
  /** Runs that reached the threshold; the crossing statistics are over these only. */
  nCrossed: number;
  crossingTimeMean: number | null;
  crossingTimeStd: number | null;
  crossingStepMean: number | null;
  crossingStepStd: number | null;
  finalLossMean: number;
  finalLossStd: number | null;
  /** Null when a run of the group has no training time (llm.c logs). */
  finalTimeMean: number | null;
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

export function summarizeGroup(group: RunGroup, threshold: number): GroupSummary {
  if (group.runs.length === 0) throw new Error(`group '${group.name}' has no runs`);
  const crossings = group.runs.map((r) => crossing(r, threshold)).filter((c): c is Crossing => c !== null); // explicit guard: tslab's TypeScript 5.0 does not infer it
  const finals = group.runs.map((r) => finalEval(r)!);
  // A crossing time exists only when every run of the group has one; otherwise the mean would be of a subset.
  const times = crossings.every((c) => c.timeS !== null) ? crossings.map((c) => c.timeS as number) : [];
  const steps = crossings.map((c) => c.step);
  return {
    group: group.name,
    n: group.runs.length,
    nCrossed: crossings.length,
    crossingTimeMean: orNull(mean(times)),
    crossingTimeStd: orNull(sampleStd(times)),
    crossingStepMean: orNull(mean(steps)),
    crossingStepStd: orNull(sampleStd(steps)),
    finalLossMean: mean(finals.map((f) => f.valLoss)),
    finalLossStd: orNull(sampleStd(finals.map((f) => f.valLoss))),
    finalTimeMean: finals.every((f) => f.timeS !== null) ? mean(finals.map((f) => f.timeS as number)) : null,
  };
}

export function summarizeGroups(groups: RunGroup[], threshold: number): GroupSummary[] {
  return groups.map((g) => summarizeGroup(g, threshold));
}
