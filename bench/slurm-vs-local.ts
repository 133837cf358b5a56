// node --import tsx bench/slurm-vs-local.ts [--section adding] [--preset smoke] [--seeds 3] [--steps N]
// One section trained twice on this machine: by a local sweep (`valemb run`, --jobs = cores) and
// through the one-node Slurm cluster (`valemb run --slurm`, one CPU per task). Prints the wall time
// of each (Slurm: from the start of the submission to the last run finished) and checks that both
// give the same losses. Starts the cluster with scripts/slurm-cluster.sh (root) and stops it after.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(__dirname, "..");
const { values } = parseArgs({ options: { section: { type: "string", default: "adding" }, preset: { type: "string", default: "smoke" }, seeds: { type: "string", default: "3" }, steps: { type: "string" } } });
const sweep = [values.section!, "--preset", values.preset!, "--seeds", values.seeds!, ...(values.steps ? ["--steps", values.steps] : [])];
const cores = os.cpus().length;

function valemb(args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "valemb.js"), ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`valemb ${args.join(" ")} exited ${r.status}`);
  return r.stdout;
}

const losses = (dir: string) => fs.readFileSync(path.join(dir, "evals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).val_loss as number);
const finished = (dir: string) => { try { return Boolean(JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")).finished); } catch { return false; } };

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-slurm-bench-"));
  const pids = path.join(work, "started.pids");
  const cluster = (cmd: string) => {
    const r = spawnSync(path.join(ROOT, "scripts", "slurm-cluster.sh"), [cmd, pids], { encoding: "utf8", stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) throw new Error(`scripts/slurm-cluster.sh ${cmd} failed`);
  };
  cluster("start");
  try {
    const loads: string[] = [os.loadavg()[0].toFixed(1)];
    const t0 = Date.now();
    const sub = JSON.parse(valemb(["run", ...sweep, "--root", path.join(work, "slurm"), "--slurm", "--cpus-per-task", "1", "--json"])) as { job: string; runs: string[] };
    const submitS = (Date.now() - t0) / 1000;
    process.stderr.write(`submitted job ${sub.job} (${sub.runs.length} tasks) in ${submitS.toFixed(1)} s\n`);
    while (!sub.runs.every(finished)) {
      const q = spawnSync("squeue", ["-h", "-j", sub.job, "-o", "%i"], { encoding: "utf8" }).stdout.trim();
      if (!q && !sub.runs.every(finished)) throw new Error(`job ${sub.job} left the queue with runs unfinished: see valemb run ${sweep.join(" ")} --root ${path.join(work, "slurm")} --status`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const slurmS = (Date.now() - t0) / 1000;
    loads.push(os.loadavg()[0].toFixed(1));

    const t1 = Date.now();
    valemb(["run", ...sweep, "--root", path.join(work, "local"), "--jobs", String(cores), "--threads", "1", "--json"]);
    const localS = (Date.now() - t1) / 1000;

    const same = sub.runs.every((dir) => JSON.stringify(losses(dir)) === JSON.stringify(losses(path.join(work, "local", path.relative(path.join(work, "slurm"), dir)))));
    loads.push(os.loadavg()[0].toFixed(1));
    process.stdout.write(
      `${values.section} --preset ${values.preset} --seeds ${values.seeds}${values.steps ? ` --steps ${values.steps}` : ""}: ${sub.runs.length} runs on ${cores} cores, load average ${loads.join(" → ")} (start, between, end), ${new Date().toISOString().slice(0, 16)} UTC\n` +
      `  Slurm (one-node cluster, 1 CPU per task): ${slurmS.toFixed(0)} s from submit to all done (submitting took ${submitS.toFixed(1)} s)\n` +
      `  local sweep (--jobs ${cores} --threads 1):      ${localS.toFixed(0)} s\n` +
      `  same losses in every run: ${same ? "yes" : "NO"}\n`,
    );
    if (!same) process.exitCode = 1;
  } finally {
    cluster("stop");
  }
}

main().catch((e) => { process.stderr.write(`${(e as Error).message}\n`); process.exit(1); });
