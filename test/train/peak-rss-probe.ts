// Test-only child process: trains two steps of a config on one backend and prints, as one JSON line,
// the growth of the process's peak resident memory (VmHWM) over its resident memory before the model
// existed, next to the planner's peak, for test/train/plan.test.ts. argv[2]: JSON of the case.
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../src/engine";
import { GPT, modelConfig } from "../../src/model";
import type { Activations } from "../../src/model";
import { planTraining, speedrunOptimizer } from "../../src/train";

const kib = (field: string) => Number(/(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith(field))!)![1]) * 1024;

(async () => {
  const { backend, overrides, B, activations } = JSON.parse(process.argv[2]) as { backend: string; overrides: object; B: number; activations: Activations };
  await initEngine({ backend: backend as "tensorflow" });
  tf.tidy(() => tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync()); // the runtime's own start-up allocations
  const before = kib("VmRSS:");
  const cfg = modelConfig("smoke", overrides);
  const model = new GPT(cfg, 0);
  const opt = speedrunOptimizer(model.params, { lrMult: 1, cooldownFrac: 0.7 });
  const x = tf.tensor2d(Int32Array.from({ length: B * cfg.seqLen }, (_, i) => (i * 7 + (i >> 5)) % cfg.vocabSize), [B, cfg.seqLen], "int32");
  const start = Date.now();
  for (let step = 0; step < 2; step++) {
    const { loss, grads } = model.lossAndGrads(x, x, activations);
    opt.step(grads, step, 10);
    tf.dispose([loss, ...Object.values(grads)]);
  }
  const plan = planTraining({ config: cfg, batchSize: B, microBatchTokens: B * cfg.seqLen, deviceMemoryBytes: 2 ** 40, tflops: 1, activations });
  process.stdout.write(JSON.stringify({ rssGrowth: kib("VmHWM:") - before, planned: plan.peakBytes, ms: Date.now() - start }) + "\n");
})();
