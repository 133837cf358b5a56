// The run folder's text formats: modded-nanogpt log lines and the evals.jsonl records.

/** What the analysis reads: `step:125/400 val_loss:4.325680 train_time:27923ms step_avg:223.38ms` (val part optional). */
export const LOG_LINE_RE = /^step:(\d+)\/(\d+)(?: val_loss:([-+\d.eE]+|nan|inf))? train_time:(\d+)ms step_avg:([\d.]+)ms$/;

import type { LearnedScalars } from "../model";

const stepAvg = (trainTimeMs: number, step: number) => (trainTimeMs / Math.max(step, 1)).toFixed(2);

/** Validation line, written before training resumes (step 0 first, as modded-nanogpt does). */
export function formatValLine(step: number, totalSteps: number, valLoss: number, trainTimeMs: number): string {
  return `step:${step}/${totalSteps} val_loss:${valLoss.toFixed(6)} train_time:${Math.round(trainTimeMs)}ms step_avg:${stepAvg(trainTimeMs, step)}ms`;
}

/** Training line after step `step` (1-based: the number of steps done). */
export function formatTrainLine(step: number, totalSteps: number, trainTimeMs: number): string {
  return `step:${step}/${totalSteps} train_time:${Math.round(trainTimeMs)}ms step_avg:${stepAvg(trainTimeMs, step)}ms`;
}

/** One line of evals.jsonl (the agreed shape; `scalars` was added later, so older runs lack it). */
export interface EvalRecord {
  step: number;
  total_steps: number;
  val_loss: number;
  train_time_ms: number;
  step_avg_ms: number;
  /** The model's learned scalars at this evaluation, by layer. */
  scalars?: LearnedScalars;
}

export function evalRecord(step: number, totalSteps: number, valLoss: number, trainTimeMs: number, scalars?: LearnedScalars): EvalRecord {
  return {
    step,
    total_steps: totalSteps,
    val_loss: Number(valLoss.toFixed(6)),
    train_time_ms: Math.round(trainTimeMs),
    step_avg_ms: Number(stepAvg(trainTimeMs, step)),
    ...(scalars ? { scalars } : {}),
  };
}
