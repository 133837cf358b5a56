// `valemb run <section> --slurm | --status`: the section's unfinished runs as a Slurm job array, and
// where each run stands. The plan (done, todo, resume, stale, copy) is the local sweep's.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClusterSettings, RunStatus, SweepOptions } from "../../experiments";

/** The local sweep's choice of runs, and what only a cluster needs. */
export interface SlurmRunArgs extends Pick<SweepOptions, "spec" | "variants" | "preset" | "seeds" | "steps" | "root" | "backend" | "replaceStale"> {
  /** The `--cluster` file, or undefined for cluster.json in the project folder when there is one. */
  clusterFile?: string;
  /** Settings given as flags; they win over the file's. */
  flags: ClusterSettings;
  dryRun: boolean;
  json: boolean;
  /** The command line that shows this sweep's status, for the user to copy. */
  statusCommand: string;
}

const PROJECT = path.resolve(__dirname, "..", "..", "..");

/** The file's settings under the flags', and the backend the runs' identity is computed for. */
function clusterSettings(a: SlurmRunArgs): ClusterSettings {
  const { readClusterSettings, checkClusterSettings } = require("../../experiments") as typeof import("../../experiments");
  const fallback = path.join(PROJECT, "cluster.json");
  const file = a.clusterFile ?? (fs.existsSync(fallback) ? fallback : undefined);
  const fromFile = file ? readClusterSettings(file) : {};
  const flags = checkClusterSettings(Object.fromEntries(Object.entries(a.flags).filter(([, v]) => v !== undefined)), "flags");
  return { ...fromFile, ...flags, ...(a.backend ? { backend: a.backend } : {}) };
}

async function resolve(a: SlurmRunArgs) {
  const { identityResolver, childBackend } = require("../../experiments") as typeof import("../../experiments");
  const cluster = clusterSettings(a);
  const threads = cluster.cpusPerTask ?? 1;
  const backend = childBackend(cluster.backend, threads);
  const identityOf = await identityResolver({ preset: a.preset, steps: a.steps, backend, threads });
  const sweep = { spec: a.spec, variants: a.variants, preset: a.preset, seeds: a.seeds, steps: a.steps, root: a.root, jobs: 1, replaceStale: a.replaceStale };
  return { cluster, backend, identityOf, sweep };
}

export async function submit(a: SlurmRunArgs): Promise<number> {
  const { submitSlurm } = require("../../experiments") as typeof import("../../experiments");
  const { cluster, backend, identityOf, sweep } = await resolve(a);
  const r = submitSlurm({ ...sweep, backend, cluster, dryRun: a.dryRun }, identityOf);
  const done = r.plans.filter((p) => p.state === "done").length;
  const copied = r.plans.filter((p) => p.state === "copy").length;
  const count = r.script?.runs.length ?? 0;
  const summary = `${a.spec.name}: ${r.plans.length} run(s): ${done} done, ${copied} ${a.dryRun ? "to copy" : "copied"} from another section, ` +
    `${r.active.length} queued or running in earlier jobs, ${count} to train (backend ${backend})\n`;
  if (a.dryRun) {
    process.stderr.write(summary);
    if (r.script) process.stdout.write(r.script.text);
    else process.stderr.write("nothing to submit\n");
    return 0;
  }
  if (a.json) {
    process.stdout.write(JSON.stringify({ job: r.job ?? null, runs: r.script?.runs.map((x) => x.dir) ?? [], script: r.scriptFile ?? null, done, copied, active: r.active.map((s) => s.task) }) + "\n");
  } else {
    process.stdout.write(summary);
    if (!r.job) process.stdout.write("nothing to submit\n");
    else {
      process.stdout.write(
        `submitted job ${r.job}: array 0-${count - 1}${cluster.maxParallel ? ` (at most ${cluster.maxParallel} at once)` : ""}\n` +
        `folder: ${path.join(path.resolve(a.root), a.spec.name)} (each run's Slurm output: <variant>/seed-<n>/slurm-${r.job}_<index>.out)\n` +
        `script: ${r.scriptFile}\n` +
        `status: ${a.statusCommand}\n`,
      );
    }
  }
  return 0;
}

function describe(s: RunStatus): string {
  const step = s.step !== undefined ? `step ${s.step}/${s.totalSteps}` : undefined;
  switch (s.state) {
    case "done": return s.run.state === "copy" ? `(${s.run.why})` : s.run.why;
    case "running": return [step ?? "starting", `job ${s.task}`].join(", ");
    case "queued": return [`job ${s.task}`, s.slurm?.reason, step ? `last at ${step}` : undefined].filter(Boolean).join(", ");
    case "failed": return [`job ${s.task}`, s.slurm?.state, step ? `stopped at ${step}` : undefined].filter(Boolean).join(", ");
    default: return `${s.run.state}: ${s.run.why}`;
  }
}

export async function status(a: SlurmRunArgs): Promise<number> {
  const { sectionSlurmStatus } = require("../../experiments") as typeof import("../../experiments");
  const { identityOf, sweep } = await resolve(a);
  const all = sectionSlurmStatus(sweep, identityOf);
  if (a.json) {
    process.stdout.write(JSON.stringify(all.map((s) => ({
      variant: s.run.variant.name, seed: s.run.seed, dir: s.run.dir, state: s.state, task: s.task ?? null, slurm: s.slurm?.state ?? null,
      reason: s.slurm?.reason ?? null, step: s.step ?? null, totalSteps: s.totalSteps ?? null, tail: s.tail ?? [],
    })), null, 2) + "\n");
    return 0;
  }
  const width = Math.max(8, ...all.map((s) => s.run.variant.name.length));
  for (const s of all) {
    process.stdout.write(`${s.run.variant.name.padEnd(width)}  seed-${s.run.seed}  ${s.state.padEnd(13)} ${describe(s)}\n`);
    for (const line of s.tail ?? []) process.stdout.write(`${" ".repeat(width + 10)}| ${line}\n`);
  }
  const count = (st: RunStatus["state"]) => all.filter((s) => s.state === st).length;
  process.stdout.write(`${a.spec.name}: ${count("done")} done, ${count("running")} running, ${count("queued")} queued, ${count("failed")} failed, ${count("not submitted")} not submitted\n`);
  return 0;
}
