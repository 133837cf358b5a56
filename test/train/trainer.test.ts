// Trainer end to end on the shipped corpus with the smoke preset (a few seconds of training).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { LOG_LINE_RE, TRAIN_PRESETS, TrainDivergedError, train, CHECKPOINT_FILE, defaultDeviceMemoryGiB, readCheckpoint, runIdentity } from "../../src/train";
import type { Plan, TrainOptions } from "../../src/train";
import { parseRawLog } from "../../src/analysis";
import "../engine/backends-here"; // VALEMB_TEST_BACKEND → VALEMB_BACKEND for train() and the CLI children

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-train-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const base = { preset: "smoke", steps: 30, evalEvery: 10, seed: 1 } satisfies Partial<TrainOptions>;
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const valLines = (dir: string) => read(dir, "log.txt").split("\n").filter((l) => l.includes("val_loss"));
const valLosses = (dir: string) => valLines(dir).map((l) => l.split(" ")[1]);

const runA = path.join(tmp, "a");

test("smoke training: loss goes down, run folder complete, log lines parse", async () => {
  const tensors: number[] = [];
  const r = await train({ ...base, out: runA, onProgress: (p) => { if (p.valLoss === undefined) tensors.push(tf.memory().numTensors); } });
  assert.equal(r.finished, true);
  assert.equal(tensors.length, 30);
  assert.deepEqual(new Set(tensors.slice(1)).size, 1, `tensor count flat across steps: ${tensors}`);
  assert.deepEqual(r.evals.map((e) => e.step), [0, 10, 20, 30]);
  const first = r.evals[0].val_loss, last = r.evals[3].val_loss;
  assert.ok(last < first - 0.4, `val loss ${first} → ${last}`);

  const lines = read(runA, "log.txt").trimEnd().split("\n");
  assert.equal(lines.length, 30 + 4, "30 training lines + 4 validation lines");
  for (const l of lines) assert.match(l, LOG_LINE_RE);
  assert.match(lines[0], /^step:0\/30 val_loss:\d+\.\d{6} train_time:0ms step_avg:0\.00ms$/);
  assert.match(lines[1], /^step:1\/30 train_time:\d+ms step_avg:\d+\.\d\dms$/);
  // as in modded-nanogpt: the training line of step 10 comes before its validation line
  assert.match(lines[10], /^step:10\/30 train_time/);
  assert.match(lines[11], /^step:10\/30 val_loss/);
  // the analysis reads it
  const problems: unknown[] = [];
  const run = parseRawLog(read(runA, "log.txt"), "log.txt", "a", problems as never);
  assert.deepEqual(problems, []);
  assert.equal(run?.evals.length, 4);
  assert.equal(run?.evals[3].valLoss, last);

  const evals = read(runA, "evals.jsonl").trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(evals[1]), ["step", "total_steps", "val_loss", "train_time_ms", "step_avg_ms", "scalars"]);
  // the learned scalars by layer: the baseline reads tables on 0, 1, 2, 13, 14, 15; block 7 has no attention; skips leave 2, 4, 6
  const sc = evals[3].scalars, layers = Array.from({ length: 16 }, (_, i) => i);
  assert.deepEqual(layers.filter((i) => sc.lambda_ve[i] !== null), [0, 1, 2, 13, 14, 15]);
  assert.deepEqual(layers.filter((i) => sc.lambda_v[i] === null), [7]);
  assert.deepEqual(layers.filter((i) => sc.skip_w[i] !== null), [2, 4, 6]);
  assert.equal(sc.lambda_x.length, 16);
  assert.deepEqual(evals[0].scalars.lambda_ve[0], 0.5, "step 0: the init value");
  assert.ok(sc.lambda_ve.some((x: number | null) => x !== null && x !== 0.5), "trained value-embedding weights moved");
  assert.ok(run && run.evals[3].scalars === undefined, "log.txt holds no scalars");
  const meta = JSON.parse(read(runA, "meta.json"));
  for (const k of ["run", "preset", "layout", "seed", "steps", "config", "train", "backend", "threads", "versions", "git", "identity", "started", "finished"]) {
    assert.ok(k in meta, `meta.json has ${k}`);
  }
  assert.equal(meta.layout, "012..........012");
  assert.equal(meta.config.vocabSize, 2048, "the data decides the vocabulary");
  assert.equal(meta.config.eotToken, 2047);
  assert.ok(meta.finished);
  assert.equal(fs.existsSync(path.join(runA, CHECKPOINT_FILE)), false, "checkpoint removed once finished");
});

test("same command on a finished folder does nothing; another identity is refused", async () => {
  const before = read(runA, "log.txt");
  const again = await train({ ...base, out: runA });
  assert.equal(again.skipped, true);
  assert.equal(read(runA, "log.txt"), before);
  await assert.rejects(train({ ...base, seed: 2, out: runA }), /already holds a finished run with another identity .*Use a new --out, or --force/);
  assert.equal(read(runA, "log.txt"), before, "refusal writes nothing");
});

