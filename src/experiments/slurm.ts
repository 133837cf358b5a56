// A section's unfinished runs as one Slurm job array: one task per (variant, seed), each running
// `valemb train` into the same run folder a local sweep would use, so results do not depend on
// where a run trained. Submissions are recorded in <section>/.slurm/ so `--status` can find them.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { acquireLock } from "./lock";
import { checkStale, planSweep, prepareSweep, readRunMeta, toTrain, type PlannedRun, type RunRequest, type SweepOptions } from "./runner";

/** What a cluster needs to run a task: from a small JSON file (`--cluster`), overridden by flags. */
export interface ClusterSettings {
  partition?: string;
  gpusPerTask?: number;
  /** CPUs per task; also the trainer's --threads (default 1). */
  cpusPerTask?: number;
  /** Wall-clock limit per task, [D-]HH:MM:SS. */
  time?: string;
  /** At most this many tasks of the array at once (`--array=…%K`). */
  maxParallel?: number;
  /** `module load` these, in order, before training. */
  modules?: string[];
  /** Variables exported before training. */
  env?: Record<string, string>;
  /** Shell lines run before training (after the modules), e.g. activating an environment. */
  setup?: string[];
  /** This checkout as the compute nodes see it (default: its path here). */
  projectDir?: string;
  /** The Node.js binary on the nodes (default: `node` on the PATH after the modules load). */
  node?: string;
  /** Backend for the trainer; decides the runs' identity, so it is fixed at submission (default: what `valemb doctor` picks here). */
  backend?: string;
  /** More `#SBATCH` options, e.g. "--account=abc". */
  sbatch?: string[];
}

const KEYS: Record<keyof ClusterSettings, "string" | "int" | "strings" | "env"> = {
  partition: "string", gpusPerTask: "int", cpusPerTask: "int", time: "string", maxParallel: "int", modules: "strings",
  env: "env", setup: "strings", projectDir: "string", node: "string", backend: "string", sbatch: "strings",
};

const TIME = /^(\d+-)?\d{1,2}:\d{2}:\d{2}$/;

