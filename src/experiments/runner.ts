// A sweep: every (variant, seed) of a section that is not finished yet, trained in child processes
// (`valemb train`), several at once when the cores allow. Children keep a crash from taking down
// the caller (a notebook kernel), and each run resumes from its own checkpoint. Each child holds an
// IPC channel to the sweep: when the sweep stops or dies (even by kill -9) the channel closes and the
// child checkpoints after its current step and exits, so no trainer outlives its sweep.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeHolder } from "../data";
import { runFolderOwner } from "../train";
import { SWEEP_LOCK_FILE, acquireLock } from "./lock";
import type { SectionSpec, Variant } from "./sections";

/** What defines one run's result; the trainer's identity hash covers the same fields plus the code version. */
export interface RunRequest {
  section: string;
  variant: Variant;
  seed: number;
  preset: string;
  steps?: number;
  dir: string;
}

/** "busy": a live trainer (another sweep's child, a `valemb train`) owns the folder; it is left alone. */
export type RunState = "done" | "todo" | "resume" | "stale" | "copy" | "busy";

export interface PlannedRun extends RunRequest { state: RunState; why: string; copyFrom?: string }

export interface SweepOptions {
  spec: SectionSpec;
  variants: Variant[];
  preset: string;
  seeds: number;
  steps?: number;
  /** Folder holding `<section>/<variant>/seed-<n>/`. */
  root: string;
  jobs: number;
  /** wasm threads per child; default: cores / jobs. */
  threads?: number;
  backend?: string;
  /** Move finished runs whose identity no longer matches aside (to `seed-N.stale-<time>`) and rerun them. */
  replaceStale?: boolean;
  onEvent?: (e: SweepEvent) => void;
  /** When aborted: start nothing more; every child checkpoints after its current step and exits. */
  signal?: AbortSignal;
}

export type SweepEvent =
  | { kind: "plan"; runs: PlannedRun[] }
  | { kind: "start"; run: RunRequest }
  | { kind: "progress"; run: RunRequest; step: number; totalSteps: number; trainLoss?: number; valLoss?: number; etaS?: number }
  | { kind: "finish"; run: RunRequest; seconds: number }
  | { kind: "fail"; run: RunRequest; message: string }
  | { kind: "stale"; run: PlannedRun; movedTo: string };

export interface SweepResult {
  done: PlannedRun[];
  ran: RunRequest[];
  failed: { run: RunRequest; message: string }[];
  /** Runs a stop request interrupted (each checkpointed at `step`, null when unknown); empty unless stopped. */
  stopped: { run: RunRequest; step: number | null }[];
  seconds: number;
}

/** Default root for a preset: `data/runs` holds the committed tiny results; other presets stay apart. */
export function defaultRoot(preset: string, repoRoot = path.resolve(__dirname, "..", "..")): string {
  return path.join(repoRoot, preset === "tiny" ? "data/runs" : `data/runs-${preset}`);
}

export function runDir(root: string, section: string, variant: string, seed: number): string {
  return path.join(root, section, variant, `seed-${seed}`);
}

interface MetaOnDisk { identity?: string; finished?: string | null; preset?: string; layout?: string; seed?: number; steps?: number; backend?: string }

/** A run folder's meta.json, or null when it is missing or unreadable. */
export function readRunMeta(dir: string): MetaOnDisk | null {
  const file = path.join(dir, "meta.json");
  if (!fs.existsSync(file)) return null;
  try { return JSON.parse(fs.readFileSync(file, "utf8")) as MetaOnDisk; } catch { return null; }
}

/**
 * Decide what each (variant, seed) needs. `identityOf` gives the identity the trainer would write for
 * a request (config + options + seed + code version), so a changed config is never silently reused.
 */
export function planSweep(opts: SweepOptions, identityOf: (r: RunRequest) => string): PlannedRun[] {
  const plans: PlannedRun[] = [];
  // Seed-major order: a sweep cut short still has every variant at its first seeds.
  for (let seed = 0; seed < opts.seeds; seed++) {
    for (const variant of opts.variants) {
      const req: RunRequest = { section: opts.spec.name, variant, seed, preset: opts.preset, steps: opts.steps, dir: runDir(opts.root, opts.spec.name, variant.name, seed) };
      const owner = runFolderOwner(req.dir);
      if (owner) { plans.push({ ...req, state: "busy", why: `owned by a live trainer (${describeHolder(owner.holder)})` }); continue; }
      const meta = readRunMeta(req.dir);
      const want = identityOf(req);
      const twin = meta ? null : finishedTwin(opts.root, req, want);
      if (twin) plans.push({ ...req, state: "copy", why: `same run already finished in ${twin}`, copyFrom: twin });
      else if (!meta) plans.push({ ...req, state: "todo", why: "not started" });
      else if (meta.identity !== want) plans.push({ ...req, state: "stale", why: `identity ${String(meta.identity).slice(0, 12)} differs from ${want.slice(0, 12)} (config, code or backend changed; it ran on ${meta.backend ?? "?"})` });
      else if (meta.finished) plans.push({ ...req, state: "done", why: `finished ${meta.finished}` });
      else plans.push({ ...req, state: "resume", why: "interrupted: resumes from its last checkpoint" });
    }
  }
  return plans;
}

