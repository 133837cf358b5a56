// Small logs written by the tests themselves, in a fresh temp folder per test file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EvalPoint, Run } from "../../src/analysis";

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "valemb-analysis-"));
}

export function write(dir: string, rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** modded-nanogpt validation line; time in ms. */
export function evalLine(step: number, total: number, loss: number | string, timeMs: number): string {
  const l = typeof loss === "number" ? loss.toFixed(6) : loss;
  return `step:${step}/${total} val_loss:${l} train_time:${timeMs}ms step_avg:${(timeMs / Math.max(step, 1)).toFixed(2)}ms`;
}

export function trainLine(step: number, total: number, timeMs: number): string {
  return `step:${step}/${total} train_time:${timeMs}ms step_avg:${(timeMs / Math.max(step, 1)).toFixed(2)}ms`;
}

/** A run built in memory: [step, loss, timeS] triples. */
export function run(name: string, points: [number, number, number][], totalSteps: number | null = null): Run {
  const evals: EvalPoint[] = points.map(([step, valLoss, timeS]) => ({ step, valLoss, timeS }));
  return { name, source: "memory", evals, totalSteps: totalSteps ?? evals[evals.length - 1].step, meta: {} };
}

export const REFERENCE_LOGS = path.join(__dirname, "..", "..", "..", "shared", "reference-logs");
