// Reading runs out of logs, one line at a time: modded-nanogpt `step:` lines (raw logs of every
// track and year, and the author's aggregated markdown), llm.c's `s:N tel:X` lines, and our
// trainer's evals.jsonl. Every line that should hold a number either gives a checked number or an
// error with file and line; a run with such an error is left out, never patched.
import { textLines, type SourceLine } from "./lines";
import type { EvalPoint, LayerScalars, LoadProblem, Run } from "./types";

export type StepRecord =
  | { kind: "eval"; step: number; total: number | null; valLoss: number; timeS: number | null; scalars?: LayerScalars; scalarsError?: string }
  | { kind: "train"; step: number; total: number | null };

export type LogFormat = "log" | "markdown" | "jsonl";

export interface ReadOptions {
  /** Keep runs whose last evaluation is before their total steps (a crash, a run still going). Default false. */
  keepIncomplete?: boolean;
  /** Several runs in one log (steps start again): "last" (default) reads the last complete one, "all" each. */
  attempts?: "last" | "all";
}

/**
 * A copy of a string that shares no memory with the line it came from: V8 keeps a slice's whole
 * source alive, and a name or message kept from a line would otherwise pin a megabyte read buffer.
 */
const own = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

const STEP_HEAD = /^step:(\d+)\/(\d+)(.*)$/;
const LLMC = /^s:(\d+) (tel|trl):(\S+)(.*)$/;
const KEY_VALUE = /^([A-Za-z_][A-Za-z0-9_]*):(\S*)$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const NON_FINITE = /^[-+]?(nan|inf|infinity)$/i;
const TIME = /^(\d+\.?\d*|\.\d+)(ms|s)$/;
// The shape of nearly every line of a log (a training step): read in one match, same result as field by field.
const TRAIN_LINE = /^step:(\d+)\/(\d+) (?:train_loss:\S+ )?train_time:(?:\d+\.?\d*|\.\d+)(?:ms|s) step_avg:\S+$/;

/** `key:value` fields in any order, or an error naming the token that is not one. */
function readFields(rest: string): { fields: Record<string, string> } | { error: string } {
  const fields: Record<string, string> = {};
  for (const token of rest.split(/\s+/)) {
    if (!token) continue;
    const kv = KEY_VALUE.exec(token);
    if (!kv) return { error: `garbled step line: cannot read '${token}'` };
    fields[kv[1]] = kv[2];
  }
  return { fields };
}

/** A loss as written in a log: finite and not negative, or an error saying what it is. */
function readLoss(key: string, raw: string): number | { error: string } {
  if (NON_FINITE.test(raw)) return { error: `${key} is ${raw} (not a finite number)` };
  if (!NUMBER.test(raw)) return { error: `garbled step line: ${key} '${raw}' is not a number` };
  const loss = Number(raw);
  if (!Number.isFinite(loss)) return { error: `${key} is ${raw} (not a finite number)` };
  if (loss < 0) return { error: `${key} is negative (${raw}); a cross-entropy loss cannot be` };
  return loss;
}

/** One modded-nanogpt `step:<k>/<N> key:value …` line; `train_time` in ms or s. */
export function parseStepLine(text: string): StepRecord | { error: string } {
  const train = TRAIN_LINE.exec(text);
  if (train) return { kind: "train", step: Number(train[1]), total: Number(train[2]) };
  const head = STEP_HEAD.exec(text.trim());
  if (!head) return { error: "garbled step line (expected `step:<k>/<N> …`)" };
  const step = Number(head[1]);
  const total = Number(head[2]);
  const read = readFields(head[3]);
  if ("error" in read) return read;
  const f = read.fields;
  if (f.train_time === undefined) return { error: "garbled step line: no train_time:<t>ms or <t>s" };
  const time = TIME.exec(f.train_time);
  if (!time) return { error: `garbled step line: train_time '${f.train_time}' is not a time in ms or s` };
  const timeS = time[2] === "s" ? Number(time[1]) : Number(time[1]) / 1000;
  if (f.val_loss === undefined) return { kind: "train", step, total };
  const loss = readLoss("val_loss", f.val_loss);
  if (typeof loss !== "number") return loss;
  return { kind: "eval", step, total, valLoss: loss, timeS };
}

