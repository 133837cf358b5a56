// Parsers for the three text formats a run can come in: modded-nanogpt `step:` lines (raw logs and
// the author's aggregated markdown files) and our trainer's evals.jsonl. Every parser checks each
// line and reports what is wrong with file and line; a bad line never becomes a number.
import type { EvalPoint, LayerScalars, LoadProblem, Run } from "./types";

export type StepLine =
  | { kind: "eval"; step: number; total: number; valLoss: number; timeMs: number }
  | { kind: "train"; step: number; total: number; timeMs: number };

const STEP_HEAD = /^step:(\d+)\/(\d+)(.*)$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const NON_FINITE = /^[-+]?(nan|inf|infinity)$/i;

/** Parses one `step:k/N key:value …` line; returns an error message for a garbled one. */
export function parseStepLine(text: string): StepLine | { error: string } {
  const head = STEP_HEAD.exec(text.trim());
  if (!head) return { error: "garbled step line (expected `step:<k>/<N> …`)" };
  const step = Number(head[1]);
  const total = Number(head[2]);
  const fields: Record<string, string> = {};
  for (const token of head[3].trim().split(/\s+/).filter(Boolean)) {
    const kv = /^([a-z_]+):(\S+)$/.exec(token);
    if (!kv) return { error: `garbled step line: cannot read '${token}'` };
    fields[kv[1]] = kv[2];
  }
  const time = fields.train_time === undefined ? null : /^(\d+(?:\.\d+)?)ms$/.exec(fields.train_time);
  if (!time) return { error: "garbled step line: no readable train_time:<t>ms" };
  const timeMs = Number(time[1]);
  if (fields.val_loss === undefined) return { kind: "train", step, total, timeMs };
  const raw = fields.val_loss;
  if (NON_FINITE.test(raw)) return { error: `val_loss is ${raw} (not a finite number)` };
  if (!NUMBER.test(raw)) return { error: `garbled step line: val_loss '${raw}' is not a number` };
  return { kind: "eval", step, total, valLoss: Number(raw), timeMs };
}

/**
 * Collects the evaluations of one run and enforces what a run must be: steps strictly increasing,
 * time never going back, one total step count. Each violation is a problem; the point is dropped.
 */
export class RunBuilder {
  readonly evals: EvalPoint[] = [];
  totalSteps: number | null = null;
  lastEvalLine: number | undefined;
  private lastTrainStep = -1;

  constructor(
    readonly name: string,
    readonly file: string,
    private readonly problems: LoadProblem[],
  ) {}

  problem(line: number | undefined, message: string): void {
    this.problems.push({ file: this.file, line, run: this.name, message });
  }

  /** Checks the `/N` part of a line against the run's total. */
  private checkTotal(total: number | null, line: number): boolean {
    if (total === null) return true;
    if (this.totalSteps === null) this.totalSteps = total;
    if (total === this.totalSteps) return true;
    this.problem(line, `total steps ${total} differs from ${this.totalSteps} earlier in this run; line ignored`);
    return false;
  }

  addEval(p: EvalPoint, total: number | null, line: number): void {
    if (!this.checkTotal(total, line)) return;
    const prev = this.evals[this.evals.length - 1];
    if (prev && p.step <= prev.step) {
      this.problem(line, `non-monotonic steps: evaluation at step ${p.step} after step ${prev.step} (line ${this.lastEvalLine}); line ignored`);
      return;
    }
    if (prev && p.timeS < prev.timeS) {
      this.problem(line, `training time goes back: ${p.timeS} s at step ${p.step} after ${prev.timeS} s at step ${prev.step}; line ignored`);
      return;
    }
    this.evals.push(p);
    this.lastEvalLine = line;
  }

  addTrain(step: number, total: number, line: number): void {
    if (!this.checkTotal(total, line)) return;
    if (step <= this.lastTrainStep) {
      this.problem(line, `non-monotonic steps: training step ${step} after step ${this.lastTrainStep}`);
    }
    this.lastTrainStep = Math.max(this.lastTrainStep, step);
  }