/** Check settings from a file or flags; `where` names the source in every error. */
export function checkClusterSettings(raw: unknown, where: string): ClusterSettings {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${where}: expected a JSON object of cluster settings`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const kind = KEYS[key as keyof ClusterSettings];
    if (!kind) throw new Error(`${where}: unknown setting "${key}" (known: ${Object.keys(KEYS).join(", ")})`);
    if (value === undefined) continue;
    const bad = (what: string) => new Error(`${where}: "${key}" must be ${what}, got ${JSON.stringify(value)}`);
    if (kind === "string" && (typeof value !== "string" || value === "")) throw bad("a non-empty string");
    if (kind === "int" && !(Number.isInteger(value) && (value as number) >= (key === "gpusPerTask" ? 0 : 1))) throw bad(key === "gpusPerTask" ? "an integer ≥ 0" : "an integer ≥ 1");
    if (kind === "strings" && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) throw bad("a list of strings");
    if (kind === "env" && !(value && typeof value === "object" && !Array.isArray(value) && Object.entries(value).every(([k, v]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && typeof v === "string"))) {
      throw bad("an object of NAME: \"value\" strings");
    }
    out[key] = value;
  }
  if (out.time !== undefined && !TIME.test(out.time as string)) throw new Error(`${where}: "time" must be HH:MM:SS or D-HH:MM:SS, got "${out.time}"`);
  return out as ClusterSettings;
}

/** The settings in a cluster file (JSON), checked. */
export function readClusterSettings(file: string): ClusterSettings {
  let text: string;
  try { text = fs.readFileSync(file, "utf8"); } catch (e) { throw new Error(`cluster settings ${file}: ${(e as Error).message}`); }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new Error(`cluster settings ${file}: not JSON (${(e as Error).message})`); }
  return checkClusterSettings(raw, `cluster settings ${file}`);
}

/** Single-quoted for bash, whatever the string holds. */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ArrayScript {
  /** The sbatch script. */
  text: string;
  /** The runs, in array-index order. */
  runs: RunRequest[];
}

const REPO = path.resolve(__dirname, "..", "..");

/** The sbatch job-array script training `runs` (one task each) with `backend`, as `valemb train` children would locally. */
export function arrayScript(section: string, runs: RunRequest[], backend: string, s: ClusterSettings, slurmDir: string): ArrayScript {
  if (runs.length === 0) throw new Error("no runs to put in a job array");
  const cpus = s.cpusPerTask ?? 1;
  const head = [
    "#!/bin/bash",
    `#SBATCH --job-name=valemb-${section}`,
    `#SBATCH --array=0-${runs.length - 1}${s.maxParallel ? `%${s.maxParallel}` : ""}`,
    // a preempted or requeued task runs again and resumes from its run's checkpoint
    "#SBATCH --requeue",
    "#SBATCH --open-mode=append",
    // only what fails before the task reaches its run folder lands here (Slurm fails a task whose output folder is missing)
    `#SBATCH --output=${slurmDir}/task-%A_%a.out`,
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(s.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.gpusPerTask ? [`#SBATCH --gpus-per-task=${s.gpusPerTask}`] : []),
    ...(s.time ? [`#SBATCH --time=${s.time}`] : []),
    ...(s.sbatch ?? []).map((o) => `#SBATCH ${o}`),
  ];
  const train = ["train", "--preset", runs[0].preset, "--backend", backend, "--threads", String(cpus), "--json-progress"];
  if (runs[0].steps !== undefined) train.push("--steps", String(runs[0].steps));
  const body = [
    `# valemb run ${section} --slurm: ${runs.length} run(s); valemb train checks each folder's identity, skips a finished run and resumes an interrupted one`,
    "set -euo pipefail",
    `RUN_DIRS=(${runs.map((r) => sh(r.dir)).join(" ")})`,
    `LAYOUTS=(${runs.map((r) => sh(r.variant.layout)).join(" ")})`,
    `SEEDS=(${runs.map((r) => r.seed).join(" ")})`,
    "i=$SLURM_ARRAY_TASK_ID",
    'out=${RUN_DIRS[$i]}',
    'mkdir -p "$out"',
    'exec >>"$out/slurm-${SLURM_ARRAY_JOB_ID}_${i}.out" 2>&1',
    `fallback=${sh(slurmDir)}/task-\${SLURM_ARRAY_JOB_ID}_\${i}.out`,
    '[ -s "$fallback" ] || rm -f "$fallback"',
    'echo "valemb: task ${SLURM_ARRAY_JOB_ID}_${i} on $(hostname), start $(( ${SLURM_RESTART_COUNT:-0} + 1 )), $(date -u +%Y-%m-%dT%H:%M:%SZ)"',
    ...(s.modules ?? []).map((m) => `module load ${sh(m)}`),
    ...Object.entries(s.env ?? {}).map(([k, v]) => `export ${k}=${sh(v)}`),
    ...(s.setup ?? []),
    `cd ${sh(s.projectDir ?? REPO)}`,
    `exec ${sh(s.node ?? "node")} bin/valemb.js ${train.map(sh).join(" ")} --layout "\${LAYOUTS[$i]}" --seed "\${SEEDS[$i]}" --out "$out"`,
  ];
  return { text: [...head, "", ...body, ""].join("\n"), runs };
}

/** One `sbatch` of a section: its job id and which run each array index trains. */
interface Submission { job: string; submitted: string; script: string; runs: string[] }

const ledgerFile = (root: string, section: string) => path.join(root, section, ".slurm", "submissions.jsonl");

