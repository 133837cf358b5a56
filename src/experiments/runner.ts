// A sweep: every (variant, seed) of a section that is not finished yet, trained in child processes
// (`valemb train`), several at once when the cores allow. Children keep a crash from taking down
// the caller (a notebook kernel), and each run resumes from its own checkpoint.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock } from "./lock";
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

export type RunState = "done" | "todo" | "resume" | "stale" | "copy";

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
}

export type SweepEvent =
  | { kind: "plan"; runs: PlannedRun[] }
  | { kind: "start"; run: RunRequest }
  | { kind: "progress"; run: RunRequest; step: number; totalSteps: number; trainLoss?: number; valLoss?: number; etaS?: number }
  | { kind: "finish"; run: RunRequest; seconds: number }
  | { kind: "fail"; run: RunRequest; message: string }
  | { kind: "stale"; run: PlannedRun; movedTo: string };

export interface SweepResult { done: PlannedRun[]; ran: RunRequest[]; failed: { run: RunRequest; message: string }[]; seconds: number }

/** Default root for a preset: `data/runs` holds the committed tiny results; other presets stay apart. */
export function defaultRoot(preset: string, repoRoot = path.resolve(__dirname, "..", "..")): string {
  return path.join(repoRoot, preset === "tiny" ? "data/runs" : `data/runs-${preset}`);
}

export function runDir(root: string, section: string, variant: string, seed: number): string {
  return path.join(root, section, variant, `seed-${seed}`);
}

interface MetaOnDisk { identity?: string; finished?: string | null; preset?: string; layout?: string; seed?: number; steps?: number }

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
      const meta = readRunMeta(req.dir);
      const want = identityOf(req);
      const twin = meta ? null : finishedTwin(opts.root, req, want);
      if (twin) plans.push({ ...req, state: "copy", why: `same run already finished in ${twin}`, copyFrom: twin });
      else if (!meta) plans.push({ ...req, state: "todo", why: "not started" });
      else if (meta.identity !== want) plans.push({ ...req, state: "stale", why: `identity ${String(meta.identity).slice(0, 12)} differs from ${want.slice(0, 12)} (config or code changed)` });
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

/** Copy a finished run's results (never its checkpoints) and record where they came from. */
function copyRun(from: string, to: string): void {
  const tmp = `${to}.copying-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const name of ["log.txt", "evals.jsonl", "meta.json"]) {
    if (fs.existsSync(path.join(from, name))) fs.copyFileSync(path.join(from, name), path.join(tmp, name));
  }
  const meta = JSON.parse(fs.readFileSync(path.join(tmp, "meta.json"), "utf8")) as Record<string, unknown>;
  meta.copiedFrom = path.relative(path.dirname(path.dirname(path.dirname(to))), from);
  fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.renameSync(tmp, to);
}

const BIN = path.join(__dirname, "..", "..", "bin", "valemb.js");

function trainArgs(r: RunRequest, threads: number, backend?: string): string[] {
  const args = [BIN, "train", "--preset", r.preset, "--layout", r.variant.layout, "--seed", String(r.seed), "--out", r.dir, "--threads", String(threads), "--json-progress"];
  if (r.steps !== undefined) args.push("--steps", String(r.steps));
  if (backend) args.push("--backend", backend);
  return args;
}

/** Train one run in a child process; resolves with its stderr tail on failure. */
function trainInChild(r: RunRequest, threads: number, backend: string | undefined, onEvent: (e: SweepEvent) => void): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, trainArgs(r, threads, backend), { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, VALEMB_THREADS: String(threads) } });
    const tail: string[] = [];
    let buf = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
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
        if (line) { tail.push(line); if (tail.length > 30) tail.shift(); }
      }
    });
    child.on("error", (e) => resolve(`could not start the trainer: ${e.message}`));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(null);
      else resolve(`exit ${code ?? signal}${tail.length ? `:\n  ${tail.join("\n  ")}` : ""}`);
    });
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
      `\nrerun with --replace-stale to move them aside (kept as seed-N.stale-<time>) and train again, or use another --root`,
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
    const movedTo = `${p.dir}.stale-${new Date().toISOString().replace(/[:.]/g, "-")}`;
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
  const release = acquireLock(path.join(sectionDir, ".sweep.lock"), `valemb run ${opts.spec.name}`);
  const onSignal = () => { release(); process.exit(130); };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const plans = prepareSweep(opts, identityOf, emit);
    const queue: RunRequest[] = toTrain(plans);
    const threads = opts.threads ?? Math.max(1, Math.floor(os.cpus().length / Math.max(1, opts.jobs)));
    const ran: RunRequest[] = [];
    const failed: { run: RunRequest; message: string }[] = [];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const started = Date.now();
        emit({ kind: "start", run: r });
        const err = await trainInChild(r, threads, opts.backend, emit);
        if (err) { failed.push({ run: r, message: err }); emit({ kind: "fail", run: r, message: err }); }
        else { ran.push(r); emit({ kind: "finish", run: r, seconds: (Date.now() - started) / 1000 }); }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
    return { done: plans.filter((p) => p.state === "done" || p.state === "copy"), ran, failed, seconds: (Date.now() - t0) / 1000 };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    release();
  }
}
