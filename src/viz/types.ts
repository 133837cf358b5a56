// The run types viz draws. They mirror src/analysis (COMMON.md "Agreed interfaces"); once
// src/analysis/index.ts exists this file re-exports them from there instead.

export interface EvalPoint {
  step: number;
  valLoss: number;
  timeS: number;
}

export interface Run {
  name: string;
  source: string;
  evals: EvalPoint[];
  totalSteps: number | null;
  meta: Record<string, unknown>;
}
