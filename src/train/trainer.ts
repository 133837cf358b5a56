// The training loop of modded-nanogpt: validation at step 0, every N steps and at the end with the
// clock stopped; wall-clock training time; checkpoint + exact resume; run folder for the analysis.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TokenLoader, loadValidationSet, openDataset, sha256, writeFileAtomic } from "../data";
import type { Batch, DatasetInfo } from "../data";
import { GPT, modelConfig } from "../model";
import type { GPTConfig } from "../model";
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint } from "./checkpoint";
import type { CheckpointState } from "./checkpoint";
import { startEngine } from "./engine";
import type { EngineSummary } from "./engine";
import { evalRecord, formatTrainLine, formatValLine } from "./log";
import type { EvalRecord } from "./log";
import { speedrunOptimizer } from "./optimizer";
import type { OptimizerFactory } from "./optimizer";
import { TRAIN_PRESETS } from "./presets";
import { NUMERICS_VERSION } from "./numerics";

const REPO_ROOT = path.resolve(__dirname, "../..");
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, "data", "fortunes");

export interface TrainOptions {
  /** Model + training preset: "medium" | "tiny" | "smoke". */
  preset: string;
  /** Run folder (log.txt, evals.jsonl, meta.json, checkpoint.ckpt). */
  out: string;
  /** Value-embedding layout, compact form; default the preset's (the baseline). */
  layout?: string;
  seed?: number;
  steps?: number;
  /** Dataset folder; default data/fortunes (medium: required, FineWeb shards). */
  data?: string;
  batchSize?: number;
  evalEvery?: number;
  valTokens?: number;
  lrMult?: number;
  cooldownFrac?: number;
  /** Checkpoint every K steps; default evalEvery (right after each evaluation). */
  checkpointEvery?: number;
  /** Keep the checkpoint (final weights + optimizer) when the run finishes; default: delete it. */
  keepCheckpoint?: boolean;
  backend?: string;
  threads?: number;
  /** Start over, overwriting whatever run the folder holds. */
  force?: boolean;
  /** Changes to the model preset (experiments, tests). Part of the run's identity. */
  modelOverrides?: Partial<GPTConfig>;
  /** Another optimizer (experiments, tests); default the speedrun's Muon + Adam. */
  optimizer?: OptimizerFactory;
  /** Name recorded for a custom optimizer in the identity. */
  optimizerName?: string;
  onProgress?: (p: TrainProgress) => void;
  /** When aborted: finish the current step, checkpoint, return (resume later with the same call). */
  signal?: AbortSignal;
  /** Test hook: stop right after this many steps without checkpointing, as if killed. */
  stopAfterStep?: number;
  /** Test hook: make the training loss NaN at this step (1-based). */
  injectNaNAtStep?: number;
}

export interface TrainProgress {
  /** Steps done. */
  step: number;
  totalSteps: number;
  /** Loss of the last training step (null right after an eval at step 0). */
  trainLoss: number | null;
  /** Set when this progress report is an evaluation. */
  valLoss?: number;
  trainTimeMs: number;
  tokensPerS: number;
  etaS: number;
}

export interface RunResult {
  out: string;
  identity: string;
  finished: boolean;
  /** The folder already held this finished run: nothing was trained. */
  skipped: boolean;
  /** Step the run resumed from, or null for a fresh start. */
  resumedFrom: number | null;
  totalSteps: number;
  stepsDone: number;
  evals: EvalRecord[];
  finalValLoss: number | null;
  trainTimeMs: number;
  stepAvgMs: number;
  /** Training tokens per second of this session's steps. */
  tokensPerS: number;
  backend: string;
}

export class TrainDivergedError extends Error {
  constructor(readonly step: number, readonly value: number, readonly checkpointStep: number | null, readonly out: string) {
    super(
      `training diverged: loss ${value} at step ${step}; ` +
        (checkpointStep !== null
          ? `last good checkpoint is step ${checkpointStep} (${path.join(out, CHECKPOINT_FILE)})`
          : "no checkpoint was written before it") +
        `; ${out} is left unfinished (try a lower --lr-mult, or --force to start over)`,
    );
    this.name = "TrainDivergedError";
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

function positiveNumber(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return v;
}

function gitRevision(): { rev: string | null; dirty: boolean | null } {
  try {
    const rev = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "ignore"] });
    return { rev, dirty: status.length > 0 };
  } catch {
    return { rev: null, dirty: null };
  }
}

