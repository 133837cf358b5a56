// `valemb train`: one training run into a run folder, with a progress bar (or JSON lines) on stderr.
import type { Command } from "../command";
import { parseOptions } from "../options";
import { listenForStop, stopExitCode } from "../stop";
import type { TrainProgress } from "../../train";

const usage = `usage: valemb train [--out <run folder>] [--preset tiny] [--layout 012..........012] [--seed 0]
                    [--steps N] [--data data/fortunes] [--backend auto|tensorflow|webgpu|wasm|cpu]
                    [--threads N] [--lr-mult X] [--eval-every N] [--batch N] [--val-tokens N]
                    [--checkpoint-every N] [--keep-checkpoint] [--force] [--json-progress] [--json]
                    [--seq-len N] [--micro-batch-tokens N] [--device-memory-gib G] [--activations keep|recompute]

Trains the modded-nanogpt GPT with a value-embedding layout and writes <out>/log.txt
(modded-nanogpt lines), evals.jsonl and meta.json. Checkpoints at every evaluation; re-running the
same command after a kill resumes from the last checkpoint. Ctrl-C or SIGTERM stops it after the
current step with a checkpoint ("stopped at step N; rerun to resume", exit 130 / 143). One trainer
owns a run folder at a time: a second one on the same --out is refused, naming the first. A finished
run folder is left as it is; a folder holding another run is refused unless --force.

  --out              the run folder (default runs/<preset>/<layout>/seed-<seed>)
  --preset           medium | one-gpu | tiny | tiny-long | smoke (default tiny); sets model size and training defaults
  --layout           value-embedding layout, one character per layer (default: the baseline)
  --steps            training steps (tiny: 100)
  --data             dataset folder (default data/fortunes; medium: FineWeb shards, required)
  --lr-mult          multiplies every learning rate (tiny: 4)
  --eval-every       validation every N steps, and at the end (tiny: 5)
  --batch            sequences per step (tiny: 16)
  --val-tokens       size of the fixed validation set (tiny: 8192; at least one micro-batch)
  --seq-len          tokens per sequence (default: the preset's)
  --micro-batch-tokens  tokens per forward/backward pass; a step accumulates the gradients of
                     batch×seq-len / N passes (default: the whole batch, or the largest that fits)
  --device-memory-gib   memory the step may use (default: 90 % of the GPU's on CUDA, from nvidia-smi;
                     else 4, the wasm heap); a step that the planner
                     says will not fit is refused with its numbers and the micro-batch that would (valemb plan)
  --activations      keep every activation for the backward, or recompute block by block (about one
                     more forward of compute, a fraction of the memory); default: keep when it fits
  --checkpoint-every checkpoint every N steps (default: at each evaluation)
  --keep-checkpoint  keep checkpoint.ckpt (final weights) when the run finishes
  --force            start over, overwriting the run folder
  --json-progress    one JSON object per line on stderr instead of the progress bar
  --json             print the result as JSON on stdout`;

function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

/** A one-line bar redrawn in place on a terminal; elsewhere a line every ~5% and at each evaluation. */
function progressPrinter(json: boolean, muted: () => boolean): (p: TrainProgress) => void {
  const tty = process.stderr.isTTY === true;
  let lastVal: number | null = null;
  let lastPrinted = -1;
  return (p) => {
    if (muted()) return;
    if (json) {
      const rec = { step: p.step, totalSteps: p.totalSteps, trainLoss: p.trainLoss, ...(p.valLoss !== undefined ? { valLoss: p.valLoss } : {}), tokensPerS: Math.round(p.tokensPerS), etaS: Math.round(p.etaS) };
      process.stderr.write(JSON.stringify(rec) + "\n");
      return;
    }
    if (p.valLoss !== undefined) lastVal = p.valLoss;
    const frac = p.step / p.totalSteps;
    const width = 24;
    const filled = Math.round(frac * width);
    const line =
      `[${"#".repeat(filled)}${".".repeat(width - filled)}] step ${p.step}/${p.totalSteps}` +
      (p.trainLoss !== null ? ` loss ${p.trainLoss.toFixed(4)}` : "") +
      (lastVal !== null ? ` val ${lastVal.toFixed(4)}` : "") +
      ` | ${Math.round(p.tokensPerS).toLocaleString("en-US")} tok/s | ETA ${duration(p.etaS)}`;
    if (tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      if (p.step === p.totalSteps && p.valLoss !== undefined) process.stderr.write("\n");
      return;
    }
    const every = Math.max(1, Math.ceil(p.totalSteps / 20));
    if (p.valLoss !== undefined || (p.step % every === 0 && p.step !== lastPrinted)) {
      process.stderr.write(line + "\n");
      lastPrinted = p.step;
    }
  };
}