/** One llm.c line: `s:<k> tel:<loss>` (validation) or `s:<k> trl:<loss> [lr:… norm:…]` (training). No time, no total. */
export function parseLlmcLine(text: string): StepRecord | { error: string } {
  const m = LLMC.exec(text.trim());
  if (!m) return { error: "garbled llm.c line (expected `s:<k> tel:<loss>` or `s:<k> trl:<loss>`)" };
  const read = readFields(m[4]);
  if ("error" in read) return read;
  const step = Number(m[1]);
  if (m[2] === "trl") return { kind: "train", step, total: null };
  const loss = readLoss("tel", m[3]);
  if (typeof loss !== "number") return loss;
  return { kind: "eval", step, total: null, valLoss: loss, timeS: null };
}

/** What a log line is: a run line (read or garbled), or null for anything else (code, prose, environment). */
export function parseRunLine(text: string): StepRecord | { error: string } | null {
  if (text.startsWith("step:")) return parseStepLine(text);
  if (text.startsWith("s:") && text.charCodeAt(2) >= 48 && text.charCodeAt(2) <= 57) return parseLlmcLine(text);
  return null;
}

/** `scalars` of an evals.jsonl line, or null when it is not family → array of numbers/nulls. */
function layerScalars(v: unknown): LayerScalars | null {
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const entries = Object.entries(v as Record<string, unknown>);
  const ok = entries.every(([, xs]) => Array.isArray(xs) && xs.every((x) => x === null || (typeof x === "number" && Number.isFinite(x))));
  return ok ? (Object.fromEntries(entries) as LayerScalars) : null;
}

/** Our trainer's evals.jsonl line: `{"step","total_steps","val_loss","train_time_ms","scalars"?,…}`. */
export function parseEvalsRecord(text: string): StepRecord | { error: string } {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return { error: "garbled line: not valid JSON" };
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return { error: "garbled line: not a JSON object" };
  const o = obj as Record<string, unknown>;
  if (!Number.isInteger(o.step) || (o.step as number) < 0) return { error: "field 'step' missing or not a non-negative integer" };
  if (o.val_loss === null || o.val_loss === "NaN") return { error: `field 'val_loss' is NaN (written as ${JSON.stringify(o.val_loss)})` };
  if (typeof o.val_loss !== "number") return { error: "field 'val_loss' missing or not a number" };
  if (o.val_loss < 0) return { error: `field 'val_loss' is negative (${o.val_loss}); a cross-entropy loss cannot be` };
  if (typeof o.train_time_ms !== "number" || !(o.train_time_ms >= 0)) return { error: "field 'train_time_ms' missing or not a non-negative number" };
  const total = o.total_steps === undefined ? null : o.total_steps;
  if (total !== null && !Number.isInteger(total)) return { error: "field 'total_steps' is not an integer" };
  const scalars = o.scalars === undefined ? undefined : layerScalars(o.scalars);
  const rec: StepRecord = { kind: "eval", step: o.step as number, total: total as number | null, valLoss: o.val_loss, timeS: o.train_time_ms / 1000 };
  // Bad scalars do not touch the loss or the time: the evaluation stays, its scalars do not.
  if (scalars === null) return { ...rec, scalarsError: "field 'scalars' is not an object of per-layer number arrays; the scalars of this line are ignored" };
  return scalars ? { ...rec, scalars } : rec;
}

/**
 * One training attempt: from a run's first line until its steps start again. Impossible values
 * (time going back, a line that should be a number and is not) fail the attempt: it is left out.
 */
class Attempt {
  readonly evals: EvalPoint[] = [];
  totalSteps: number | null = null;
  lastEvalLine: number | undefined;
  failure: { line: number; message: string } | null = null;
  private maxStep = -1;
  private lastEvalStep = -1;

  constructor(readonly firstLine: number) {}

  /** A line whose step goes back (or repeats an evaluation, or plans another total) starts a new run. */
  startsAnew(r: StepRecord): boolean {
    return r.step < this.maxStep || (r.kind === "eval" && r.step <= this.lastEvalStep)
      || (r.total !== null && this.totalSteps !== null && r.total !== this.totalSteps);
  }

  take(r: StepRecord, line: number): void {
    this.maxStep = Math.max(this.maxStep, r.step);
    if (r.total !== null) this.totalSteps ??= r.total;
    if (r.kind === "train") return;
    this.lastEvalStep = r.step;
    if (this.failure) return;
    const prev = this.evals[this.evals.length - 1];
    if (prev && (prev.timeS === null) !== (r.timeS === null)) {
      return this.fail(line, "an evaluation without training time in a run whose other evaluations have one (or the reverse)");
    }
    if (prev && prev.timeS !== null && r.timeS !== null && r.timeS < prev.timeS) {
      return this.fail(line, `training time goes back: ${r.timeS} s at step ${r.step} after ${prev.timeS} s at step ${prev.step} (line ${this.lastEvalLine})`);
    }
    this.evals.push({ step: r.step, valLoss: r.valLoss, timeS: r.timeS, ...(r.scalars ? { scalars: r.scalars } : {}) });
    this.lastEvalLine = line;
  }

