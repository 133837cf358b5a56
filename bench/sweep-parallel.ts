// A sweep is many independent runs: is the machine used better by 2 single-thread training processes
// at once, or by one 2-thread process at a time? Runs the real trainer (`valemb train`, tiny preset)
// both ways on the same work (2 runs × --steps), alternating the two schedules, and reports wall
// time and aggregate tokens/s with the load.
//   node --import tsx bench/sweep-parallel.ts [--steps 6] [--rounds 1] [--jobs 2] [--json]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(__dirname, "..");
const log = (s: string) => process.stderr.write(s + "\n");
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

interface RunResult { wallMs: number; trainMs: number; stepAvgMs: number }

/** One `valemb train` run; resolves with its wall time and the trainer's own training time. */
function train(out: string, steps: number, threads: number, batch: number): Promise<RunResult> {
  const args = [path.join(ROOT, "bin", "valemb.js"), "train", "--preset", "tiny", "--steps", String(steps), "--out", out, "--force",
    "--eval-every", String(steps), "--val-tokens", "4096", "--batch", String(batch), "--threads", String(threads), "--backend", "wasm"];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, VALEMB_THREADS: String(threads) }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    child.on("exit", (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) return reject(new Error(`valemb train (${threads} thread(s)) exited ${code}:\n${err}`));
      const lines = fs.readFileSync(path.join(out, "evals.jsonl"), "utf8").trim().split("\n");
      const last = JSON.parse(lines[lines.length - 1]) as { train_time_ms: number; step_avg_ms: number };
      resolve({ wallMs, trainMs: last.train_time_ms, stepAvgMs: last.step_avg_ms });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    steps: { type: "string", default: "6" }, rounds: { type: "string", default: "1" }, jobs: { type: "string", default: "2" },
    batch: { type: "string", default: "16" }, json: { type: "boolean", default: false },
  } });
  const steps = Number(values.steps), rounds = Number(values.rounds), jobs = Number(values.jobs), batch = Number(values.batch);
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-sweep-"));
  const tokens = jobs * steps * batch * 128;
  const schedules = {
    sequential: async () => { // one run at a time, each with every core
      const r: RunResult[] = [];
      for (let j = 0; j < jobs; j++) r.push(await train(path.join(tmp, `seq${j}`), steps, cores, batch));
      return r;
    },
    parallel: () => Promise.all(Array.from({ length: jobs }, (_, j) => train(path.join(tmp, `par${j}`), steps, Math.max(1, Math.floor(cores / jobs)), batch))),
  };
  const results: Record<string, { wallMs: number[]; stepAvgMs: number[]; load: number[][] }> = {
    sequential: { wallMs: [], stepAvgMs: [], load: [] }, parallel: { wallMs: [], stepAvgMs: [], load: [] },
  };
  log(`sweep-parallel: ${jobs} runs × ${steps} steps of tiny (B=${batch}); ${cores} cores; load ${load().join(" ")}`);
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["sequential", "parallel"] as const) : (["parallel", "sequential"] as const);
      for (const name of order) {
        const l0 = load(), t0 = performance.now();
        const runs = await schedules[name]();
        const wall = performance.now() - t0;
        results[name].wallMs.push(wall);
        results[name].stepAvgMs.push(...runs.map((x) => x.stepAvgMs));
        results[name].load.push(l0);
        log(`  ${name}: ${(wall / 1000).toFixed(1)} s wall, step_avg ${runs.map((x) => x.stepAvgMs.toFixed(0)).join(", ")} ms; load ${l0.join(" ")}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const best = (xs: number[]) => Math.min(...xs);
  const summary = {
    jobs, steps, batch, cores, tokens_per_schedule: tokens,
    sequential: { threads_per_run: cores, wall_s: Number((best(results.sequential.wallMs) / 1000).toFixed(1)), tokens_per_s: Math.round(tokens / (best(results.sequential.wallMs) / 1000)), step_avg_ms: results.sequential.stepAvgMs, load: results.sequential.load },
    parallel: { threads_per_run: Math.max(1, Math.floor(cores / jobs)), wall_s: Number((best(results.parallel.wallMs) / 1000).toFixed(1)), tokens_per_s: Math.round(tokens / (best(results.parallel.wallMs) / 1000)), step_avg_ms: results.parallel.stepAvgMs, load: results.parallel.load },
    speedup_parallel: Number((best(results.sequential.wallMs) / best(results.parallel.wallMs)).toFixed(2)),
  };
  console.log(`| schedule | runs at once × threads | wall s (incl. start-up, eval) | tokens/s | step_avg ms | load at start |`);
  console.log(`|---|---|---|---|---|---|`);
  console.log(`| one at a time | 1 × ${cores} | ${summary.sequential.wall_s} | ${summary.sequential.tokens_per_s} | ${summary.sequential.step_avg_ms.map((x) => x.toFixed(0)).join(", ")} | ${results.sequential.load.map((l) => l[0]).join(", ")} |`);
  console.log(`| parallel | ${jobs} × ${summary.parallel.threads_per_run} | ${summary.parallel.wall_s} | ${summary.parallel.tokens_per_s} | ${summary.parallel.step_avg_ms.map((x) => x.toFixed(0)).join(", ")} | ${results.parallel.load.map((l) => l[0]).join(", ")} |`);
  console.log(`parallel is ${summary.speedup_parallel}× the throughput of one-at-a-time: use --jobs ${summary.speedup_parallel > 1 ? `${jobs} --threads ${summary.parallel.threads_per_run}` : `1 --threads ${cores}`}`);
  if (values.json) console.log(JSON.stringify(summary));
}
main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