/** A finished run with the same identity in another section (the baseline appears in all four): training it again would give the same numbers. */
function finishedTwin(root: string, req: RunRequest, identity: string): string | null {
  if (!fs.existsSync(root)) return null;
  for (const section of fs.readdirSync(root).sort()) {
    if (section === req.section) continue;
    const dir = runDir(root, section, req.variant.name, req.seed);
    const meta = readRunMeta(dir);
    if (meta && meta.finished && meta.identity === identity) return dir;
  }
  return null;
}

/** Where a copy is assembled before one rename puts it in place: hidden, so no reader ever lists it. */
function copyingDir(to: string, pid = process.pid): string {
  return path.join(path.dirname(to), `.${path.basename(to)}.copying-${pid}`);
}

/** A name for a folder moved aside, which the analysis ignores (like --replace-stale's). */
function asideName(dir: string): string {
  return `${dir}.stale-${new Date().toISOString().replace(/[:.]/g, "-")}`;
}

/**
 * Copy a finished run's results (never its checkpoints) and record where they came from. The copy is
 * built in a hidden folder and renamed into place; whatever held the target (an unreadable or partial
 * run) is first moved aside, so a kill at any moment leaves the old folder or the whole copy.
 */
export function copyRun(from: string, to: string): void {
  const tmp = copyingDir(to);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const name of ["log.txt", "evals.jsonl", "meta.json"]) {
    if (fs.existsSync(path.join(from, name))) fs.copyFileSync(path.join(from, name), path.join(tmp, name));
  }
  const meta = JSON.parse(fs.readFileSync(path.join(tmp, "meta.json"), "utf8")) as Record<string, unknown>;
  meta.copiedFrom = path.relative(path.dirname(path.dirname(path.dirname(to))), from);
  fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  if (fs.existsSync(to)) fs.renameSync(to, asideName(to));
  fs.renameSync(tmp, to);
}

/** Half-built copies left by killed sweeps (`.seed-N.copying-<pid>`, and the older visible `seed-N.copying-<pid>`). */
export function removeCopyLeftovers(sectionDir: string): string[] {
  const gone: string[] = [];
  if (!fs.existsSync(sectionDir)) return gone;
  for (const v of fs.readdirSync(sectionDir, { withFileTypes: true })) {
    if (!v.isDirectory() || v.name.startsWith(".")) continue;
    const vdir = path.join(sectionDir, v.name);
    for (const n of fs.readdirSync(vdir)) {
      if (/^\.?seed-\d+\.copying-\d+$/.test(n)) { fs.rmSync(path.join(vdir, n), { recursive: true, force: true }); gone.push(path.join(vdir, n)); }
    }
  }
  return gone;
}

const BIN = path.join(__dirname, "..", "..", "bin", "valemb.js");

function trainArgs(r: RunRequest, threads: number, backend?: string): string[] {
  const args = [BIN, "train", "--preset", r.preset, "--layout", r.variant.layout, "--seed", String(r.seed), "--out", r.dir, "--threads", String(threads), "--json-progress"];
  if (r.steps !== undefined) args.push("--steps", String(r.steps));
  if (backend) args.push("--backend", backend);
  return args;
}

interface ChildOutcome { error: string | null; stoppedAt: number | null }

/** Train one run in a child process (tracked in `children` while it runs); resolves with its stderr tail on failure. */
function trainInChild(r: RunRequest, threads: number, backend: string | undefined, onEvent: (e: SweepEvent) => void, children: Set<ChildProcess>): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    // The IPC channel is the child's lifeline: it closes when this process ends, however it ends.
    const child = spawn(process.execPath, trainArgs(r, threads, backend), { stdio: ["ignore", "ignore", "pipe", "ipc"], env: { ...process.env, VALEMB_THREADS: String(threads) } });
    children.add(child);
    let stoppedAt: number | null = null;
    const tail: string[] = [];
    let buf = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) {
          try {
            const p = JSON.parse(line) as { step: number; totalSteps: number; trainLoss?: number; valLoss?: number; etaS?: number };
            if (typeof p.step === "number") { onEvent({ kind: "progress", run: r, step: p.step, totalSteps: p.totalSteps, trainLoss: p.trainLoss, valLoss: p.valLoss, etaS: p.etaS }); continue; }
          } catch { /* not a progress line */ }
        }
        const stopped = /^stopped at step (\d+);/.exec(line);
        if (stopped) stoppedAt = Number(stopped[1]);
        if (line) { tail.push(line); if (tail.length > 30) tail.shift(); }
      }
    });
    child.on("error", (e) => { children.delete(child); resolve({ error: `could not start the trainer: ${e.message}`, stoppedAt }); });
    // Not 'close': after this side disconnects the channel, Node never emits it. Exit + stderr closed is the same moment.
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let stderrClosed = false;
    const settle = () => {
      if (!exit || !stderrClosed) return;
      children.delete(child);
      if (exit.code === 0) resolve({ error: null, stoppedAt });
      else resolve({ error: `exit ${exit.code ?? exit.signal}${tail.length ? `:\n  ${tail.join("\n  ")}` : ""}`, stoppedAt });
    };
    child.on("exit", (code, signal) => { exit = { code, signal }; settle(); });
    child.stderr!.on("close", () => { stderrClosed = true; settle(); });
  });
}