  /** Feeds one `step:` line; returns false when the line was bad (already reported). */
  addStepLine(text: string, line: number): boolean {
    const parsed = parseStepLine(text);
    if ("error" in parsed) {
      this.problem(line, parsed.error);
      return false;
    }
    if (parsed.kind === "train") this.addTrain(parsed.step, parsed.total, line);
    else this.addEval({ step: parsed.step, valLoss: parsed.valLoss, timeS: parsed.timeMs / 1000 }, parsed.total, line);
    return true;
  }

  /** The finished run, or null (reported) when it has no evaluations or stops early without keepIncomplete. */
  finish(source: string, meta: Record<string, unknown>, keepIncomplete: boolean, headerLine?: number): Run | null {
    if (this.evals.length === 0) {
      this.problem(headerLine, "no evaluation lines (`step:… val_loss:…`) in this run; skipped");
      return null;
    }
    const last = this.evals[this.evals.length - 1];
    const complete = this.totalSteps === null || last.step >= this.totalSteps;
    if (!complete) {
      const what = `incomplete (truncated?): last evaluation is step ${last.step} of ${this.totalSteps}`;
      if (!keepIncomplete) {
        this.problem(this.lastEvalLine, `${what}; skipped (keepIncomplete / --partial keeps it)`);
        return null;
      }
      this.problem(this.lastEvalLine, `${what}; kept, its last values are not final`);
    }
    return { name: this.name, source, evals: this.evals, totalSteps: this.totalSteps, meta: { ...meta, complete } };
  }
}