// Folders whose code decides a run's numbers; their hash is recorded in meta.json (the identity uses NUMERICS_VERSION).
const NUMERIC_SOURCES = ["src/engine", "src/model", "src/optim", "src/data", "src/train"];
let cachedCodeVersion: string | null = null;

/** Hash of the numerics-defining sources (file paths and contents): which code exactly trained a run. */
export function codeVersion(): string {
  if (cachedCodeVersion) return cachedCodeVersion;
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|cjs)$/.test(e.name)) files.push(p);
    }
  };
  for (const d of NUMERIC_SOURCES) walk(path.join(REPO_ROOT, d));
  const parts = files.sort().map((f) => `${path.relative(REPO_ROOT, f)}\n${fs.readFileSync(f, "utf8")}`);
  cachedCodeVersion = sha256(parts.join("\u0000")).slice(0, 12);
  return cachedCodeVersion;
}

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Stable JSON (sorted keys) for hashing. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

interface RunMeta {
  run: string;
  preset: string;
  layout: string;
  seed: number;
  steps: number;
  config: GPTConfig;
  train: Record<string, unknown>;
  data: Record<string, unknown>;
  backend: string;
  threads: number | null;
  engine: Record<string, unknown>;
  versions: Record<string, string>;
  git: { rev: string | null; dirty: boolean | null };
  identity: string;
  started: string;
  finished: string | null;
  resumes: { at: string; fromStep: number }[];
  result?: { finalValLoss: number; trainTimeMs: number; stepAvgMs: number; tokensPerS: number };
  failure?: { step: number; value: number; checkpointStep: number | null; at: string };
}

const RUN_FILES = ["log.txt", "evals.jsonl", "meta.json", CHECKPOINT_FILE];

