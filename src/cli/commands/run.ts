import * as os from "node:os";
import { parseArgs } from "node:util";
import type { Command } from "../main";

const usage = `usage: valemb run <section> [options]

Trains every (variant, seed) of one section of the post that is not finished yet, several runs at
once in child processes, then prints the section's tables. Finished runs are skipped, interrupted
ones resume from their checkpoint, and a run whose config or code changed is never silently reused.

sections: adding, removing, shifting, sharing

options:
  --preset <name>      tiny (default; results under data/runs), smoke, medium
  --seeds <n>          seeds per variant (default: the section's, 3)
  --variants <a,b>     only these variants (names as in \`valemb run <section> --list\`)
  --steps <n>          training steps per run (default: the preset's)
  --jobs <n>           runs at once (default: number of cores)
  --threads <n>        threads per run (default: cores / jobs)
  --backend <name>     force a backend for the children (see valemb doctor)
  --root <dir>         folder holding <section>/<variant>/seed-<n>/ (default: data/runs, or data/runs-<preset>)
  --target <loss>      target loss for the tables (default: the baseline's mean final loss)
  --replace-stale      move finished runs of an older config/code aside and train them again
  --list               print the section's variants and what is done, train nothing
  --no-train           only print the tables of what is finished
  --json               print the results as JSON on stdout`;

export const command: Command = {
  summary: "train one section of the post (every variant × seed not yet done) and print its tables",
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        preset: { type: "string", default: "tiny" }, seeds: { type: "string" }, variants: { type: "string" }, steps: { type: "string" },
        jobs: { type: "string" }, threads: { type: "string" }, backend: { type: "string" }, root: { type: "string" }, target: { type: "string" },
        "replace-stale": { type: "boolean", default: false }, list: { type: "boolean", default: false }, "no-train": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
    if (positionals.length !== 1) { process.stderr.write(`${usage}\n`); return 2; }
    const { getSection, selectVariants, defaultRoot, planSweep, runSection, caption, rankingByVariant, variantTable, identityResolver } =
      require("../../experiments") as typeof import("../../experiments");
    const spec = getSection(positionals[0]);
    const int = (name: string, v: string | undefined, min: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
      return n;
    };
    const target = values.target === undefined ? undefined : Number(values.target);
    if (target !== undefined && !Number.isFinite(target)) throw new Error(`--target must be a number, got '${values.target}'`);
    const preset = values.preset!;
    const jobs = int("jobs", values.jobs, 1) ?? os.cpus().length;
    const opts = {
      preset, seeds: int("seeds", values.seeds, 1) ?? spec.defaults.seeds, variants: values.variants, steps: int("steps", values.steps, 1),
      jobs, threads: int("threads", values.threads, 1) ?? Math.max(1, Math.floor(os.cpus().length / jobs)),
      backend: values.backend, root: values.root ?? defaultRoot(preset), target, replaceStale: values["replace-stale"],
    };
    if (values.list) {
      const identityOf = await identityResolver({ preset, steps: opts.steps, backend: opts.backend, threads: opts.threads });
      const plans = planSweep({ ...opts, spec, variants: selectVariants(spec, opts.variants) }, identityOf);
      for (const p of plans) process.stdout.write(`${p.variant.name.padEnd(20)} seed-${p.seed}  ${p.variant.layout}  ${p.state.padEnd(6)} ${p.why}\n`);
      return 0;
    }
    const results = await runSection(spec.name, {
      ...opts, train: !values["no-train"], write: (s) => process.stderr.write(s), tty: Boolean(process.stderr.isTTY),
    });
    const failed = results.sweep?.failed.length ?? 0;
    if (values.json) {
      process.stdout.write(JSON.stringify({
        section: spec.name, target: results.target, missing: results.missing,
        variants: results.variants.map((v) => ({ name: v.variant.name, layout: v.variant.layout, label: v.variant.label, ...v.summary, vsBaseline: v.vsBaseline, belowTarget: v.belowTarget })),
        ranking: results.ranking, crossings: results.crossings,
      }, null, 2) + "\n");
    } else {
      const { toText } = require("../../analysis") as typeof import("../../analysis");
      process.stdout.write(`\n${spec.title}: ${caption(results)}\n\n${toText(variantTable(results), { digits: { crossingTimeS: 1, crossingTimeStd: 1, crossingStep: 0, pVsBaseline: 3 } })}\n`);
      const ranking = rankingByVariant(results);
      if (ranking) process.stdout.write(`\norder before the crossing:\n${toText(ranking)}\n`);
    }
    for (const p of results.problems) process.stderr.write(`warning: ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
    return failed ? 1 : 0;
  },
};
