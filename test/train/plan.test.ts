// The planner against measured peaks: tf.profile's peakBytes of one full training step (forward,
// backward, optimizer) on the wasm backend, from smoke up to a modest config, within ±25 %; and its
// arithmetic (parameter count, micro-batch choice, refusal) against the model itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { useBackend } from "../engine/compare";
import { GPT, modelConfig } from "../../src/model";
import type { Activations, GPTConfig } from "../../src/model";
import { parameterCounts, planTraining, speedrunOptimizer } from "../../src/train";
import type { Plan } from "../../src/train";

async function measuredPeak(cfg: GPTConfig, B: number, activations: Activations = "keep"): Promise<number> {
  const model = new GPT(cfg, 0);
  const opt = speedrunOptimizer(model.params, { lrMult: 1, cooldownFrac: 0.7 });
  const T = cfg.seqLen;
  const x = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 7 + (i >> 5)) % cfg.vocabSize), [B, T], "int32");
  const step = () => {
    const { loss, grads } = model.lossAndGrads(x, x, activations);
    opt.step(grads, 0, 10);
    tf.dispose([loss, ...Object.values(grads)]);
  };
  try {
    step(); // optimizer state exists from here on, as in training
    return (await tf.profile(step)).peakBytes;
  } finally {
    opt.dispose();
    model.dispose();
    x.dispose();
  }
}

test("planned peak memory is within ±25 % of the measured peak, smoke to a modest config", async () => {
  await initEngine({ backend: "wasm" });
  const cases: { what: string; cfg: GPTConfig; B: number; activations?: Activations }[] = [
    { what: "smoke, 4 × 32", cfg: modelConfig("smoke"), B: 4 },
    { what: "tiny, 2 × 128 (one-block attention)", cfg: modelConfig("tiny"), B: 2 },
    { what: "smoke, 1 × 512 (recomputing attention, 4 blocks)", cfg: modelConfig("smoke", { seqLen: 512 }), B: 1 },
    { what: "dim 96, 3 heads, 1 × 256", cfg: modelConfig("smoke", { dim: 96, nHead: 3, headDim: 32, seqLen: 256 }), B: 1 },
    { what: "recomputed activations: tiny, 2 × 128", cfg: modelConfig("tiny"), B: 2, activations: "recompute" },
    { what: "recomputed activations: smoke, 1 × 2048", cfg: modelConfig("smoke", { seqLen: 2048 }), B: 1, activations: "recompute" },
    { what: "recomputed activations: dim 96, 3 heads, 2 × 512", cfg: modelConfig("smoke", { dim: 96, nHead: 3, headDim: 32, seqLen: 512 }), B: 2, activations: "recompute" },
  ];
  for (const { what, cfg, B, activations } of cases) {
    const measured = await measuredPeak(cfg, B, activations);
    const plan = planTraining({ config: cfg, batchSize: B, microBatchTokens: B * cfg.seqLen, deviceMemoryBytes: 2 ** 40, tflops: 1, activations });
    const ratio = plan.peakBytes / measured;
    if (process.env.VALEMB_PLAN_VERBOSE) console.log(what, ratio.toFixed(3));
    assert.ok(ratio >= 0.75 && ratio <= 1.25, `${what}: planned ${plan.peakBytes} bytes, measured ${measured} (ratio ${ratio.toFixed(3)})`);
  }
});

