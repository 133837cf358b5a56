import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOG_LINE_RE, evalRecord, formatTrainLine, formatValLine, readCheckpoint, writeCheckpoint, TRAIN_PRESETS } from "../../src/train";

test("log lines are modded-nanogpt's, byte for byte", () => {
  assert.equal(formatValLine(125, 400, 4.32568, 27923.4), "step:125/400 val_loss:4.325680 train_time:27923ms step_avg:223.39ms");
  assert.equal(formatTrainLine(126, 400, 28150), "step:126/400 train_time:28150ms step_avg:223.41ms");
  assert.equal(formatValLine(0, 400, 7.5, 0), "step:0/400 val_loss:7.500000 train_time:0ms step_avg:0.00ms");
});

test("the line regex reads our lines and the real record log", () => {
  const m = LOG_LINE_RE.exec(formatValLine(125, 400, 4.32568, 27923));
  assert.deepEqual(m?.slice(1), ["125", "400", "4.325680", "27923", "223.38"]);
  const t = LOG_LINE_RE.exec(formatTrainLine(126, 400, 28150));
  assert.equal(t?.[3], undefined);
  const ref = "../shared/reference-logs/record-2025-08-28-two-new-value-embeddings.txt";
  if (!fs.existsSync(ref)) return; // reference logs are optional
  const lines = fs.readFileSync(ref, "utf8").split("\n").filter((l) => l.startsWith("step:"));
  assert.ok(lines.length > 5000);
  for (const l of lines) assert.match(l, LOG_LINE_RE);
});

test("evals.jsonl record has the agreed fields", () => {
  assert.deepEqual(evalRecord(125, 400, 4.3256801, 27923.4), { step: 125, total_steps: 400, val_loss: 4.32568, train_time_ms: 27923, step_avg_ms: 223.39 });
  const scalars = { lambda_ve: [0.5, null], lambda_v: [0.5, 0.4], lambda_x: [1, 1], lambda_x0: [0, 0.1], skip_w: [null, 1] };
  assert.deepEqual(evalRecord(10, 400, 5, 100, scalars).scalars, scalars);
});

test("checkpoint round trip is exact; corrupt files are named", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-ckpt-"));
  try {
    const f = path.join(dir, "checkpoint.ckpt");
    const w = Float32Array.from([1.5, -2, Math.PI, 1e-30]);
    const state = {
      identity: "abc", step: 50, trainTimeMs: 1234.5, evalDone: true, loader: { file: 0, pos: 4096, epoch: 1 }, rng: { seed: 3 },
      logBytes: 100, evalsBytes: 20, weights: { "a.b": { shape: [2, 2], data: w } }, optimizer: { "a.b.m": { shape: [3], data: Float32Array.from([7, 8, 9]) } },
    };
    writeCheckpoint(f, state);
    const back = readCheckpoint(f);
    assert.deepEqual(back, state);
    assert.deepEqual(fs.readdirSync(dir), ["checkpoint.ckpt"]);
    const full = fs.readFileSync(f);
    fs.writeFileSync(f, full.subarray(0, full.length - 4));
    assert.throws(() => readCheckpoint(f), /checkpoint\.ckpt: truncated checkpoint/);
    fs.writeFileSync(f, "garbage!");
    assert.throws(() => readCheckpoint(f), /not a valemb checkpoint/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("tiny preset is FINDINGS §5's setting, shortened to 100 steps for the sweep", () => {
  assert.deepEqual(
    { b: TRAIN_PRESETS.tiny.batchSize, s: TRAIN_PRESETS.tiny.steps, e: TRAIN_PRESETS.tiny.evalEvery, lr: TRAIN_PRESETS.tiny.lrMult },
    { b: 16, s: 100, e: 5, lr: 4 },
  );
});