  fail(line: number, message: string): void {
    this.failure ??= { line, message: own(message) };
  }

  get complete(): boolean {
    const last = this.evals[this.evals.length - 1];
    return this.totalSteps === null || (last !== undefined && last.step >= this.totalSteps);
  }
}

/** A part of a file that holds one run: a whole log, or one `## <name>` section of a markdown file. */
class Section {
  readonly attempts: Attempt[] = [];
  runLines = 0;
  hasChildren = false;
  constructor(readonly name: string, readonly line: number | undefined, readonly level: number, readonly damage: string | null = null) {}

  feed(r: StepRecord, line: number): void {
    this.runLines++;
    let a = this.attempts[this.attempts.length - 1];
    if (!a || a.startsAnew(r)) this.attempts.push((a = new Attempt(line)));
    a.take(r, line);
  }

  bad(line: number, message: string): void {
    this.runLines++;
    let a = this.attempts[this.attempts.length - 1];
    if (!a) this.attempts.push((a = new Attempt(line)));
    a.fail(line, message);
  }
}

/** Environment facts a raw modded-nanogpt log states in its preamble and last lines, gathered line by line. */
class LogMeta {
  readonly meta: Record<string, unknown> = {};
  private gpus: string[] = [];
  private dateNext = false;

  line(text: string): void {
    const dateNext = this.dateNext;
    this.dateNext = false;
    const c = text.charCodeAt(0);
    let m: RegExpExecArray | null;
    if (dateNext && /^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d+ [\d:]+ \d{4}$/.test(text.trim())) this.meta.date = own(text.trim());
    if (c === 82 /* R */ && (m = /^Running Python (\S+)/.exec(text))) this.meta.python = own(m[1]);
    else if (c === 82 && (m = /^Running PyTorch (\S+)/.exec(text))) {
      this.meta.pytorch = own(m[1]);
      this.dateNext = true;
    } else if (c === 124 /* | */ && (m = /^\|\s+\d+\s+(NVIDIA.*?|Tesla.*?|AMD.*?)\s{2,}(On|Off)\s+\|/.exec(text))) this.gpus.push(own(m[1]));
    else if (c === 112 /* p */ && (m = /^peak memory allocated: (\d+) MiB reserved: (\d+) MiB/.exec(text))) {
      this.meta.peakMemoryMiB = Number(m[1]);
      this.meta.reservedMemoryMiB = Number(m[2]);
    }
  }

  result(): Record<string, unknown> {
    if (!this.gpus.length) return this.meta;
    return { ...this.meta, gpuCount: this.gpus.length, gpu: [...new Set(this.gpus)].join(", ") };
  }
}