test("parameter count equals the model's; the micro-batch is the largest whole-sequence divisor that fits", async () => {
  await initEngine({ backend: "wasm" });
  for (const layout of ["012..........012", "................"]) {
    const cfg = modelConfig("smoke", { layout });
    const m = new GPT(cfg, 0);
    assert.equal(parameterCounts(cfg).total, m.numParams(), layout);
    m.dispose();
  }
  const cfg = modelConfig("tiny");
  const full = planTraining({ config: cfg, batchSize: 16, deviceMemoryBytes: 2 ** 40, tflops: 1 });
  assert.equal(full.microBatchTokens, 16 * 128);
  assert.equal(full.accumulationSteps, 1);
  // room for a bit more than a quarter of the activations: 4 sequences (a divisor of 16), not 5
  const quarter = planTraining({ config: cfg, batchSize: 16, microBatchTokens: 4 * 128, deviceMemoryBytes: 2 ** 40, tflops: 1 });
  const tight = planTraining({ config: cfg, batchSize: 16, deviceMemoryBytes: quarter.peakBytes + 1000, tflops: 1 });
  assert.deepEqual([tight.microBatchTokens, tight.accumulationSteps, tight.fits], [512, 4, true]);
  const none = planTraining({ config: cfg, batchSize: 16, deviceMemoryBytes: 1e6, tflops: 1 });
  assert.deepEqual([none.fits, none.largestFittingMicroBatchTokens], [false, null]);
  assert.throws(() => planTraining({ config: cfg, batchSize: 16, microBatchTokens: 3 * 128, deviceMemoryBytes: 2 ** 40, tflops: 1 }),
    /whole number of 128-token sequences that divides the step's 16 sequences/);
  assert.equal(full.estimatedStepSeconds, full.flopsPerStep / 1e12);
});

test("valemb plan --json prints one object with the planner's fields; exit 1 when it does not fit", () => {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const plan = (...args: string[]) => spawnSync(process.execPath, ["bin/valemb.js", "plan", ...args], { encoding: "utf8", timeout: 60_000 });
  const r = plan("--preset", "tiny", "--device-memory-gib", "0.5", "--tflops", "50", "--json");
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  for (const key of ["params", "paramBytes", "optimizerBytes", "activationBytesPerMicroBatch", "peakBytes", "microBatchTokens", "fits", "flopsPerStep", "estimatedStepSeconds"]) {
    assert.ok(key in p, `missing ${key}`);
  }
  assert.ok(p.fits && p.peakBytes <= 0.5 * 1024 ** 3 && p.microBatchTokens < 2048, `a smaller micro-batch that fits 0.5 GiB: ${r.stdout}`);
  const big = plan("--preset", "tiny", "--micro-batch-tokens", "2048", "--device-memory-gib", "0.5", "--json");
  assert.equal(big.status, 1);
  assert.equal(JSON.parse(big.stdout).fits, false);
  const bad = plan("--preset", "tiny", "--micro-batch-tokens", "100");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--micro-batch-tokens: micro-batch of 100 tokens: must be a whole number of 128-token sequences/);

  // --data: the dataset's vocabulary, so the plan is the one `valemb train` prints for the same run
  const onData = plan("--preset", "smoke", "--seq-len", "16384", "--device-memory-gib", "4", "--data", "data/fortunes", "--json");
  assert.equal(onData.status, 0, onData.stderr);
  const p2 = JSON.parse(onData.stdout);
  assert.equal(p2.vocabSize, 2048);
  assert.equal(JSON.parse(plan("--preset", "smoke", "--json").stdout).vocabSize, 512, "without --data: the preset model's");
  const { runIdentity } = require("../../src/train") as typeof import("../../src/train");
  let trained: Plan | null = null;
  runIdentity({ preset: "smoke", seqLen: 16384, deviceMemoryGiB: 4, out: "/nonexistent/plan-only", onPlan: (x) => { trained = x; } }, "tensorflow-cpu");
  for (const k of ["peakBytes", "microBatchTokens", "activations", "params"] as const) assert.equal(p2[k], (trained! as Plan)[k], k);
  const missing = plan("--preset", "smoke", "--data", "no-such-folder");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /dataset folder no-such-folder not found/);
});

test("medium on an 80 GiB device: keeping activations does not fit one 64K sequence; recomputing fits a micro-batch", () => {
  const cfg = modelConfig("medium"), device = 80 * 1024 ** 3;
  const kept = planTraining({ config: cfg, batchSize: 8, deviceMemoryBytes: device, tflops: 100, activations: "keep" });
  assert.equal(kept.fits, false);
  assert.equal(kept.largestFittingMicroBatchTokens, null);
  const auto = planTraining({ config: cfg, batchSize: 8, deviceMemoryBytes: device, tflops: 100 });
  assert.equal(auto.activations, "recompute");
  assert.ok(auto.fits && auto.peakBytes <= device, `recomputing: peak ${auto.peakBytes} bytes`);
  assert.equal(auto.microBatchTokens % cfg.seqLen, 0);
  assert.equal(auto.accumulationSteps * auto.microBatchTokens, 8 * cfg.seqLen);
  assert.ok(auto.estimatedStepSeconds > auto.flopsPerStep / 100e12, "recomputing costs a forward more than the model FLOPs");
});

// The process's peak resident memory, in a child per config (test/train/peak-rss-probe.ts), on the
// native TensorFlow backend. With recomputation, glibc's dynamic mmap threshold keeps freed blocks
// in the heap and RSS runs 1.4-1.6x the live tensors (README "Long sequences on the CPU"); a fixed
// threshold makes RSS follow what is live, which is what the planner counts.
test("planned peak memory is within ±25 % of the process's peak RSS on tensorflow (kept and recomputed activations)", async (t) => {
  const skip = await useBackend("tensorflow");
  if (skip) return t.skip(`tensorflow backend not available: ${skip}`);
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const cases = [
    { what: "smoke, 4 × 2048, kept", probe: { overrides: { seqLen: 2048 }, B: 4, activations: "keep" }, env: {} },
    { what: "smoke, 2 × 8192, recomputed", probe: { overrides: { seqLen: 8192 }, B: 2, activations: "recompute" }, env: { MALLOC_MMAP_THRESHOLD_: "1048576" } },
    { what: "dim 128, 4 heads, 2 × 4096, recomputed", probe: { overrides: { seqLen: 4096, dim: 128, nHead: 4, headDim: 32 }, B: 2, activations: "recompute" }, env: { MALLOC_MMAP_THRESHOLD_: "1048576" } },
  ];
  for (const { what, probe, env } of cases) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "test/train/peak-rss-probe.ts", JSON.stringify({ backend: "tensorflow", ...probe })],
      { encoding: "utf8", timeout: 600_000, env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    const { rssGrowth, planned } = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const ratio = planned / rssGrowth;
    if (process.env.VALEMB_PLAN_VERBOSE) console.log(what, ratio.toFixed(3));
    assert.ok(ratio >= 0.75 && ratio <= 1.25, `${what}: planned ${planned} bytes, peak RSS grew by ${rssGrowth} (ratio ${ratio.toFixed(3)})`);
  }
});
