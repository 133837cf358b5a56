// npm run bench [-- --configs tiny,proto --steps 6 --warmup 1 --chunk 2 --sides tfjs:2,torch:2,tfjs:1,torch:1 --json]
// Trains the same GPT (config, weights, data, batch, optimizer) in tfjs (our engine, as a user runs
// it; `tfjs:N` = every installed CPU backend, `wasm:N`/`tensorflow:N` one of them) and in PyTorch 2.x
// as pip installs it (the project venv .venv, scripts/setup/python-venv.sh), each side in its own process, alternating
// chunks of steps in one run so that both see the same machine load. Reports median ms/step, tokens/s,
// tfjs/PyTorch ratios, BLAS and threads of each side, peak RSS, tf.memory().numTensors at start and
// end, and matmul GFLOP/s against the machine's measured OpenBLAS peak. Progress on stderr; the table on
// stdout; with --json, one JSON object on the last line.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { benchConfig } from "./configs";
import { syntheticBatches } from "./data";
import { writeBatches } from "./io";
import { Worker } from "./worker";

const OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
const ROOT = path.resolve(__dirname, "..");
// The anchor: PyTorch 2.x from pip in the project venv (FINDINGS §8), not Debian's 1.13.
let PYTHON = path.join(ROOT, ".venv", "bin", "python");
const TFJS_BACKENDS = ["tensorflow", "wasm"] as const;

interface Side {
  kind: "tfjs" | "torch";
  /** The tfjs backend (tfjs sides). */
  backend?: string;
  threads: number;
  label: string;
  worker?: Worker;
  ready?: Record<string, unknown>;
  ms: number[];
  losses: number[];
  firstLoss?: number;
  numTensorsEnd?: number;
  stats?: Record<string, number>;
}

const log = (s: string) => process.stderr.write(s + "\n");
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const round = (x: number, d = 1) => Number(x.toFixed(d));

/** Which libblas.so.3 the Debian alternatives select (reference BLAS or OpenBLAS). */
function blasAlternative(): string {
  try {
    return fs.realpathSync("/usr/lib/x86_64-linux-gnu/libblas.so.3");
  } catch {
    return "unknown";
  }
}

function torchEnv(threadsForBlas: number, useOpenblasDir: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threadsForBlas) };
  if (useOpenblasDir) env.LD_LIBRARY_PATH = [OPENBLAS_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  return env;
}

const isReferenceBlas = (libs: unknown): boolean =>
  Array.isArray(libs) && libs.some((l) => /\/blas\/libblas/.test(String(l))) && !libs.some((l) => /openblas/i.test(String(l)));

async function startSide(side: Side, cfgName: string, files: { data: string; cfg: string; weights: string }, forceOpenblas: { on: boolean }): Promise<void> {
  if (side.kind === "tfjs") {
    side.worker = new Worker(side.label, process.execPath, ["--import", "tsx", path.join(__dirname, "tfjs-worker.ts"), cfgName, String(side.threads), files.data],
      { ...process.env, VALEMB_BACKEND: side.backend });
  } else {
    const args = [path.join(__dirname, "torch_worker.py"), files.cfg, String(side.threads), files.data, files.weights];
    side.worker = new Worker(side.label, PYTHON, args, torchEnv(1, forceOpenblas.on));
    const first = await side.worker.read();
    if (isReferenceBlas(first.blas) && !forceOpenblas.on) {
      // The reference BLAS is ~20× slower: it would flatter tfjs. Point the loader at OpenBLAS instead.
      log(`${side.label}: torch loaded the reference BLAS (${first.blas}); restarting with LD_LIBRARY_PATH=${OPENBLAS_DIR}`);
      await side.worker.quit();
      forceOpenblas.on = true;
      side.worker = new Worker(side.label, PYTHON, args, torchEnv(1, true));
    } else {
      side.ready = first;
      return;
    }
  }
  side.ready = await side.worker.read();
}

/** The tfjs backends that ran, in order of appearance. */
function installedBackendsOf(rows: { kind: string; backend: string }[]): string[] {
  return [...new Set(rows.filter((r) => r.kind === "tfjs").map((r) => r.backend))];
}

/** The CPU tfjs backends installed here, fastest first (tensorflow only with the real tfjs-node). */
function installedTfjsBackends(): string[] {
  let tensorflow = false;
  try { tensorflow = require(path.join(ROOT, "node_modules/@tensorflow/tfjs-node/package.json")).name === "@tensorflow/tfjs-node"; } catch { /* not installed */ }
  return TFJS_BACKENDS.filter((b) => b !== "tensorflow" || tensorflow);
}