test("same seed, same backend: identical losses; killed and resumed: identical log values", async () => {
  const runB = path.join(tmp, "b");
  // 1) "killed" after step 17: checkpoint from step 10, log lines up to step 17
  const killed = await train({ ...base, out: runB, stopAfterStep: 17 });
  assert.equal(killed.finished, false);
  assert.equal(readCheckpoint(path.join(runB, CHECKPOINT_FILE)).step, 10);
  assert.match(read(runB, "log.txt").trimEnd().split("\n").pop()!, /^step:17\/30 train_time/);
  assert.equal(JSON.parse(read(runB, "meta.json")).finished, null);
  // 2) resumed, then interrupted (signal) right at step 20, before its evaluation
  const ac = new AbortController();
  const interrupted = await train({ ...base, out: runB, signal: ac.signal, onProgress: (p) => { if (p.step === 20) ac.abort(); } });
  assert.equal(interrupted.resumedFrom, 10);
  assert.equal(interrupted.stepsDone, 20);
  const ck = readCheckpoint(path.join(runB, CHECKPOINT_FILE));
  assert.equal(ck.step, 20);
  assert.equal(ck.evalDone, false);
  // 3) resumed to the end
  const done = await train({ ...base, out: runB });
  assert.equal(done.finished, true);
  assert.equal(done.resumedFrom, 20);

  assert.deepEqual(valLosses(runB), valLosses(runA));
  const steps = (dir: string) => read(dir, "log.txt").trimEnd().split("\n").map((l) => l.replace(/ train_time.*/, ""));
  assert.deepEqual(steps(runB), steps(runA), "no line lost or duplicated");
  const ev = (dir: string) => read(dir, "evals.jsonl").trimEnd().split("\n").map((l) => JSON.parse(l)).map((e) => [e.step, e.val_loss]);
  assert.deepEqual(ev(runB), ev(runA));
  assert.equal(JSON.parse(read(runB, "meta.json")).resumes.length, 2);
});

test("NaN loss: stops, keeps the last good checkpoint, says at which step", async () => {
  const out = path.join(tmp, "nan");
  await assert.rejects(
    train({ ...base, steps: 8, evalEvery: 3, out, injectNaNAtStep: 5 }),
    (e: Error) => e instanceof TrainDivergedError && e.step === 5 && e.checkpointStep === 3 && /loss NaN at step 5; last good checkpoint is step 3/.test(e.message),
  );
  assert.equal(readCheckpoint(path.join(out, CHECKPOINT_FILE)).step, 3);
  const meta = JSON.parse(read(out, "meta.json"));
  assert.equal(meta.finished, null);
  assert.equal(meta.failure.step, 5);
  assert.match(read(out, "log.txt").trimEnd().split("\n").pop()!, /^step:4\/8 train_time/);
});

test("bad input fails before anything is written", async () => {
  const out = path.join(tmp, "bad");
  const known = Object.keys(TRAIN_PRESETS);
  assert.ok(known.includes("smoke") && known.includes("tiny"));
  await assert.rejects(train({ preset: "huge", out }), new RegExp(`unknown preset "huge" \\(known: ${known.join(", ")}\\)`));
  await assert.rejects(train({ preset: "smoke", layout: "012", out }), /layout/);
  await assert.rejects(train({ preset: "smoke", layout: "01?............0", out }), /layout/);
  await assert.rejects(train({ preset: "smoke", data: path.join(tmp, "nope"), out }), /dataset folder .*nope not found/);
  await assert.rejects(train({ preset: "medium", out }), /medium preset needs --data/);
  await assert.rejects(train({ preset: "smoke", steps: 0, out }), /steps must be a positive integer/);
  // a corrupt shard
  const data = path.join(tmp, "data");
  fs.cpSync("data/fortunes", data, { recursive: true });
  const bin = path.join(data, "train.bin");
  const bytes = fs.readFileSync(bin);
  fs.writeFileSync(bin, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(train({ preset: "smoke", data, out }), /train\.bin: truncated: header says \d+ tokens/);
  bytes.writeInt32LE(42, 0);
  fs.writeFileSync(bin, bytes);
  await assert.rejects(train({ preset: "smoke", data, out }), /train\.bin: not a token shard: magic number 42/);
  assert.equal(fs.existsSync(out), false);
});

test("device memory when not told: 90 % of a CUDA GPU's (nvidia-smi), else 4 GiB; the plan and so the identity follow it", () => {
  assert.equal(defaultDeviceMemoryGiB("tensorflow-cuda", () => 81559), 71.68, "an 80 GB GPU: 0.9 × 81559 MiB, rounded down");
  assert.equal(defaultDeviceMemoryGiB("tensorflow-cuda", () => null), 4, "nvidia-smi cannot say");
  for (const b of ["tensorflow-cpu", "wasm", "webgpu", "cpu", undefined]) assert.equal(defaultDeviceMemoryGiB(b, () => 81559), 4, String(b));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-smi-"));
  const saved = process.env.PATH;
  try {
    fs.writeFileSync(path.join(dir, "nvidia-smi"), "#!/bin/sh\necho 81559\n", { mode: 0o755 });
    process.env.PATH = `${dir}${path.delimiter}${saved}`;
    // one 16K-token sequence kept does not fit 4 GiB (README), but does fit 71.68 GiB
    const planOn = (backend: string) => {
      let plan: Plan | null = null;
      runIdentity({ preset: "smoke", seqLen: 16384, out: path.join(tmp, "plan-only"), onPlan: (p) => { plan = p; } }, backend);
      return plan! as Plan;
    };
    const cuda = planOn("tensorflow-cuda"), cpu = planOn("tensorflow-cpu");
    assert.equal(cuda.deviceMemoryBytes, 71.68 * 1024 ** 3);
    assert.equal(cuda.activations, "keep");
    assert.equal(cpu.deviceMemoryBytes, 4 * 1024 ** 3);
    assert.equal(cpu.activations, "recompute");
    let told: Plan | null = null;
    runIdentity({ preset: "smoke", seqLen: 16384, out: path.join(tmp, "plan-only"), deviceMemoryGiB: 4, onPlan: (p) => { told = p; } }, "tensorflow-cuda");
    assert.equal((told! as Plan).activations, "recompute", "--device-memory-gib wins over the GPU's size");
    assert.equal(fs.existsSync(path.join(tmp, "plan-only")), false, "planning writes nothing");
  } finally {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
