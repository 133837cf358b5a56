// A hash of the losses and final weights of a few tiny training steps: a kernel change that claims to
// be bit-identical must leave it unchanged on the same backend and thread count.
//   node --import tsx bench/fingerprint.ts [--preset tiny] [--steps 3] [--threads 2] [--backend wasm]
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initEngine, type BackendRequest } from "../src/engine";
import { GPT, modelConfig } from "../src/model";
import { SpeedrunOptimizer } from "../src/optim";
import { syntheticBatches } from "./data";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    preset: { type: "string", default: "tiny" }, steps: { type: "string", default: "3" },
    threads: { type: "string" }, backend: { type: "string", default: "wasm" }, batch: { type: "string", default: "16" },
  } });
  const info = await initEngine({ backend: values.backend as BackendRequest, threads: values.threads ? Number(values.threads) : undefined });
  const cfg = modelConfig(values.preset!), B = Number(values.batch), steps = Number(values.steps);
  const model = new GPT(cfg, 0), opt = new SpeedrunOptimizer(model.params);
  const batches = syntheticBatches(cfg.vocabSize, cfg.eotToken, B, cfg.seqLen, steps, 1);
  const hash = createHash("sha256"), losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = tf.tensor2d(batches[i].inputs, [B, cfg.seqLen], "int32"), y = tf.tensor2d(batches[i].targets, [B, cfg.seqLen], "int32");
    const { loss, grads } = model.lossAndGrads(x, y);
    opt.step(grads, i, 1000);
    const l = loss.dataSync() as Float32Array;
    losses.push(l[0]);
    hash.update(new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
    tf.dispose([x, y, loss, ...Object.values(grads)]);
  }
  for (const p of model.params) { const d = p.variable.dataSync() as Float32Array; hash.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)); }
  console.log(JSON.stringify({ backend: info.backend, threads: info.threads, preset: values.preset, steps, losses, sha256: hash.digest("hex").slice(0, 16) }));
}
main().catch((e) => { console.error(e); process.exit(1); });