/** OpenBLAS sgemm GFLOP/s with 1 and 2 threads (the machine's measured peak), in a separate process. */
function openblasPeak(n: number, forceOpenblas: boolean): { threads: number; gflops: number }[] {
  const script = `
import time, torch
torch.set_num_threads(1)
n = ${n}
a, b = torch.randn(n, n), torch.randn(n, n)
a @ b
best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print(2 * n ** 3 / best / 1e9)`;
  return [1, 2].map((threads) => {
    const out = execFileSync(PYTHON, ["-c", script], { env: torchEnv(threads, forceOpenblas), encoding: "utf8" });
    return { threads, gflops: round(Number(out.trim())) };
  });
}

async function runConfig(cfgName: string, opts: { steps: number; warmup: number; chunk: number; sides: string[] }, tmp: string, forceOpenblas: { on: boolean }) {
  const bc = benchConfig(cfgName);
  const B = bc.batch, T = bc.model.seqLen;
  const files = { data: path.join(tmp, `${cfgName}.tokens`), cfg: path.join(tmp, `${cfgName}.json`), weights: path.join(tmp, `${cfgName}.weights`) };
  writeBatches(files.data, syntheticBatches(bc.model.vocabSize, bc.model.eotToken, B, T, 8, 1));
  fs.writeFileSync(files.cfg, JSON.stringify(bc));
  const sides: Side[] = opts.sides.flatMap((s): Side[] => {
    const [kind, threads] = s.split(":");
    if (!(Number(threads) >= 1) || !["tfjs", "torch", ...TFJS_BACKENDS].includes(kind)) {
      throw new Error(`--sides: expected kind:threads with kind tfjs, ${TFJS_BACKENDS.join(", ")} or torch (tfjs:1,torch:1), got "${s}"`);
    }
    if (kind === "torch") return [{ kind, threads: Number(threads), label: `torch:${threads}`, ms: [], losses: [] }];
    const backends = kind === "tfjs" ? installedTfjsBackends() : [kind];
    return backends.map((backend) => ({ kind: "tfjs", backend, threads: Number(threads), label: `${backend}:${threads}`, ms: [], losses: [] }));
  });
  try {
    // tfjs sides first: the first one writes the initial weights (src/model's init) that torch loads
    for (const side of sides.filter((s) => s.kind === "tfjs")) await startSide(side, cfgName, files, forceOpenblas);
    const writer = sides.find((s) => s.kind === "tfjs");
    if (!writer) throw new Error("--sides needs a tfjs side (it writes the initial weights)");
    await writer.worker!.ask({ cmd: "weights", file: files.weights });
    for (const side of sides.filter((s) => s.kind === "torch")) await startSide(side, cfgName, files, forceOpenblas);

    log(`[${cfgName}] warm-up: ${opts.warmup} step(s) per side; load ${load().join(" ")}`);
    for (const side of sides) {
      const r = await side.worker!.ask<{ ms: number[]; losses: number[] }>({ cmd: "train", steps: opts.warmup });
      side.firstLoss = r.losses[0];
    }
    const loadStart = load();
    for (let done = 0; done < opts.steps; done += opts.chunk) {
      const n = Math.min(opts.chunk, opts.steps - done);
      for (const side of sides) {
        const r = await side.worker!.ask<{ ms: number[]; losses: number[]; numTensors?: number }>({ cmd: "train", steps: n });
        side.ms.push(...r.ms);
        side.losses.push(...r.losses);
        if (r.numTensors !== undefined) side.numTensorsEnd = r.numTensors;
      }
      log(`[${cfgName}] ${Math.min(done + n, opts.steps)}/${opts.steps}: ${sides.map((s) => `${s.label} ${median(s.ms).toFixed(0)} ms`).join(", ")}; load ${load()[0]}`);
    }
    const loadEnd = load();
    const matmul: Record<string, number> = {};
    for (const side of sides) {
      side.stats = await side.worker!.ask<Record<string, number>>({ cmd: "stats" });
      const r = await side.worker!.ask<{ ms: number[] }>({ cmd: "matmul", n: 1024, reps: 5 });
      matmul[side.label] = round((2 * 1024 ** 3) / Math.min(...r.ms) / 1e6);
    }
    return { bc, sides, loadStart, loadEnd, matmul };
  } finally {
    for (const side of sides) side.worker?.kill();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      configs: { type: "string", default: "tiny,proto" },
      steps: { type: "string", default: "6" },
      warmup: { type: "string", default: "1" },
      chunk: { type: "string", default: "2" },
      sides: { type: "string", default: "tfjs:2,torch:2,tfjs:1,torch:1" },
      json: { type: "boolean", default: false },
      "peak-n": { type: "string", default: "2048" },
      python: { type: "string", default: PYTHON },
    },
  });
  PYTHON = values.python!;
  if (!fs.existsSync(PYTHON)) throw new Error(`--python: ${PYTHON} not found (scripts/setup/python-venv.sh installs PyTorch 2.x into .venv)`);
  const num = (k: "steps" | "warmup" | "chunk") => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < (k === "warmup" ? 0 : 1)) throw new Error(`--${k}: expected a positive integer, got "${values[k]}"`);
    return v;
  };
  const opts = { steps: num("steps"), warmup: num("warmup"), chunk: num("chunk"), sides: values.sides!.split(",") };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-bench-"));
  const forceOpenblas = { on: false };
  const started = new Date();
  const uptime = execFileSync("uptime", { encoding: "utf8" }).trim();
  log(`bench: ${uptime}; libblas.so.3 → ${blasAlternative()}`);
  try {
    const results: Awaited<ReturnType<typeof runConfig>>[] = [];
    // the peak is measured before and after the training runs (load varies); the best OpenBLAS number counts
    log(`bench: BLAS peak (torch ${values["peak-n"]}³ sgemm)…`);
    const peak = openblasPeak(Number(values["peak-n"]), forceOpenblas.on);
    for (const name of values.configs!.split(",")) results.push(await runConfig(name, opts, tmp, forceOpenblas));
    peak.push(...openblasPeak(Number(values["peak-n"]), forceOpenblas.on));
    const torchMatmuls = results.flatMap((r) => Object.entries(r.matmul).filter(([k]) => k.startsWith("torch")).map(([, v]) => v));
    const peakGflops = Math.max(...peak.map((p) => p.gflops), ...torchMatmuls);

    const configs = results.map(({ bc, sides, loadStart, loadEnd, matmul }) => {
      const tokens = bc.batch * bc.model.seqLen;
      const rows = sides.map((s) => ({
        side: s.label, kind: s.kind, backend: s.kind === "tfjs" ? String(s.ready!.backend) : "torch", threads: s.threads, ms: round(median(s.ms)), min_ms: round(Math.min(...s.ms)),
        tokens_per_s: Math.round(tokens / (median(s.ms) / 1000)), steps: s.ms.length, first_loss: s.firstLoss,
        last_loss: s.losses[s.losses.length - 1], peak_rss_mb: round(s.stats!.peakRssMB ?? NaN, 0),
        blas: s.kind === "torch" ? (s.ready!.blas as string[]).map((l) => l.startsWith("/") ? path.basename(path.dirname(l)) + "/" + path.basename(l) : l).join(" ")
          : s.ready!.backend === "wasm" ? "XNNPACK (wasm SIMD)" : String(s.ready!.library ?? s.ready!.backend),
        num_tensors_start: s.kind === "tfjs" ? s.stats!.numTensorsStart : undefined, num_tensors_end: s.kind === "tfjs" ? s.numTensorsEnd : undefined,
        matmul_1024_gflops: matmul[s.label],
      }));
      const pick = (kind: string, threads: number) => rows.filter((r) => r.kind === kind && r.threads === threads).sort((a, b) => a.ms - b.ms)[0];
      const tf2 = pick("tfjs", 2) ?? rows.find((r) => r.kind === "tfjs")!, th2 = pick("torch", 2) ?? rows.find((r) => r.kind === "torch");
      const bestTf = rows.filter((r) => r.kind === "tfjs").sort((a, b) => a.ms - b.ms)[0];
      const bestTh = rows.filter((r) => r.kind === "torch").sort((a, b) => a.ms - b.ms)[0];
      return {
        config: bc.name, model: bc.model, batch: bc.batch, tokens_per_step: tokens, params: sides[0].ready!.params as number,
        tfjs_ms: tf2.ms, torch_ms: th2?.ms ?? null, ratio: th2 ? round(tf2.ms / th2.ms, 2) : null, threads: tf2.threads, torch_threads: th2?.threads ?? null,
        best_ratio: bestTh ? round(bestTf.ms / bestTh.ms, 2) : null, best: bestTh ? `${bestTf.side} vs ${bestTh.side}` : null,
        best_tfjs_ms: bestTf.ms, best_torch_ms: bestTh?.ms ?? null, best_tfjs_threads: bestTf.threads, best_torch_threads: bestTh?.threads ?? null,
        load_start: loadStart, load_end: loadEnd, sides: rows,
      };
    });
    const top = configs[0];
    const tfReady = results[0].sides.find((s) => s.kind === "tfjs" && s.label === top.best?.split(" vs ")[0])?.ready ?? results[0].sides.find((s) => s.kind === "tfjs")!.ready!;
    const thReady = results[0].sides.find((s) => s.kind === "torch")?.ready;
    const summary = {
      // ratio: each side at its fastest thread count in this run (never flattering: a loaded machine can make
      // torch's 2 OpenMP threads far slower than 1); ratio_same_threads: the 2-vs-2 comparison of the issue
      tfjs_ms: top.best_tfjs_ms, torch_ms: top.best_torch_ms, ratio: top.best_ratio, config: top.config, backend: tfReady.backend,
      threads: top.best_tfjs_threads, torch_threads: top.best_torch_threads,
      ratio_same_threads: top.ratio, same_threads: { tfjs_ms: top.tfjs_ms, torch_ms: top.torch_ms, threads: top.threads, torch_threads: top.torch_threads },
      tfjs: { version: tfReady.tfjs, simd: tfReady.simd, library: tfReady.library, device: tfReady.device },
      // every backend's fastest side against the fastest torch side of the first config
      backends: Object.fromEntries(installedBackendsOf(top.sides).map((b) => {
        const r = top.sides.filter((x) => x.backend === b).sort((x, y) => x.ms - y.ms)[0];
        return [b, { ms: r.ms, threads: r.threads, ratio: top.best_torch_ms ? round(r.ms / top.best_torch_ms, 2) : null }];
      })),
      torch: thReady ? { version: thReady.torch, blas: thReady.blas, openblas_num_threads: thReady.openblas_threads, ld_library_path_forced: forceOpenblas.on } : null,
      libblas_alternative: blasAlternative(),
      matmul_gflops: { n: 1024, by_side: results[0].matmul, openblas_peak: peak, peak_gflops: peakGflops,
        tfjs_pct_of_peak: round((100 * Math.max(...Object.entries(results[0].matmul).filter(([k]) => !k.startsWith("torch")).map(([, v]) => v))) / peakGflops, 0) },
      steps: opts.steps, warmup: opts.warmup, date: started.toISOString(), machine: `${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
      uptime, load_end: load(), configs,
    };
    for (const c of configs) {
      console.log(`\n${c.config}: B=${c.batch} T=${c.model.seqLen} L=${c.model.nLayer} d=${c.model.dim} heads=${c.model.nHead}x${c.model.headDim} vocab=${c.model.vocabSize}; load ${c.load_start.join(" ")} → ${c.load_end.join(" ")}`);
      console.log("| side | threads | median ms/step | tokens/s | first loss | peak RSS MB | numTensors start→end | BLAS | 1024³ GFLOP/s |");
      console.log("|---|---|---|---|---|---|---|---|---|");
      for (const r of c.sides) {
        console.log(`| ${r.kind === "tfjs" ? `tfjs ${r.backend}` : "PyTorch"} | ${r.threads} | ${r.ms} | ${r.tokens_per_s} | ${r.first_loss?.toFixed(5)} | ${r.peak_rss_mb} | ${r.kind === "tfjs" ? `${r.num_tensors_start}→${r.num_tensors_end}` : "–"} | ${r.blas} | ${r.matmul_1024_gflops} |`);
      }
      console.log(`ratio tfjs/PyTorch (${c.threads} vs ${c.torch_threads} threads): ${c.ratio}; best vs best (${c.best}): ${c.best_ratio}`);
    }
    console.log(`\ntorch's BLAS ${values["peak-n"]}³ sgemm (before, after): ${peak.map((p) => `${p.gflops} GFLOP/s (${p.threads} thread${p.threads > 1 ? "s" : ""})`).join(", ")}; ` +
      `measured peak (best BLAS number of the run) ${peakGflops}; tfjs best 1024³: ${summary.matmul_gflops.tfjs_pct_of_peak}% of it`);
    if (values.json) console.log(JSON.stringify(summary));
    return 0;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