/** Facts a raw modded-nanogpt log states in its environment preamble and last lines. */
function rawLogMeta(lines: string[]): Record<string, unknown> {
  const meta: Record<string, unknown> = { format: "modded-nanogpt-log" };
  const gpus: string[] = [];
  for (const [i, line] of lines.entries()) {
    let m: RegExpExecArray | null;
    if ((m = /^Running Python (\S+)/.exec(line))) meta.python = m[1];
    else if ((m = /^Running PyTorch (\S+)/.exec(line))) {
      meta.pytorch = m[1];
      const date = lines[i + 1]?.trim();
      if (date && /^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d+ [\d:]+ \d{4}$/.test(date)) meta.date = date;
    } else if ((m = /^\|\s+\d+\s+(NVIDIA.*?|Tesla.*?|AMD.*?)\s{2,}(On|Off)\s+\|/.exec(line))) gpus.push(m[1]);
    else if ((m = /^peak memory allocated: (\d+) MiB reserved: (\d+) MiB/.exec(line))) {
      meta.peakMemoryMiB = Number(m[1]);
      meta.reservedMemoryMiB = Number(m[2]);
    }
  }
  if (gpus.length) {
    meta.gpuCount = gpus.length;
    meta.gpu = [...new Set(gpus)].join(", ");
  }
  return meta;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** A raw log: source code and environment preamble, then `step:` lines; one run. */
export function parseRawLog(text: string, file: string, name: string, problems: LoadProblem[], keepIncomplete = false): Run | null {
  const lines = splitLines(text);
  const b = new RunBuilder(name, file, problems);
  lines.forEach((line, i) => {
    if (line.startsWith("step:")) b.addStepLine(line, i + 1);
  });
  return b.finish(file, rawLogMeta(lines), keepIncomplete);
}

/**
 * An aggregated markdown file: runs under `## <name>` headers. Deeper headers nest: a `### 26 0`
 * inside `## Old results for 26` is the run `Old results for 26/26 0`, so it cannot be mixed up
 * with a top-level `## 26 0`. A file without such headers is read as one raw log.
 */
export function parseMarkdownRuns(text: string, file: string, problems: LoadProblem[], keepIncomplete = false): Run[] {
  const lines = splitLines(text);
  const headers = lines.map((l) => /^(#{2,6})\s+(.*?)\s*#*\s*$/.exec(l));
  if (!headers.some((h) => h && h[2])) {
    const stem = file.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "");
    const run = parseRawLog(text, file, stem, problems, keepIncomplete);
    return run ? [run] : [];
  }
  interface Section { level: number; title: string; line: number; builder: RunBuilder; hasChildren: boolean }
  const runs: Run[] = [];
  const stack: Section[] = [];
  const close = (s: Section) => {
    if (s.builder.evals.length === 0 && s.hasChildren) return; // a heading that only groups runs
    const run = s.builder.finish(`${file}:${s.line}`, { format: "markdown", file, line: s.line }, keepIncomplete, s.line);
    if (run) runs.push(run);
  };
  lines.forEach((line, i) => {
    const h = headers[i];
    if (h) {
      const level = h[1].length;
      while (stack.length && stack[stack.length - 1].level >= level) close(stack.pop()!);
      const parent = stack[stack.length - 1];
      if (parent) parent.hasChildren = true;
      const name = parent ? `${parent.builder.name}/${h[2]}` : h[2];
      stack.push({ level, title: h[2], line: i + 1, builder: new RunBuilder(name, file, problems), hasChildren: false });
      return;
    }
    if (!line.startsWith("step:")) return; // prose, <details>, rules
    const section = stack[stack.length - 1];
    if (!section) problems.push({ file, line: i + 1, message: "step line before any `## <name>` header; ignored" });
    else section.builder.addStepLine(line, i + 1);
  });
  while (stack.length) close(stack.pop()!);
  // Document order (a parent closes after its children).
  return runs.sort((a, b) => (a.meta.line as number) - (b.meta.line as number));
}

/** Our trainer's evals.jsonl: one `{"step","total_steps","val_loss","train_time_ms",…}` per line. */
/** `scalars` of an evals.jsonl line, or null when it is not family → array of numbers/nulls. */
function layerScalars(v: unknown): LayerScalars | null {
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const entries = Object.entries(v as Record<string, unknown>);
  const ok = entries.every(([, xs]) => Array.isArray(xs) && xs.every((x) => x === null || (typeof x === "number" && Number.isFinite(x))));
  return ok ? (Object.fromEntries(entries) as LayerScalars) : null;
}

export function parseEvalsJsonl(
  text: string, file: string, name: string, problems: LoadProblem[],
  meta: Record<string, unknown> = {}, keepIncomplete = false, source = file,
): Run | null {
  const b = new RunBuilder(name, file, problems);
  const endsMidLine = text.length > 0 && !text.endsWith("\n");
  const lines = splitLines(text);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      const last = i === lines.length - 1 && endsMidLine;
      b.problem(i + 1, last ? "truncated line (file ends mid-line); ignored" : "garbled line: not valid JSON; ignored");
      return;
    }
    const o = (obj ?? {}) as Record<string, unknown>;
    const bad = (field: string, why: string) => b.problem(i + 1, `field '${field}' ${why}; line ignored`);
    if (typeof o !== "object" || Array.isArray(o)) return b.problem(i + 1, "garbled line: not a JSON object; ignored");
    if (!Number.isInteger(o.step) || (o.step as number) < 0) return bad("step", "missing or not a non-negative integer");
    if (typeof o.val_loss !== "number") {
      return bad("val_loss", o.val_loss === null || o.val_loss === "NaN" ? "is NaN (written as " + JSON.stringify(o.val_loss) + ")" : "missing or not a number");
    }
    if (typeof o.train_time_ms !== "number" || !(o.train_time_ms >= 0)) return bad("train_time_ms", "missing or not a non-negative number");
    const total = o.total_steps === undefined ? null : o.total_steps;
    if (total !== null && !Number.isInteger(total)) return bad("total_steps", "is not an integer");
    const scalars = o.scalars === undefined ? undefined : layerScalars(o.scalars);
    if (scalars === null) return bad("scalars", "is not an object of per-layer number arrays");
    b.addEval({ step: o.step as number, valLoss: o.val_loss, timeS: o.train_time_ms / 1000, ...(scalars ? { scalars } : {}) }, total as number | null, i + 1);
  });
  if (b.totalSteps === null && Number.isInteger(meta.steps)) b.totalSteps = meta.steps as number;
  return b.finish(source, { ...meta, format: "evals.jsonl" }, keepIncomplete);
}
