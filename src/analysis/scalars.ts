// The learned scalars our runs record at each evaluation (evals.jsonl `scalars`), averaged over seeds:
// one value per (step, layer), or per layer at the end. The post's own logs hold no scalars.
import { mean } from "./stats";
import type { Run } from "./types";

/** A family of learned scalars over training: values[k][layer] at steps[k], mean over the runs that have it. */
export interface ScalarGrid {
  family: string;
  steps: number[];
  /** Layers that have a value in at least one run (others are unused by the layout). */
  layers: number[];
  /** [step index][layer] → mean over runs; null where no run has a value. */
  values: (number | null)[][];
  /** Runs that recorded scalars. */
  runs: number;
}

const valueAt = (run: Run, k: number, family: string, layer: number): number | null => run.evals[k].scalars?.[family]?.[layer] ?? null;

/** Mean of one scalar family over runs, at the steps every run with scalars evaluated. */
export function scalarGrid(runs: Run[], family: string): ScalarGrid {
  const withScalars = runs.filter((r) => r.evals.some((e) => e.scalars?.[family]));
  if (withScalars.length === 0) return { family, steps: [], layers: [], values: [], runs: 0 };
  const common = withScalars.map((r) => new Set(r.evals.filter((e) => e.scalars?.[family]).map((e) => e.step)));
  const steps = [...common[0]].filter((s) => common.every((c) => c.has(s))).sort((a, b) => a - b);
  const nLayers = Math.max(...withScalars.flatMap((r) => r.evals.map((e) => e.scalars?.[family]?.length ?? 0)));
  const values = steps.map((step) => Array.from({ length: nLayers }, (_, layer) => {
    const xs = withScalars.map((r) => valueAt(r, r.evals.findIndex((e) => e.step === step), family, layer)).filter((x): x is number => x !== null);
    return xs.length ? mean(xs) : null;
  }));
  const layers = Array.from({ length: nLayers }, (_, l) => l).filter((l) => values.some((row) => row[l] !== null));
  return { family, steps, layers, values, runs: withScalars.length };
}

/** Each layer's final value of a family, mean over the runs (null: unused by the layout, or no scalars recorded). */
export function finalScalars(runs: Run[], family: string): (number | null)[] {
  const g = scalarGrid(runs, family);
  return g.values.length ? g.values[g.values.length - 1] : [];
}