export const command: Command = {
  summary: "train a model with a value-embedding layout into a run folder",
  usage,
  async run(argv: string[]): Promise<number> {
    const { values } = parseOptions(argv, {
      preset: { default: "tiny" },
      layout: {},
      seed: {},
      steps: {},
      out: {},
      data: {},
      backend: {},
      threads: {},
      "lr-mult": {},
      "eval-every": {},
      batch: {},
      "val-tokens": {},
      "seq-len": {},
      "micro-batch-tokens": {},
      "device-memory-gib": {},
      activations: {},
      "checkpoint-every": {},
      "keep-checkpoint": {},
      force: {},
      "json-progress": {},
      json: {},
    });
    const { train, TrainDivergedError, defaultRunFolder, describePlan } = require("../../train") as typeof import("../../train");
    const out = values.out ?? defaultRunFolder(values.preset ?? "tiny", values.layout, values.seed ?? 0);
    if (!values.out) process.stderr.write(`run folder: ${out}\n`);
    const stop = listenForStop();
    try {
      const result = await train({
        preset: values.preset,
        out,
        layout: values.layout,
        seed: values.seed,
        steps: values.steps,
        data: values.data,
        backend: values.backend,
        threads: values.threads,
        lrMult: values["lr-mult"],
        evalEvery: values["eval-every"],
        batchSize: values.batch,
        valTokens: values["val-tokens"],
        seqLen: values["seq-len"],
        microBatchTokens: values["micro-batch-tokens"],
        deviceMemoryGiB: values["device-memory-gib"],
        activations: values.activations as "keep" | "recompute" | undefined,
        checkpointEvery: values["checkpoint-every"],
        keepCheckpoint: values["keep-checkpoint"],
        force: values.force,
        signal: stop.signal,
        onPlan: (plan) => { if (!values["json-progress"]) process.stderr.write(`plan: ${describePlan(plan)}\n`); },
        onProgress: progressPrinter(values["json-progress"], () => stop.reason() === "parent gone"),
      });
      if (!result.finished) {
        if (values.json) process.stdout.write(JSON.stringify(result) + "\n");
        process.stderr.write(`${process.stderr.isTTY && !values["json-progress"] ? "\n" : ""}stopped at step ${result.stepsDone}; rerun to resume\n`);
        return stopExitCode(stop.reason() ?? "SIGINT");
      }
      if (values.json) {
        process.stdout.write(JSON.stringify(result) + "\n");
      } else if (result.skipped) {
        process.stdout.write(`${result.out}: already finished (final val_loss ${result.finalValLoss?.toFixed(6)}); nothing to do\n`);
      } else {
        process.stdout.write(
          `${result.out}: ${result.totalSteps} steps, final val_loss ${result.finalValLoss!.toFixed(6)}, ` +
            `train time ${(result.trainTimeMs / 1000).toFixed(1)} s (${result.stepAvgMs.toFixed(1)} ms/step, ` +
            `${Math.round(result.tokensPerS).toLocaleString("en-US")} tokens/s), backend ${result.backend}` +
            (result.resumedFrom !== null ? `, resumed from step ${result.resumedFrom}` : "") + "\n",
        );
      }
      return 0;
    } catch (err) {
      if (err instanceof TrainDivergedError) {
        process.stderr.write(`\nvalemb train: ${err.message}\n`);
        return 3;
      }
      throw err;
    } finally {
      stop.dispose();
    }
  },
};