function readLedger(root: string, section: string): Submission[] {
  const file = ledgerFile(root, section);
  if (!fs.existsSync(file)) return [];
  // a line cut short by a crash is skipped: it names no job that could still be running
  return fs.readFileSync(file, "utf8").split("\n").flatMap((l) => { try { return l.trim() ? [JSON.parse(l) as Submission] : []; } catch { return []; } });
}

/** A task as Slurm reports it (squeue, or sacct where accounting is on). */
export interface TaskState { state: string; reason?: string }

/** States of array tasks `<job>_<index>` from squeue and sacct; a command that is missing or fails adds nothing. */
function slurmStates(jobs: string[]): Map<string, TaskState> {
  const states = new Map<string, TaskState>();
  if (jobs.length === 0) return states;
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
    return r.status === 0 ? r.stdout : null;
  };
  // sacct first: squeue's view of a queued or running task is the fresher one and overwrites it
  const acct = run("sacct", ["-n", "-P", "-X", "-j", jobs.join(","), "-o", "JobID,State"]);
  for (const line of (acct ?? "").split("\n")) {
    const [id, state] = line.trim().split("|");
    if (id && state && /_\d+$/.test(id)) states.set(id, { state: state.split(" ")[0] });
  }
  for (const job of jobs) {
    // one job at a time: squeue refuses the whole list when one id is no longer known
    const q = run("squeue", ["-h", "-r", "-j", job, "-o", "%i|%T|%r"]);
    for (const line of (q ?? "").split("\n")) {
      const [id, state, reason] = line.trim().split("|");
      if (id && state) states.set(id, { state, reason: reason && reason !== "None" ? reason : undefined });
    }
  }
  return states;
}

const ACTIVE = /^(PENDING|REQUEUED|REQUEUE_HOLD|REQUEUE_FED|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|RESIZING|SIGNALING|STAGE_OUT)$/;

export interface RunStatus {
  run: PlannedRun;
  state: "done" | "running" | "queued" | "failed" | "not submitted";
  /** `<job>_<index>` of the latest submission that holds this run. */
  task?: string;
  /** Slurm's word for the task (RUNNING, PENDING, CANCELLED, …) and, when queued, why. */
  slurm?: TaskState;
  /** Last training step reported by the task, and the run's length. */
  step?: number;
  totalSteps?: number;
  /** Last lines of the task's output that are not progress records (a failure's error). */
  tail?: string[];
}

/** The last progress record and the last other lines of a task's output file in the run folder. */
function readTaskOutput(file: string): { step?: number; totalSteps?: number; tail: string[] } {
  if (!fs.existsSync(file)) return { tail: [] };
  let step: number | undefined, totalSteps: number | undefined;
  const tail: string[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith("{")) {
      try {
        const p = JSON.parse(t) as { step?: number; totalSteps?: number };
        if (typeof p.step === "number") { step = p.step; totalSteps = p.totalSteps; continue; }
      } catch { /* not a progress record */ }
    }
    tail.push(t);
    if (tail.length > 8) tail.shift();
  }
  return { step, totalSteps, tail };
}

/** Every run's state: finished from its meta.json, otherwise from its latest submission's task in squeue/sacct. */
export function sectionSlurmStatus(opts: SweepOptions, identityOf: (r: RunRequest) => string): RunStatus[] {
  const plans = planSweep(opts, identityOf);
  const ledger = readLedger(opts.root, opts.spec.name);
  const latest = new Map<string, string>();
  for (const sub of ledger) sub.runs.forEach((dir, i) => latest.set(path.resolve(opts.root, dir), `${sub.job}_${i}`));
  const states = slurmStates([...new Set(ledger.map((s) => s.job))]);
  return plans.map((run): RunStatus => {
    if (run.state === "done" || run.state === "copy") return { run, state: "done" };
    const task = latest.get(path.resolve(run.dir));
    if (!task) return { run, state: "not submitted" };
    const slurm = states.get(task);
    const out = readTaskOutput(path.join(run.dir, `slurm-${task}.out`));
    if (slurm && /^(RUNNING|COMPLETING|SIGNALING|STAGE_OUT)$/.test(slurm.state)) return { run, state: "running", task, slurm, step: out.step, totalSteps: out.totalSteps };
    if (slurm && ACTIVE.test(slurm.state)) return { run, state: "queued", task, slurm, step: out.step, totalSteps: out.totalSteps };
    // Gone from the queue without finishing its run: failed, cancelled, or never started.
    return { run, state: "failed", task, slurm, step: out.step, totalSteps: out.totalSteps, tail: out.tail.length ? out.tail : [`no output in ${path.join(run.dir, `slurm-${task}.out`)}`] };
  });
}

