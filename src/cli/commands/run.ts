import * as os from "node:os";
import * as path from "node:path";
import type { Command } from "../command";
import { listenForStop, stopExitCode } from "../stop";
import { parseOptions, UsageError } from "../options";

const usage = `usage: valemb run <section> [options]

Trains every (variant, seed) of one section of the post that is not finished yet, several runs at
once in child processes, then prints the section's tables. Finished runs are skipped, interrupted
ones resume from their checkpoint, and a run whose config or code changed is never silently reused.
Ctrl-C or SIGTERM stops every run after its current step with a checkpoint ("stopped at step N
(...); rerun to resume", exit 130 / 143); the trainers also stop when the sweep is killed (-9 too).
A run folder owned by a live trainer is left alone and reported.

sections: adding, removing, shifting, sharing

options:
  --preset <name>      tiny (default; results under data/runs), tiny-long (400 steps), smoke, medium
  --seeds <n>          seeds per variant (default: the section's, 3)
  --variants <a,b>     only these variants (names as in \`valemb run <section> --list\`), or
                       'headline': the ones behind the section's headline claims
  --steps <n>          training steps per run (default: the preset's)
  --jobs <n>           runs at once (default: number of cores)
  --threads <n>        threads per run (default: cores / jobs)
  --backend <name>     force a backend for the children (see valemb doctor)
  --root <dir>         folder holding <section>/<variant>/seed-<n>/ (default: data/runs, or data/runs-<preset>)
  --target <loss>      target loss for the tables (default: the baseline's mean final loss)
  --replace-stale      move finished runs of an older config/code aside and train them again
  --list               print the section's variants and what is done, train nothing
  --no-train           only print the tables of what is finished
  --json               print the results as JSON on stdout

on a Slurm cluster (README "More than one machine"):
  --slurm              submit the runs not finished (and not queued or running already) as one
                       sbatch job array, one task per (variant, seed), and print the job id; each task
                       runs valemb train into the same run folder as a local sweep, and resumes there
                       when Slurm requeues it
  --dry-run            with --slurm: print the array script, submit nothing
  --status             every run's state: done, running (step, job), queued, failed (last log lines)
  --cluster <file>     cluster settings as JSON (default: cluster.json in the project folder, if any):
                       partition, gpusPerTask, cpusPerTask, time, maxParallel, modules, env, setup,
                       projectDir, node, backend, sbatch; the flags below win over the file
  --partition <name>   Slurm partition
  --gpus-per-task <n>  GPUs per task
  --cpus-per-task <n>  CPUs per task, and the trainer's threads (default 1)
  --time <HH:MM:SS>    time limit per task
  --max-parallel <k>   at most k tasks of the array at once`;