/** The runs a plan still has to train: new, interrupted, and stale ones (already moved aside). */
export function toTrain(plans: PlannedRun[]): PlannedRun[] {
  return plans.filter((p) => p.state === "todo" || p.state === "resume" || p.state === "stale");
}

/** Refuse a plan with stale runs unless they may be replaced: a changed config is never silently reused. */
export function checkStale(plans: PlannedRun[], replaceStale: boolean | undefined): void {
  const stale = plans.filter((p) => p.state === "stale");
  if (stale.length && !replaceStale) {
    throw new Error(
      `${stale.length} finished run(s) no longer match their config or code version:\n` +
      stale.map((p) => `  ${p.dir}: ${p.why}`).join("\n") +
      `\nrerun with --replace-stale to move them aside (kept as seed-N.stale-<time>) and train again, or use another --root` +
      " (runs trained on another backend: --backend <that backend> reuses them)",
    );
  }
}

/**
 * Plan a sweep and do what needs no training: move stale runs aside (with `replaceStale`) and copy
 * finished twins. Local sweeps and Slurm submissions both start here, so they agree on what is left.
 */
export function prepareSweep(opts: SweepOptions, identityOf: (r: RunRequest) => string, emit: (e: SweepEvent) => void = () => {}): PlannedRun[] {
  const plans = planSweep(opts, identityOf);
  emit({ kind: "plan", runs: plans });
  checkStale(plans, opts.replaceStale);
  for (const p of plans.filter((q) => q.state === "stale")) {
    const movedTo = asideName(p.dir);
    fs.renameSync(p.dir, movedTo);
    emit({ kind: "stale", run: p, movedTo });
  }
  for (const p of plans.filter((q) => q.state === "copy")) {
    copyRun(p.copyFrom!, p.dir);
    emit({ kind: "finish", run: p, seconds: 0 });
  }
  return plans;
}

/** Run every unfinished (variant, seed) of the sweep, `jobs` at a time, under a lock on the section folder. */
export async function runSweep(opts: SweepOptions, identityOf: (r: RunRequest) => string): Promise<SweepResult> {
  const emit = opts.onEvent ?? (() => {});
  const t0 = Date.now();
  const sectionDir = path.join(opts.root, opts.spec.name);
  const release = acquireLock(path.join(sectionDir, SWEEP_LOCK_FILE), `valemb run ${opts.spec.name}`);
  const children = new Set<ChildProcess>();
  // A stop request: every child checkpoints after its current step and exits (closing its channel asks it to).
  const stopChildren = () => { for (const c of children) if (c.connected) c.disconnect(); };
  opts.signal?.addEventListener("abort", stopChildren);
  try {
    removeCopyLeftovers(sectionDir); // only a dead sweep of this section can have left them: we hold its lock
    const plans = prepareSweep(opts, identityOf, emit);
    const failed: { run: RunRequest; message: string }[] = [];
    for (const p of plans.filter((q) => q.state === "busy")) {
      failed.push({ run: p, message: p.why });
      emit({ kind: "fail", run: p, message: p.why });
    }
    const queue: RunRequest[] = toTrain(plans);
    const threads = opts.threads ?? Math.max(1, Math.floor(os.cpus().length / Math.max(1, opts.jobs)));
    const ran: RunRequest[] = [];
    const stopped: { run: RunRequest; step: number | null }[] = [];
    const worker = async () => {
      for (let r = queue.shift(); r && !opts.signal?.aborted; r = queue.shift()) {
        const owner = runFolderOwner(r.dir); // taken since the plan (hours ago, in a long queue)?
        if (owner) {
          const message = `owned by a live trainer (${describeHolder(owner.holder)})`;
          failed.push({ run: r, message });
          emit({ kind: "fail", run: r, message });
          continue;
        }
        const started = Date.now();
        emit({ kind: "start", run: r });
        const { error, stoppedAt } = await trainInChild(r, threads, opts.backend, emit, children);
        if (error && opts.signal?.aborted) stopped.push({ run: r, step: stoppedAt });
        else if (error) { failed.push({ run: r, message: error }); emit({ kind: "fail", run: r, message: error }); }
        else { ran.push(r); emit({ kind: "finish", run: r, seconds: (Date.now() - started) / 1000 }); }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
    return { done: plans.filter((p) => p.state === "done" || p.state === "copy"), ran, failed, stopped, seconds: (Date.now() - t0) / 1000 };
  } finally {
    opts.signal?.removeEventListener("abort", stopChildren);
    release();
  }
}