export interface SubmitOptions extends SweepOptions {
  backend: string;
  cluster: ClusterSettings;
  /** Print the script only: nothing is moved, copied or submitted. */
  dryRun?: boolean;
}

export interface SubmitResult {
  /** The array script, or null when nothing is left to train. */
  script: ArrayScript | null;
  plans: PlannedRun[];
  /** Unfinished runs left out because a task of an earlier submission is still queued or running them. */
  active: RunStatus[];
  job?: string;
  scriptFile?: string;
}

/**
 * Plan the section like a local sweep, then submit one array for the runs still to train (none
 * that an earlier submission still has queued or running). Under the section's sweep lock, so a
 * local sweep never starts on the same plan at the same moment.
 */
export function submitSlurm(given: SubmitOptions, identityOf: (r: RunRequest) => string): SubmitResult {
  // the nodes know nothing of this shell's working folder
  const opts = { ...given, root: path.resolve(given.root) };
  const sectionDir = path.join(opts.root, opts.spec.name);
  const release = opts.dryRun ? () => {} : acquireLock(path.join(sectionDir, ".sweep.lock"), `valemb run ${opts.spec.name} --slurm`);
  try {
    const status = sectionSlurmStatus(opts, identityOf);
    const active = status.filter((s) => s.state === "running" || s.state === "queued");
    const busy = new Set(active.map((s) => path.resolve(s.run.dir)));
    let plans: PlannedRun[];
    if (opts.dryRun) { plans = planSweep(opts, identityOf); checkStale(plans, opts.replaceStale); }
    else plans = prepareSweep(opts, identityOf);
    const runs = toTrain(plans).filter((p) => !busy.has(path.resolve(p.dir)));
    if (runs.length === 0) return { script: null, plans, active };
    const slurmDir = path.join(sectionDir, ".slurm");
    const script = arrayScript(opts.spec.name, runs, opts.backend, opts.cluster, slurmDir);
    if (opts.dryRun) return { script, plans, active };

    fs.mkdirSync(slurmDir, { recursive: true });
    const scriptFile = path.join(slurmDir, `array-${new Date().toISOString().replace(/[:.]/g, "-")}.sbatch`);
    fs.writeFileSync(scriptFile, script.text, { mode: 0o755 });
    let out: string;
    try {
      out = execFileSync("sbatch", ["--parsable", scriptFile], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { code?: string; stderr?: string; message: string };
      if (err.code === "ENOENT") throw new Error("sbatch not found: --slurm needs a Slurm client on this machine (scripts/setup/slurm.sh installs one)");
      throw new Error(`sbatch refused ${scriptFile}: ${(err.stderr ?? err.message).trim()}`);
    }
    const job = out.trim().split(";")[0];
    if (!/^\d+$/.test(job)) throw new Error(`sbatch printed no job id for ${scriptFile}: ${JSON.stringify(out)}`);
    const sub: Submission = { job, submitted: new Date().toISOString(), script: path.basename(scriptFile), runs: runs.map((r) => path.relative(opts.root, r.dir)) };
    fs.appendFileSync(ledgerFile(opts.root, opts.spec.name), JSON.stringify(sub) + "\n");
    return { script, plans, active, job, scriptFile };
  } finally {
    release();
  }
}