const HEADER = /^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$/;
const BROKEN_HEADER = /^(#{2,6})[^#\s]/;

export interface RunReaderOptions extends ReadOptions {
  /** What the file holds; a markdown file without headers is read as one log. */
  format: LogFormat;
  /** The run's name when the file holds one run (a log, a run folder); markdown sections are named by their headers. */
  name: string;
  /** What a single run's `source` says (a run folder rather than its log.txt). Default: the file. */
  source?: string;
  /** Facts known before reading (a run folder's meta.json). */
  meta?: Record<string, unknown>;
  /** Planned steps when the lines do not say (evals.jsonl written before total_steps was recorded). */
  defaultTotal?: number | null;
}

/**
 * Reads one file's lines as they come and keeps only the evaluations, so a log of any size costs
 * memory in its number of evaluations, not its bytes. `finish` gives the runs and the problems.
 */
export class RunReader {
  /** Lines that look like run lines (read or not): a file with none holds no run. */
  runLines = 0;
  private readonly problems: LoadProblem[] = [];
  private readonly root: Section;
  private readonly stack: Section[] = [];
  private readonly closed: Section[] = [];
  private headers = 0;
  private readonly logMeta = new LogMeta();
  private llmc = false;

  constructor(readonly file: string, private readonly opts: RunReaderOptions) {
    this.root = new Section(opts.name, undefined, 0);
  }

  private problem(line: number | undefined, run: string | undefined, message: string, note = false): void {
    this.problems.push({ file: this.file, line, run: run === undefined ? undefined : own(run), message: own(message), ...(note ? { note: true } : {}) });
  }

  line(l: SourceLine): void {
    const { text, line } = l;
    const { format } = this.opts;
    if (format === "markdown" && text.charCodeAt(0) === 35 /* # */ && this.header(text, line)) return;
    if (format === "log") this.logMeta.line(text);
    let parsed: StepRecord | { error: string } | null;
    if (format === "jsonl") {
      if (!text.trim()) return;
      parsed = parseEvalsRecord(text);
    } else parsed = parseRunLine(text);
    if (parsed === null) return;
    this.runLines++;
    if (format === "log" && text.charCodeAt(1) === 58 /* s: */) this.llmc = true;
    const section = this.stack[this.stack.length - 1] ?? this.root;
    if (l.cut) return section.bad(line, `line longer than ${text.length} characters; not a log line`);
    if (l.unterminated && ("error" in parsed || text.startsWith("s:"))) {
      // A file cut off mid-line: its last line may hold half a number, so it is not read.
      section.runLines++;
      this.problem(line, section.name, "truncated line (the file ends mid-line); ignored");
      return;
    }
    if ("error" in parsed) return section.bad(line, parsed.error);
    if (parsed.kind === "eval" && parsed.scalarsError) this.problem(line, section.name, parsed.scalarsError);
    section.feed(parsed, line);
  }

  /** A markdown header opens a section (closing those at its level and deeper); false if the line is not one. */
  private header(text: string, line: number): boolean {
    const h = HEADER.exec(text);
    const broken = !h || !h[2] ? BROKEN_HEADER.exec(text) : null;
    if (!(h && h[2]) && !broken) return false;
    const level = (h && h[2] ? h[1] : broken![1]).length;
    while (this.stack.length && this.stack[this.stack.length - 1].level >= level) this.closed.push(this.stack.pop()!);
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.hasChildren = true;
    this.headers++;
    if (h && h[2]) {
      const name = own(parent && parent.level > 1 ? `${parent.name}/${h[2]}` : h[2]);
      this.stack.push(new Section(name, line, level));
    } else {
      const title = own(text.trim());
      this.stack.push(new Section(title, line, level, `broken header '${title}' (no space after the #s)`));
    }
    return true;
  }

  finish(): { runs: Run[]; problems: LoadProblem[]; runLines: number } {
    while (this.stack.length) this.closed.push(this.stack.pop()!);
    const runs: { line: number; run: Run }[] = [];
    if (this.root.runLines > 0 && this.headers > 0) {
      this.problem(this.root.attempts[0]?.firstLine, undefined, `${this.root.runLines} step lines before the first \`## <name>\` header; not read`);
    } else if (this.root.runLines > 0 || this.headers === 0) {
      for (const run of this.resolve(this.root)) runs.push({ line: 0, run });
    }
    for (const s of this.closed) for (const run of this.closeSection(s)) runs.push({ line: s.line ?? 0, run });
    // Document order (a parent closes after its children), and problems in line order.
    runs.sort((a, b) => a.line - b.line);
    const problems = this.problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i).map((x) => x.p);
    return { runs: runs.map((r) => r.run), problems, runLines: this.runLines };
  }

  private closeSection(s: Section): Run[] {
    if (s.damage) {
      this.problem(s.line, s.name, `${s.damage}: section damaged; its ${s.runLines} step lines are not read (never given to a neighbouring run)`);
      return [];
    }
    if (s.runLines === 0) {
      if (!s.hasChildren && s.level > 1) this.problem(s.line, s.name, "no evaluation lines (`step:… val_loss:…`) in this section; skipped");
      return [];
    }
    if (s.attempts.length > 1) {
      const restarts = s.attempts.slice(1).map((a) => a.firstLine).join(", ");
      this.problem(s.line, s.name, `section damaged: it holds ${s.attempts.length} runs (steps start again at line ${restarts}), so a header is missing or broken; left out`);
      return [];
    }
    return this.resolve(s);
  }

  /** The runs of one section: every attempt, or (by default) the last complete one, saying so. */
  private resolve(s: Section): Run[] {
    const n = s.attempts.length;
    const inMarkdown = s.line !== undefined;
    const source = (a: Attempt) => (inMarkdown ? `${this.file}:${s.line}` : n > 1 ? `${this.file}:${a.firstLine}` : (this.opts.source ?? this.file));
    const nameOf = (i: number) => (n > 1 ? `${s.name}#${i + 1}` : s.name);
    const baseMeta = inMarkdown ? { format: "markdown", file: this.file, line: s.line }
      : this.opts.format === "jsonl" ? { ...this.opts.meta, format: "evals.jsonl" }
      : { format: this.llmc ? "llm.c-log" : this.opts.format === "markdown" ? "markdown" : "modded-nanogpt-log", ...this.logMeta.result(), ...this.opts.meta };
    if (n === 0) {
      this.problem(s.line, s.name, "no evaluation lines (`step:… val_loss:…`) in this run; skipped");
      return [];
    }
    const runOf = (a: Attempt, i: number): Run => {
      if (a.totalSteps === null && this.opts.defaultTotal != null) a.totalSteps = this.opts.defaultTotal;
      const meta: Record<string, unknown> = { ...baseMeta, complete: a.complete };
      if (n > 1) Object.assign(meta, { attempt: i + 1, attempts: n, line: a.firstLine });
      return { name: nameOf(i), source: source(a), evals: a.evals, totalSteps: a.totalSteps, meta };
    };
    for (const a of s.attempts) if (a.totalSteps === null && this.opts.defaultTotal != null) a.totalSteps = this.opts.defaultTotal;
    const status = (a: Attempt) => (a.failure ? "failed" : a.evals.length === 0 ? "empty" : a.complete ? "complete" : "incomplete");
    const incompleteWhat = (a: Attempt) => `incomplete (truncated?): last evaluation is step ${a.evals[a.evals.length - 1].step} of ${a.totalSteps}`;
    // Failures are errors wherever they are: the attempt is left out.
    s.attempts.forEach((a, i) => {
      if (a.failure) this.problem(a.failure.line, nameOf(i), `${a.failure.message}; run left out`);
    });
    if (n === 1 || this.opts.attempts === "all") {
      const runs: Run[] = [];
      s.attempts.forEach((a, i) => {
        const st = status(a);
        if (st === "failed") return;
        if (st === "empty") return this.problem(a.firstLine, nameOf(i), "no evaluation lines (`step:… val_loss:…`) in this run; skipped");
        if (st === "incomplete") {
          if (!this.opts.keepIncomplete) return this.problem(a.lastEvalLine, nameOf(i), `${incompleteWhat(a)}; skipped (keepIncomplete / --partial keeps it)`);
          this.problem(a.lastEvalLine, nameOf(i), `${incompleteWhat(a)}; kept, its last values are not final`);
        }
        runs.push(runOf(a, i));
      });
      return runs;
    }
    let chosen = -1;
    for (let i = n - 1; i >= 0 && chosen < 0; i--) if (status(s.attempts[i]) === "complete") chosen = i;
    const fallback = chosen < 0 && this.opts.keepIncomplete;
    if (fallback) for (let i = n - 1; i >= 0 && chosen < 0; i--) if (status(s.attempts[i]) === "incomplete") chosen = i;
    const list = s.attempts.map((a, i) => {
      const st = status(a);
      const detail = st === "incomplete" ? ` at step ${a.evals[a.evals.length - 1].step} of ${a.totalSteps}` : "";
      return `#${i + 1} (line ${a.firstLine}) ${st}${detail}`;
    }).join(", ");
    const how = "attempts: \"all\" (--attempts all) reads each";
    if (chosen < 0) {
      this.problem(s.attempts[0].firstLine, s.name, `${n} runs in this file (steps start again): ${list}; none is complete, so none is read (${how}; keepIncomplete / --partial takes the last)`);
      return [];
    }
    const why = fallback ? "the last one, incomplete: its last values are not final" : "the last complete one";
    this.problem(s.attempts[chosen].firstLine, nameOf(chosen), `${n} runs in this file (steps start again): ${list}; using ${nameOf(chosen)}, ${why} (${how})`, true);
    return [runOf(s.attempts[chosen], chosen)];
  }
}

/** Reads runs from text already in memory (a notebook cell, a test), with the same rules as a file. */
export function parseRunText(text: string, file: string, opts: RunReaderOptions): { runs: Run[]; problems: LoadProblem[]; runLines: number } {
  const reader = new RunReader(file, opts);
  for (const l of textLines(text)) reader.line(l);
  return reader.finish();
}

/** A raw log in memory as one run: the run the default rules pick (the last complete attempt), or null; problems appended. */
export function parseRawLog(text: string, file: string, name: string, problems: LoadProblem[], keepIncomplete = false): Run | null {
  const result = parseRunText(text, file, { format: "log", name, keepIncomplete });
  problems.push(...result.problems.filter((p) => !p.note));
  return result.runs[result.runs.length - 1] ?? null;
}