function readMeta(file: string): RunMeta {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: unreadable run metadata (${(err as Error).message}); use --force to start over`);
  }
}

function readEvals(file: string): EvalRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** Everything a run's options resolve to before anything is written: checked inputs, data, config. */
function resolveRun(opts: TrainOptions) {
  // ---- everything that can be wrong with the input is checked before anything is written ----
  const preset = opts.preset;
  if (!(preset in TRAIN_PRESETS)) throw new Error(`unknown preset "${preset}" (known: ${Object.keys(TRAIN_PRESETS).join(", ")})`);
  const defaults = TRAIN_PRESETS[preset as keyof typeof TRAIN_PRESETS];
  if (!opts.data && preset === "medium") throw new Error("the medium preset needs --data <folder of modded-nanogpt FineWeb shards>");
  const dataset: DatasetInfo = openDataset(opts.data ?? DEFAULT_DATA_DIR);
  // The data decides the vocabulary: the model's embedding and head follow the tokenizer.
  const config = modelConfig(preset, {
    vocabSize: dataset.vocabSize,
    eotToken: dataset.eotToken,
    ...(opts.layout !== undefined ? { layout: opts.layout } : {}),
    ...opts.modelOverrides,
  });
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const totalSteps = positiveInt("steps", opts.steps ?? defaults.steps);
  const batchSize = positiveInt("batch size", opts.batchSize ?? defaults.batchSize);
  const evalEvery = positiveInt("eval every", opts.evalEvery ?? defaults.evalEvery);
  const checkpointEvery = positiveInt("checkpoint every", opts.checkpointEvery ?? evalEvery);
  const lrMult = positiveNumber("lr multiplier", opts.lrMult ?? defaults.lrMult);
  const cooldownFrac = opts.cooldownFrac ?? defaults.cooldownFrac;
  if (!(cooldownFrac >= 0 && cooldownFrac <= 1)) throw new Error(`cooldown fraction must be in [0, 1], got ${cooldownFrac}`);
  const seqLen = config.seqLen;
  const valSet = loadValidationSet(dataset.valFiles, positiveInt("validation tokens", opts.valTokens ?? defaults.valTokens), batchSize, seqLen);

  const trainSettings = {
    batchSize, seqLen, tokensPerStep: batchSize * seqLen, evalEvery, valTokens: valSet.tokens, lrMult, cooldownFrac,
    optimizer: opts.optimizerName ?? (opts.optimizer ? "custom" : "muon+adam"),
  };
  const versions = { valemb: packageVersion(), numerics: String(NUMERICS_VERSION), source: codeVersion(), tfjs: tf.version.tfjs, node: process.version };
  return { preset, dataset, config, seed, totalSteps, batchSize, evalEvery, checkpointEvery, lrMult, cooldownFrac, seqLen, valSet, trainSettings, versions };
}

type ResolvedRun = ReturnType<typeof resolveRun>;

/** What defines the result: same identity ⇒ same losses (same backend, same code version). */
function identityOf(r: ResolvedRun, backend: string): string {
  return sha256(canonical({
    config: r.config, train: r.trainSettings, seed: r.seed, steps: r.totalSteps, data: r.dataset.hash, backend,
    code: { numerics: NUMERICS_VERSION, tfjs: r.versions.tfjs }, // not the source hash: refactors must not orphan finished runs
  })).slice(0, 16);
}

/** The identity `train(opts)` would record on `backend`, without training (sweeps use it to skip finished runs). */
export function runIdentity(opts: TrainOptions, backend: string): string {
  return identityOf(resolveRun(opts), backend);
}

export async function train(opts: TrainOptions): Promise<RunResult> {
  const run = resolveRun(opts);
  const { preset, dataset, config, seed, totalSteps, batchSize, evalEvery, checkpointEvery, lrMult, cooldownFrac, seqLen, valSet, trainSettings, versions } = run;
  const loader = new TokenLoader(dataset.trainFiles, batchSize, seqLen);

  // ---- the run folder: resume, skip, or refuse ----
  const out = opts.out;
  const files = {
    log: path.join(out, "log.txt"), evals: path.join(out, "evals.jsonl"), meta: path.join(out, "meta.json"), ckpt: path.join(out, CHECKPOINT_FILE),
  };
  const engine: EngineSummary = await startEngine(opts.backend, opts.threads);
  const identity = identityOf(run, engine.backend);

  let existing: RunMeta | null = fs.existsSync(files.meta) ? readMeta(files.meta) : null;
  if (existing && existing.identity !== identity && !opts.force) {
    throw new Error(
      `${out} already holds ${existing.finished ? "a finished" : "an unfinished"} run with another identity (${existing.identity}: preset ${existing.preset}, layout ${existing.layout}, seed ${existing.seed}, ${existing.steps} steps, backend ${existing.backend}); this run is ${identity}. Use a new --out, or --force to overwrite`,
    );
  }
  if (!existing && !opts.force && fs.existsSync(files.log)) {
    throw new Error(`${out} has a log.txt but no meta.json: not a valemb run folder; use a new --out, or --force to overwrite`);
  }
  if (opts.force) {
    for (const f of RUN_FILES) fs.rmSync(path.join(out, f), { force: true });
    existing = null;
  }
  if (existing?.finished) {
    const evals = readEvals(files.evals);
    const last = evals[evals.length - 1];
    return {
      out, identity, finished: true, skipped: true, resumedFrom: null, totalSteps, stepsDone: totalSteps, evals,
      finalValLoss: last?.val_loss ?? null, trainTimeMs: last?.train_time_ms ?? 0, stepAvgMs: last?.step_avg_ms ?? 0,
      tokensPerS: existing.result?.tokensPerS ?? 0, backend: engine.backend,
    };
  }

  // ---- model, optimizer, state ----
  const model = new GPT(config, seed);
  const makeOptimizer = opts.optimizer ?? speedrunOptimizer;
  let optimizer: ReturnType<OptimizerFactory> | null = null;
  try {
    optimizer = makeOptimizer(model.params, { lrMult, cooldownFrac });
    let step = 0;
    let trainTimeMs = 0;
    let evalDone = false;
    let resumedFrom: number | null = null;
    let checkpointStep: number | null = null;
    let meta: RunMeta;

    const ckpt: CheckpointState | null = existing && fs.existsSync(files.ckpt) ? readCheckpoint(files.ckpt) : null;
    if (ckpt && existing) {
      if (ckpt.identity !== identity) throw new Error(`${files.ckpt}: belongs to run ${ckpt.identity}, not ${identity}; delete it or use --force`);
      for (const [f, bytes] of [[files.log, ckpt.logBytes], [files.evals, ckpt.evalsBytes]] as const) {
        const size = fs.existsSync(f) ? fs.statSync(f).size : -1;
        if (size < bytes) throw new Error(`${f}: ${size < 0 ? "missing" : `${size} bytes`}, but the checkpoint at step ${ckpt.step} expects at least ${bytes}; use --force to start over`);
      }
      model.setWeights(ckpt.weights);
      optimizer.setState(ckpt.optimizer);
      loader.restore(ckpt.loader);
      // Lines written after the checkpoint are cut: they are trained again, so nothing is duplicated.
      fs.truncateSync(files.log, ckpt.logBytes);
      fs.truncateSync(files.evals, ckpt.evalsBytes);
      step = ckpt.step;
      trainTimeMs = ckpt.trainTimeMs;
      evalDone = ckpt.evalDone;
      resumedFrom = checkpointStep = ckpt.step;
      meta = { ...existing, resumes: [...(existing.resumes ?? []), { at: new Date().toISOString(), fromStep: step }] };
      delete meta.failure;
    } else {
      meta = {
        run: path.basename(path.resolve(out)), preset, layout: config.layout, seed, steps: totalSteps, config,
        train: { ...trainSettings, checkpointEvery },
        data: {
          dir: path.relative(REPO_ROOT, path.resolve(dataset.dir)) || ".", tokenizer: dataset.tokenizer, vocabSize: dataset.vocabSize, eotToken: dataset.eotToken,
          trainTokens: dataset.trainTokens, valTokens: dataset.valTokens, hash: dataset.hash,
          epochs: Number(((totalSteps * batchSize * seqLen) / dataset.trainTokens).toFixed(3)),
        },
        backend: engine.backend, threads: engine.threads, engine: engine.info, versions, git: gitRevision(),
        identity, started: new Date().toISOString(), finished: null, resumes: [],
      };
      fs.mkdirSync(out, { recursive: true });
      writeFileAtomic(files.log, "");
      writeFileAtomic(files.evals, "");
      fs.rmSync(files.ckpt, { force: true });
    }
    writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + "\n");

    // ---- helpers ----
    const B = batchSize, T = seqLen;
    // Losses and checkpoints are read with await: GPU backends (WebGPU) cannot read synchronously.
    const evaluate = async (): Promise<number> => {
      let sum = 0;
      for (const b of valSet.batches) {
        const loss = tf.tidy(() => model.loss(tf.tensor2d(b.inputs, [B, T], "int32"), tf.tensor2d(b.targets, [B, T], "int32")));
        sum += (await loss.data())[0];
        loss.dispose();
      }
      return sum / valSet.batches.length;
    };
    const trainStep = async (batch: Batch, index: number): Promise<number> => {
      const x = tf.tensor2d(batch.inputs, [B, T], "int32");
      const y = tf.tensor2d(batch.targets, [B, T], "int32");
      const { loss: lossTensor, grads } = model.lossAndGrads(x, y);
      const loss = opts.injectNaNAtStep === index + 1 ? NaN : (await lossTensor.data())[0];
      tf.dispose([x, y, lossTensor]);
      if (Number.isFinite(loss)) optimizer!.step(grads, index, totalSteps); // a non-finite loss never touches the weights
      tf.dispose(grads);
      return loss;
    };
    const append = (file: string, line: string) => fs.appendFileSync(file, line + "\n");
    const saveCheckpoint = async (final = false) => {
      const weights = await model.getWeightsAsync();
      const optimizerState = optimizer!.getStateAsync ? await optimizer!.getStateAsync() : optimizer!.getState();
      writeCheckpoint(files.ckpt, {
        identity, step, trainTimeMs, evalDone, loader: loader.state, rng: { seed },
        logBytes: fs.statSync(files.log).size, evalsBytes: fs.statSync(files.evals).size,
        weights, optimizer: optimizerState,
      });
      if (!final) checkpointStep = step;
    };
    const fail = (atStep: number, value: number): never => {
      meta.failure = { step: atStep, value, checkpointStep, at: new Date().toISOString() };
      writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + "\n");
      throw new TrainDivergedError(atStep, value, checkpointStep, out);
    };

    // ---- the loop ----
    const sessionStartStep = step;
    let sessionTrainMs = 0;
    let evalMsTotal = 0, evalsThisSession = 0;
    let lastTrainLoss: number | null = null;
    const remainingEvals = (from: number) => {
      let n = 0;
      for (let s = from + 1; s <= totalSteps; s++) if (s % evalEvery === 0 || s === totalSteps) n++;
      return n;
    };
    const progress = (valLoss?: number) => {
      if (!opts.onProgress) return;
      const done = step - sessionStartStep;
      const msPerStep = done > 0 ? sessionTrainMs / done : 0;
      const evalMs = evalsThisSession > 0 ? evalMsTotal / evalsThisSession : 0;
      opts.onProgress({
        step, totalSteps, trainLoss: lastTrainLoss, ...(valLoss !== undefined ? { valLoss } : {}), trainTimeMs,
        tokensPerS: sessionTrainMs > 0 ? (done * B * T) / (sessionTrainMs / 1000) : 0,
        etaS: ((totalSteps - step) * msPerStep + remainingEvals(step) * evalMs) / 1000,
      });
    };

    for (;;) {
      if (!evalDone && (step % evalEvery === 0 || step === totalSteps)) {
        const t0 = performance.now(); // the training clock is stopped here
        const valLoss = await evaluate();
        evalMsTotal += performance.now() - t0;
        evalsThisSession++;
        if (!Number.isFinite(valLoss)) fail(step, valLoss);
        append(files.log, formatValLine(step, totalSteps, valLoss, trainTimeMs));
        append(files.evals, JSON.stringify(evalRecord(step, totalSteps, valLoss, trainTimeMs)));
        progress(valLoss);
      }
      evalDone = true;
      if (step === totalSteps) break;
      if (step > 0 && step % checkpointEvery === 0 && checkpointStep !== step) await saveCheckpoint();

      const t0 = performance.now();
      const loss = await trainStep(loader.next(), step);
      const dt = performance.now() - t0;
      if (!Number.isFinite(loss)) fail(step + 1, loss);
      step++;
      evalDone = false;
      trainTimeMs += dt;
      sessionTrainMs += dt;
      lastTrainLoss = loss;
      append(files.log, formatTrainLine(step, totalSteps, trainTimeMs));
      progress();

      if (opts.stopAfterStep === step || opts.signal?.aborted) {
        if (opts.signal?.aborted) await saveCheckpoint();
        return {
          out, identity, finished: false, skipped: false, resumedFrom, totalSteps, stepsDone: step, evals: readEvals(files.evals),
          finalValLoss: null, trainTimeMs, stepAvgMs: trainTimeMs / step,
          tokensPerS: sessionTrainMs > 0 ? ((step - sessionStartStep) * B * T) / (sessionTrainMs / 1000) : 0, backend: engine.backend,
        };
      }
    }

    // ---- done: meta.finished marks the folder complete ----
    const evals = readEvals(files.evals);
    const tokensPerS = sessionTrainMs > 0 ? ((step - sessionStartStep) * B * T) / (sessionTrainMs / 1000) : 0;
    const finalValLoss = evals[evals.length - 1].val_loss;
    meta.result = { finalValLoss, trainTimeMs: Math.round(trainTimeMs), stepAvgMs: Number((trainTimeMs / totalSteps).toFixed(2)), tokensPerS: Math.round(tokensPerS) };
    meta.finished = new Date().toISOString();
    if (opts.keepCheckpoint) await saveCheckpoint(true);
    writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + "\n");
    if (!opts.keepCheckpoint) fs.rmSync(files.ckpt, { force: true });
    return {
      out, identity, finished: true, skipped: false, resumedFrom, totalSteps, stepsDone: step, evals, finalValLoss,
      trainTimeMs, stepAvgMs: trainTimeMs / totalSteps, tokensPerS, backend: engine.backend,
    };
  } finally {
    optimizer?.dispose();
    model.dispose();
  }
}