export const command: Command = {
  summary: "train one section of the post (every variant × seed not yet done) and print its tables",
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      preset: { default: "tiny" }, seeds: {}, variants: {}, steps: {}, jobs: {}, threads: {}, backend: {}, root: {}, target: {},
      "replace-stale": {}, list: {}, "no-train": {}, json: {},
      slurm: {}, "dry-run": {}, status: {}, cluster: {}, partition: {}, "gpus-per-task": {}, "cpus-per-task": {}, time: {}, "max-parallel": {},
    }, { positionals: true });
    if (positionals.length !== 1) throw new UsageError(`expected one section, got ${positionals.length} arguments`);
    const { getSection, selectVariants, defaultRoot, planSweep, runSection, caption, rankingByVariant, variantTable, identityResolver } =
      require("../../experiments") as typeof import("../../experiments");
    const spec = getSection(positionals[0]);
    const { preset, target } = values;
    const jobs = values.jobs ?? os.cpus().length;
    const opts = {
      preset, seeds: values.seeds ?? spec.defaults.seeds, variants: values.variants, steps: values.steps,
      jobs, threads: values.threads ?? Math.max(1, Math.floor(os.cpus().length / jobs)),
      backend: values.backend, root: values.root ?? defaultRoot(preset), target, replaceStale: values["replace-stale"],
    };
    const clusterFlags = [values.partition, values["gpus-per-task"], values["cpus-per-task"], values.time, values["max-parallel"], values.cluster, values["dry-run"] || undefined];
    if (!values.slurm && !values.status && clusterFlags.some((v) => v !== undefined)) {
      throw new UsageError("--partition, --gpus-per-task, --cpus-per-task, --time, --max-parallel, --cluster and --dry-run go with --slurm (or --status)");
    }
    if (values.slurm && values.status) throw new UsageError("--slurm submits and --status reports: give one of them");
    if (values.time !== undefined && !/^(\d+-)?\d{1,2}:\d{2}:\d{2}$/.test(values.time)) throw new UsageError(`--time: expected HH:MM:SS or D-HH:MM:SS, got "${values.time}"`);
    if (values.slurm || values.status) {
      const slurm = require("./run-slurm") as typeof import("./run-slurm");
      return (values.status ? slurm.status : slurm.submit)({
        spec, variants: selectVariants(spec, opts.variants), preset, seeds: opts.seeds, steps: opts.steps, root: opts.root, backend: opts.backend,
        replaceStale: opts.replaceStale, clusterFile: values.cluster, dryRun: values["dry-run"], json: values.json,
        statusCommand: ["valemb", "run", ...argv.filter((a) => !["--slurm", "--dry-run", "--json"].includes(a)), "--status"].join(" "),
        flags: { partition: values.partition, gpusPerTask: values["gpus-per-task"], cpusPerTask: values["cpus-per-task"], time: values.time, maxParallel: values["max-parallel"] },
      });
    }
    if (values.list) {
      const identityOf = await identityResolver({ preset, steps: opts.steps, backend: opts.backend, threads: opts.threads });
      const plans = planSweep({ ...opts, spec, variants: selectVariants(spec, opts.variants) }, identityOf);
      for (const p of plans) process.stdout.write(`${p.variant.name.padEnd(20)} seed-${p.seed}  ${p.variant.layout}  ${p.state.padEnd(6)} ${p.why}\n`);
      return 0;
    }
    const { SweepStoppedError } = require("../../experiments") as typeof import("../../experiments");
    const stop = listenForStop();
    let results: Awaited<ReturnType<typeof runSection>>;
    try {
      results = await runSection(spec.name, {
        ...opts, train: !values["no-train"], write: (s) => process.stderr.write(s), tty: Boolean(process.stderr.isTTY), signal: stop.signal,
      });
    } catch (err) {
      if (!(err instanceof SweepStoppedError)) throw err;
      const at = err.sweep.stopped.map((s) => `step ${s.step ?? "?"} (${path.relative(opts.root, s.run.dir)})`);
      process.stderr.write(`${process.stderr.isTTY ? "\n" : ""}stopped ${at.length ? `at ${at.join(", ")}` : "before any run started"}; rerun to resume\n`);
      return stopExitCode(stop.reason() ?? "SIGINT");
    } finally {
      stop.dispose();
    }
    const failed = results.sweep?.failed.length ?? 0;
    if (values.json) {
      const { pairedComparison, powerEstimate } = require("../../experiments") as typeof import("../../experiments");
      const paired = pairedComparison(results);
      process.stdout.write(JSON.stringify({
        section: spec.name, target: results.target, missing: results.missing, paired, power: powerEstimate(paired),
        variants: results.variants.map((v) => ({ name: v.variant.name, layout: v.variant.layout, label: v.variant.label, ...v.summary, paired: v.paired, vsBaseline: v.vsBaseline, belowTarget: v.belowTarget })),
        ranking: results.ranking, crossings: results.crossings,
      }, null, 2) + "\n");
    } else {
      const { toText } = require("../../analysis") as typeof import("../../analysis");
      process.stdout.write(`\n${spec.title}: ${caption(results)}\n\n${toText(variantTable(results), { digits: { crossingTimeS: 1, crossingTimeStd: 1, crossingStep: 0, pairedDiff: 4, pairedP: 3, welchP: 3 } })}\n`);
      const ranking = rankingByVariant(results);
      if (ranking) process.stdout.write(`\norder before the crossing:\n${toText(ranking)}\n`);
      process.stdout.write(pairedText(results));
    }
    for (const p of results.problems) process.stderr.write(`warning: ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
    return failed ? 1 : 0;
  },
};

/** Paired comparisons with the baseline, the power estimate, and the final value-embedding weights, as text. */
function pairedText(results: import("../../experiments").SectionResults): string {
  const { pairedComparison, pairedTable, powerEstimate, finalScalarTable } = require("../../experiments") as typeof import("../../experiments");
  const { toText } = require("../../analysis") as typeof import("../../analysis");
  const rows = pairedComparison(results);
  if (!rows.some((r) => r.seeds.length >= 2)) return "";
  const pw = powerEstimate(rows);
  let out = `\npaired with the baseline seed by seed (Δ = variant − baseline final loss, 95 % CI, paired t-test; Welch beside it):\n` +
    `${toText(pairedTable(rows), { digits: { meanDiff: 4, ciLow: 4, ciHigh: 4, pairedP: 3, welchP: 3 } })}\n` +
    `power: paired std ${pw.pairedStd.toFixed(4)} (pooled over ${pw.variants} variant${pw.variants === 1 ? "" : "s"}, ≥ ${pw.pairs} pairs each); ` +
    `a difference of ${pw.difference} needs ${pw.seedsNeeded ?? "?"} seeds at p < ${pw.alpha} with ${pw.power * 100} % power; ` +
    `${pw.pairs} seeds find ${pw.detectableWithPairs?.toFixed(4) ?? "?"}\n`;
  const finals = finalScalarTable(results);
  if (finals.shape[0] > 0) out += `\nfinal value-embedding weight λb by layer (mean over seeds):\n${toText(finals, { digits: 3 })}\n`;
  return out;
}
