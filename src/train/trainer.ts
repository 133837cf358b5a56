// The training loop of modded-nanogpt: validation at step 0, every N steps and at the end with the
// clock stopped; wall-clock training time; checkpoint + exact resume; run folder for the analysis.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TokenLoader, loadValidationSet, openDataset, sha256, writeFileAtomic } from "../data";
import type { Batch, DatasetInfo } from "../data";
import { cudaMemoryMiB } from "../engine";
import { GPT, modelConfig } from "../model";
import type { Activations, GPTConfig } from "../model";
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
import { lockRunFolder, openRunFolder, readEvals, removeLeftovers } from "./run-folder";
import { accumulatedLossAndGrads } from "./accumulate";
import { describePlan, planTraining } from "./plan";
import type { Plan } from "./plan";
import type { OpenedFolder, RunFiles, RunMeta } from "./run-folder";

const REPO_ROOT = path.resolve(__dirname, "../..");
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, "data", "fortunes");

export interface TrainOptions {
  /** Model + training preset: "medium" | "tiny" | "tiny-long" | "smoke". */
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
  /** Sequence length (default the preset's); part of the model config. */
  seqLen?: number;
  /** Tokens per micro-batch: the step's batch is split and its gradients accumulated; default the whole batch, or the largest that fits. */
  microBatchTokens?: number;
  /** Memory the planner may fill (default defaultDeviceMemoryGiB of the backend); a step that does not fit is refused. */
  deviceMemoryGiB?: number;
  /** Keep every activation for the backward, or recompute block by block; default the planner's choice (keep when it fits). */
  activations?: Activations;
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
  /** Told the planner's step (micro-batch, activations, peak) before anything is trained. */
  onPlan?: (plan: Plan) => void;
  /** When aborted: finish the current step, checkpoint, return (resume later with the same call). */
  signal?: AbortSignal;
  /** Named in the run folder's lock while this trains (default: this process's command line). */
  owner?: string;
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

/** Everything a run's options resolve to before anything is written: checked inputs, data, config. */
function resolveRun(opts: TrainOptions, runBackend?: string) {
  // ---- everything that can be wrong with the input is checked before anything is written ----
  const preset = opts.preset;
  if (!(preset in TRAIN_PRESETS)) throw new Error(`unknown preset "${preset}" (known: ${Object.keys(TRAIN_PRESETS).join(", ")})`);
  const defaults = TRAIN_PRESETS[preset as keyof typeof TRAIN_PRESETS];
  if (!opts.data && (defaults.model === "medium" || defaults.model === "one-gpu")) {
    throw new Error(`the ${preset} preset needs --data <folder of modded-nanogpt FineWeb shards> (\`valemb data fineweb\`)`);
  }
  const dataset: DatasetInfo = openDataset(opts.data ?? DEFAULT_DATA_DIR);
  // The data decides the vocabulary: the model's embedding and head follow the tokenizer.
  const config = modelConfig(defaults.model, {
    vocabSize: dataset.vocabSize,
    eotToken: dataset.eotToken,
    ...(opts.layout !== undefined ? { layout: opts.layout } : {}),
    ...(opts.seqLen !== undefined ? { seqLen: positiveInt("sequence length", opts.seqLen) } : {}),
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
  const plan = planStep(config, batchSize, opts, runBackend);
  opts.onPlan?.(plan);
  const microBatchSize = plan.microBatchTokens / seqLen; // sequences per forward/backward pass
  // validation runs in micro-batches too (fewer sequences when the set is smaller); by default at least one sequence
  const valTokens = positiveInt("validation tokens", opts.valTokens ?? Math.max(defaults.valTokens, Math.min(plan.microBatchTokens, dataset.valTokens - 1)));
  const valSet = loadValidationSet(dataset.valFiles, valTokens, Math.max(1, Math.min(microBatchSize, Math.floor(valTokens / seqLen))), seqLen);

  const trainSettings = {
    batchSize, seqLen, tokensPerStep: batchSize * seqLen, evalEvery, valTokens: valSet.tokens, lrMult, cooldownFrac,
    optimizer: opts.optimizerName ?? (opts.optimizer ? "custom" : "muon+adam"),
    // only when accumulating or recomputing, so runs that do neither keep their identity
    ...(microBatchSize < batchSize ? { microBatchTokens: plan.microBatchTokens } : {}),
    ...(plan.activations === "recompute" ? { activations: plan.activations } : {}),
  };
  const versions = { valemb: packageVersion(), numerics: String(NUMERICS_VERSION), source: codeVersion(), tfjs: tf.version.tfjs, node: process.version };
  return { preset, dataset, config, seed, totalSteps, batchSize, microBatchSize, activations: plan.activations, evalEvery, checkpointEvery, lrMult, cooldownFrac, seqLen, valSet, trainSettings, versions };
}

type ResolvedRun = ReturnType<typeof resolveRun>;

/** Memory the planner may fill on a CPU or an unknown GPU when not told: the wasm backend's 4 GiB heap. */
export const DEFAULT_DEVICE_MEMORY_GIB = 4;
/** Share of a CUDA GPU's memory the planner may fill: the CUDA context and TensorFlow's allocator keep the rest. */
export const CUDA_USABLE_FRACTION = 0.9;

let cudaMiBAsked: number | null | undefined; // nvidia-smi once per process: a sweep resolves an identity per run
const cudaMemoryOnce = () => (cudaMiBAsked === undefined ? (cudaMiBAsked = cudaMemoryMiB()) : cudaMiBAsked);

/** Memory the planner may fill when not told, for a run backend ("tensorflow-cuda", "wasm", …): CUDA asks nvidia-smi. */
export function defaultDeviceMemoryGiB(runBackend: string | undefined, cudaMiB: () => number | null = cudaMemoryOnce): number {
  const mib = runBackend === "tensorflow-cuda" ? cudaMiB() : null;
  return mib === null ? DEFAULT_DEVICE_MEMORY_GIB : Math.floor((CUDA_USABLE_FRACTION * mib) / 1024 * 100) / 100;
}

/** The planner's step for this run; refuses one that does not fit, naming the micro-batch that would. */
function planStep(config: GPTConfig, batchSize: number, opts: TrainOptions, runBackend: string | undefined): Plan {
  const gib = positiveNumber("device memory (GiB)", opts.deviceMemoryGiB ?? defaultDeviceMemoryGiB(runBackend));
  const plan = planTraining({ config, batchSize, microBatchTokens: opts.microBatchTokens, deviceMemoryBytes: gib * 1024 ** 3, tflops: 1, activations: opts.activations });
  if (!plan.fits) {
    const advice = plan.largestFittingMicroBatchTokens !== null
      ? `--micro-batch-tokens ${plan.largestFittingMicroBatchTokens} would fit`
      : `not even one ${config.seqLen}-token sequence fits: use a shorter --seq-len or a device with more memory (--device-memory-gib)`;
    throw new Error(`this step does not fit the device: ${describePlan(plan)}; ${advice} (see \`valemb plan\`)`);
  }
  return plan;
}

/** What defines the result: same identity ⇒ same losses (same backend, same code version). */
function identityOf(r: ResolvedRun, backend: string): string {
  return sha256(canonical({
    config: r.config, train: r.trainSettings, seed: r.seed, steps: r.totalSteps, data: r.dataset.hash, backend,
    code: { numerics: NUMERICS_VERSION, tfjs: r.versions.tfjs }, // not the source hash: refactors must not orphan finished runs
  })).slice(0, 16);
}

/** The identity `train(opts)` would record on `backend`, without training (sweeps use it to skip finished runs). */
export function runIdentity(opts: TrainOptions, backend: string): string {
  return identityOf(resolveRun(opts, backend), backend);
}

/** The result for a folder that already holds this finished run: nothing is trained. */
function finishedRunResult(folder: OpenedFolder, meta: RunMeta, totalSteps: number, backend: string): RunResult {
  const evals = readEvals(folder.files.evals);
  const last = evals[evals.length - 1];
  return {
    out: folder.out, identity: folder.identity, finished: true, skipped: true, resumedFrom: null, totalSteps, stepsDone: totalSteps, evals,
    finalValLoss: last?.val_loss ?? null, trainTimeMs: last?.train_time_ms ?? 0, stepAvgMs: last?.step_avg_ms ?? 0,
    tokensPerS: meta.result?.tokensPerS ?? 0, backend,
  };
}

/** Where the loop starts: step, clock and meta, from the checkpoint or from scratch. */
interface StartPoint {
  step: number;
  trainTimeMs: number;
  evalDone: boolean;
  resumedFrom: number | null;
  meta: RunMeta;
}

/**
 * One training session on an opened run folder: the model, optimizer and loader, the loop's state,
 * and the steps of a run (restore, loop, finish) as methods.
 */
class TrainingSession {
  readonly model: GPT;
  readonly optimizer: ReturnType<OptimizerFactory>;
  readonly loader: TokenLoader;
  readonly files: RunFiles;
  step = 0;
  trainTimeMs = 0;
  evalDone = false;
  resumedFrom: number | null = null;
  checkpointStep: number | null = null;
  meta!: RunMeta;
  private sessionStartStep = 0;
  private sessionTrainMs = 0;
  private evalMsTotal = 0;
  private evalsThisSession = 0;
  private lastTrainLoss: number | null = null;

  constructor(readonly run: ResolvedRun, readonly opts: TrainOptions, readonly engine: EngineSummary, readonly folder: OpenedFolder, loader: TokenLoader) {
    this.files = folder.files;
    this.loader = loader;
    this.model = new GPT(run.config, run.seed);
    try {
      this.optimizer = (opts.optimizer ?? speedrunOptimizer)(this.model.params, { lrMult: run.lrMult, cooldownFrac: run.cooldownFrac });
    } catch (err) {
      this.model.dispose();
      throw err;
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }

  /** Resume from the folder's checkpoint (cutting lines written after it), or start a fresh folder; then write meta.json. */
  restoreOrStart(): void {
    const start = this.restore() ?? this.startFresh();
    ({ step: this.step, trainTimeMs: this.trainTimeMs, evalDone: this.evalDone, resumedFrom: this.resumedFrom, meta: this.meta } = start);
    this.checkpointStep = start.resumedFrom;
    this.sessionStartStep = this.step;
    writeFileAtomic(this.files.meta, JSON.stringify(this.meta, null, 2) + "\n");
  }

  private restore(): StartPoint | null {
    const { files, folder: { existing, identity } } = this;
    const ckpt: CheckpointState | null = existing && fs.existsSync(files.ckpt) ? readCheckpoint(files.ckpt) : null;
    if (!ckpt || !existing) return null;
    if (ckpt.identity !== identity) throw new Error(`${files.ckpt}: belongs to run ${ckpt.identity}, not ${identity}; delete it or use --force`);
    for (const [f, bytes] of [[files.log, ckpt.logBytes], [files.evals, ckpt.evalsBytes]] as const) {
      const size = fs.existsSync(f) ? fs.statSync(f).size : -1;
      if (size < bytes) throw new Error(`${f}: ${size < 0 ? "missing" : `${size} bytes`}, but the checkpoint at step ${ckpt.step} expects at least ${bytes}; use --force to start over`);
    }
    this.model.setWeights(ckpt.weights);
    this.optimizer.setState(ckpt.optimizer);
    this.loader.restore(ckpt.loader);
    // Lines written after the checkpoint are cut: they are trained again, so nothing is duplicated.
    fs.truncateSync(files.log, ckpt.logBytes);
    fs.truncateSync(files.evals, ckpt.evalsBytes);
    const meta: RunMeta = { ...existing, resumes: [...(existing.resumes ?? []), { at: new Date().toISOString(), fromStep: ckpt.step }] };
    delete meta.failure;
    return { step: ckpt.step, trainTimeMs: ckpt.trainTimeMs, evalDone: ckpt.evalDone, resumedFrom: ckpt.step, meta };
  }

  private startFresh(): StartPoint {
    const { run, engine, files, folder } = this;
    const { dataset, config, totalSteps, batchSize, seqLen } = run;
    const meta: RunMeta = {
      run: path.basename(path.resolve(folder.out)), preset: run.preset, layout: config.layout, seed: run.seed, steps: totalSteps, config,
      train: { ...run.trainSettings, checkpointEvery: run.checkpointEvery },
      data: {
        dir: path.relative(REPO_ROOT, path.resolve(dataset.dir)) || ".", tokenizer: dataset.tokenizer, vocabSize: dataset.vocabSize, eotToken: dataset.eotToken,
        trainTokens: dataset.trainTokens, valTokens: dataset.valTokens, hash: dataset.hash,
        epochs: Number(((totalSteps * batchSize * seqLen) / dataset.trainTokens).toFixed(3)),
      },
      backend: engine.backend, threads: engine.threads, engine: engine.info, versions: run.versions, git: gitRevision(),
      identity: folder.identity, started: new Date().toISOString(), finished: null, resumes: [],
    };
    fs.mkdirSync(folder.out, { recursive: true });
    writeFileAtomic(files.log, "");
    writeFileAtomic(files.evals, "");
    fs.rmSync(files.ckpt, { force: true });
    return { step: 0, trainTimeMs: 0, evalDone: false, resumedFrom: null, meta };
  }

  /** Train until the last step ("finished"), or until stopped by the signal or the test hook ("stopped"). */
  async loop(): Promise<"finished" | "stopped"> {
    const { opts, run: { totalSteps, evalEvery, checkpointEvery }, files } = this;
    for (;;) {
      if (!this.evalDone && (this.step % evalEvery === 0 || this.step === totalSteps)) {
        const t0 = performance.now(); // the training clock is stopped here
        const valLoss = await this.evaluate();
        this.evalMsTotal += performance.now() - t0;
        this.evalsThisSession++;
        if (!Number.isFinite(valLoss)) this.fail(this.step, valLoss);
        append(files.log, formatValLine(this.step, totalSteps, valLoss, this.trainTimeMs));
        append(files.evals, JSON.stringify(evalRecord(this.step, totalSteps, valLoss, this.trainTimeMs, await this.model.learnedScalars())));
        this.progress(valLoss);
      }
      this.evalDone = true;
      if (this.step === totalSteps) return "finished";
      if (this.step > 0 && this.step % checkpointEvery === 0 && this.checkpointStep !== this.step) await this.saveCheckpoint();
      if (opts.signal?.aborted) {
        if (this.step > 0 && this.checkpointStep !== this.step) await this.saveCheckpoint();
        return "stopped";
      }

      const t0 = performance.now();
      const loss = await this.trainStep(this.loader.next(), this.step);
      const dt = performance.now() - t0;
      if (!Number.isFinite(loss)) this.fail(this.step + 1, loss);
      this.step++;
      this.evalDone = false;
      this.trainTimeMs += dt;
      this.sessionTrainMs += dt;
      this.lastTrainLoss = loss;
      append(files.log, formatTrainLine(this.step, totalSteps, this.trainTimeMs));
      this.progress();
      // On wasm every await above resolves at once: without this turn of the event loop no signal handler ever runs.
      await new Promise<void>((resolve) => setImmediate(resolve));

      if (opts.stopAfterStep === this.step || opts.signal?.aborted) {
        if (opts.signal?.aborted) await this.saveCheckpoint();
        return "stopped";
      }
    }
  }

  /** The result of a session stopped before the last step (the checkpoint, if any, is already written). */
  stoppedResult(): RunResult {
    const { folder, step, trainTimeMs } = this;
    return {
      out: folder.out, identity: folder.identity, finished: false, skipped: false, resumedFrom: this.resumedFrom, totalSteps: this.run.totalSteps, stepsDone: step,
      evals: readEvals(this.files.evals), finalValLoss: null, trainTimeMs, stepAvgMs: step > 0 ? trainTimeMs / step : 0, tokensPerS: this.tokensPerS(), backend: this.engine.backend,
    };
  }

  /** Mark the folder complete (meta.finished, result), keep or drop the checkpoint, and return the result. */
  async finish(): Promise<RunResult> {
    const { folder, files, meta, trainTimeMs, run: { totalSteps } } = this;
    const evals = readEvals(files.evals);
    const tokensPerS = this.tokensPerS();
    const finalValLoss = evals[evals.length - 1].val_loss;
    meta.result = { finalValLoss, trainTimeMs: Math.round(trainTimeMs), stepAvgMs: Number((trainTimeMs / totalSteps).toFixed(2)), tokensPerS: Math.round(tokensPerS) };
    meta.finished = new Date().toISOString();
    if (this.opts.keepCheckpoint) await this.saveCheckpoint(true);
    writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + "\n");
    if (!this.opts.keepCheckpoint) fs.rmSync(files.ckpt, { force: true });
    return {
      out: folder.out, identity: folder.identity, finished: true, skipped: false, resumedFrom: this.resumedFrom, totalSteps, stepsDone: this.step, evals, finalValLoss,
      trainTimeMs, stepAvgMs: trainTimeMs / totalSteps, tokensPerS, backend: this.engine.backend,
    };
  }

  // Losses and checkpoints are read with await: GPU backends (WebGPU) cannot read synchronously.
  private async evaluate(): Promise<number> {
    const { seqLen: T, valSet, totalSteps } = this.run;
    let sum = 0;
    this.model.setProgress(this.step, totalSteps); // growing windows (medium) follow the step, as the record's validation does
    for (const b of valSet.batches) {
      const B = b.inputs.length / T; // validation batches may hold fewer sequences than a micro-batch
      const loss = tf.tidy(() => this.model.loss(tf.tensor2d(b.inputs, [B, T], "int32"), tf.tensor2d(b.targets, [B, T], "int32"), this.run.activations));
      sum += (await loss.data())[0];
      loss.dispose();
    }
    return sum / valSet.batches.length;
  }

  private async trainStep(batch: Batch, index: number): Promise<number> {
    const { batchSize: B, microBatchSize, activations, seqLen: T, totalSteps } = this.run;
    this.model.setProgress(index, totalSteps);
    let lossTensor: tf.Scalar, grads: Record<string, tf.Tensor>;
    if (microBatchSize < B) {
      ({ loss: lossTensor, grads } = accumulatedLossAndGrads(this.model, batch.inputs, batch.targets, B, T, microBatchSize, activations));
    } else {
      const x = tf.tensor2d(batch.inputs, [B, T], "int32");
      const y = tf.tensor2d(batch.targets, [B, T], "int32");
      ({ loss: lossTensor, grads } = this.model.lossAndGrads(x, y, activations));
      tf.dispose([x, y]);
    }
    const loss = this.opts.injectNaNAtStep === index + 1 ? NaN : (await lossTensor.data())[0];
    lossTensor.dispose();
    if (Number.isFinite(loss)) this.optimizer.step(grads, index, totalSteps); // a non-finite loss never touches the weights
    tf.dispose(grads);
    return loss;
  }

  private async saveCheckpoint(final = false): Promise<void> {
    const weights = await this.model.getWeightsAsync();
    const optimizerState = this.optimizer.getStateAsync ? await this.optimizer.getStateAsync() : this.optimizer.getState();
    writeCheckpoint(this.files.ckpt, {
      identity: this.folder.identity, step: this.step, trainTimeMs: this.trainTimeMs, evalDone: this.evalDone, loader: this.loader.state, rng: { seed: this.run.seed },
      logBytes: fs.statSync(this.files.log).size, evalsBytes: fs.statSync(this.files.evals).size,
      weights, optimizer: optimizerState,
    });
    if (!final) this.checkpointStep = this.step;
  }

  private fail(atStep: number, value: number): never {
    this.meta.failure = { step: atStep, value, checkpointStep: this.checkpointStep, at: new Date().toISOString() };
    writeFileAtomic(this.files.meta, JSON.stringify(this.meta, null, 2) + "\n");
    throw new TrainDivergedError(atStep, value, this.checkpointStep, this.folder.out);
  }

  /** Training tokens per second of this session's steps. */
  private tokensPerS(): number {
    const { batchSize: B, seqLen: T } = this.run;
    return this.sessionTrainMs > 0 ? ((this.step - this.sessionStartStep) * B * T) / (this.sessionTrainMs / 1000) : 0;
  }

  private remainingEvals(from: number): number {
    const { totalSteps, evalEvery } = this.run;
    let n = 0;
    for (let s = from + 1; s <= totalSteps; s++) if (s % evalEvery === 0 || s === totalSteps) n++;
    return n;
  }

  private progress(valLoss?: number): void {
    if (!this.opts.onProgress) return;
    const { step, run: { totalSteps } } = this;
    const done = step - this.sessionStartStep;
    const msPerStep = done > 0 ? this.sessionTrainMs / done : 0;
    const evalMs = this.evalsThisSession > 0 ? this.evalMsTotal / this.evalsThisSession : 0;
    this.opts.onProgress({
      step, totalSteps, trainLoss: this.lastTrainLoss, ...(valLoss !== undefined ? { valLoss } : {}), trainTimeMs: this.trainTimeMs,
      tokensPerS: this.tokensPerS(),
      etaS: ((totalSteps - step) * msPerStep + this.remainingEvals(step) * evalMs) / 1000,
    });
  }
}

const append = (file: string, line: string) => fs.appendFileSync(file, line + "\n");

/** Train one run into `opts.out`: resolve the run, own the folder, open it, restore, loop, finish. */
export async function train(opts: TrainOptions): Promise<RunResult> {
  const engine: EngineSummary = await startEngine(opts.backend, opts.threads); // first: the plan fills the device it finds
  const run = resolveRun(opts, engine.runBackend);
  const loader = new TokenLoader(run.dataset.trainFiles, run.batchSize, run.seqLen); // checks every train shard before anything is written
  const folderExisted = fs.existsSync(opts.out);
  const lock = lockRunFolder(opts.out, opts.owner ?? commandLine());
  try {
    removeLeftovers(opts.out);
    const folder = openRunFolder(opts.out, identityOf(run, engine.runBackend), opts.force);
    if (folder.existing?.finished) return finishedRunResult(folder, folder.existing, run.totalSteps, engine.backend);

    const session = new TrainingSession(run, opts, engine, folder, loader);
    try {
      session.restoreOrStart();
      const outcome = await session.loop();
      return outcome === "finished" ? await session.finish() : session.stoppedResult();
    } finally {
      session.dispose();
    }
  } finally {
    lock.release();
    // A folder made only to hold the lock of a run that wrote nothing is not left behind.
    if (!folderExisted) try { fs.rmdirSync(opts.out); } catch { /* not empty: the run wrote to it */ }
  }
}

/** How this process was started, for lock messages ("pid 123: valemb train --out runs/a"). */
function commandLine(): string {
  const script = process.argv[1] ? path.basename(process.argv[1]).replace(/\.js$/, "") : "node";
  return [script, ...process.argv.slice(2)].join(" ");
}
