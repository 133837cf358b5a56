// The tfjs side of bench/train-vs-torch.ts: our engine as a user runs it (initEngine, GPT, the
// speedrun optimizer), driven over stdin/stdout JSON lines so the bench can alternate sides.
// argv: <config name> <threads> <data file>. Commands: {"cmd":"train","steps":n}, {"cmd":"matmul","n":1024,"reps":5},
// {"cmd":"stats"}, {"cmd":"weights","file":path}, {"cmd":"quit"}.
import * as fs from "node:fs";
import * as readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../src/engine";
import { GPT } from "../src/model";
import { SpeedrunOptimizer } from "../src/optim";
import { benchConfig } from "./configs";
import { readBatches } from "./io";

async function main(): Promise<void> {
  const [name, threadsArg, dataFile] = process.argv.slice(2);
  const info = await initEngine({ backend: process.env.VALEMB_BACKEND as "wasm" | undefined ?? "wasm", threads: Number(threadsArg) });
  const { model: cfg, batch: B } = benchConfig(name);
  const T = cfg.seqLen;
  const batches = readBatches(dataFile, B, T);
  const model = new GPT(cfg, 0);
  const opt = new SpeedrunOptimizer(model.params);
  const tensorsAtStart = tf.memory().numTensors;
  let step = 0;
  const reply = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
  reply({ ready: true, backend: info.backend, device: info.device, library: info.library, threads: info.threads, simd: info.simd, tfjs: info.tfjs, params: model.numParams(), numTensors: tensorsAtStart });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const msg = JSON.parse(line) as { cmd: string; steps?: number; n?: number; reps?: number; file?: string };
    if (msg.cmd === "train") {
      const ms: number[] = [], losses: number[] = [];
      for (let i = 0; i < msg.steps!; i++) {
        const b = batches[step % batches.length];
        const t0 = performance.now();
        const x = tf.tensor2d(b.inputs, [B, T], "int32"), y = tf.tensor2d(b.targets, [B, T], "int32");
        const { loss, grads } = model.lossAndGrads(x, y);
        opt.step(grads, step, 100_000);
        const l = loss.dataSync()[0]; // the step is done when its loss is on the host
        tf.dispose([x, y, loss, ...Object.values(grads)]);
        ms.push(performance.now() - t0);
        losses.push(l);
        step++;
      }
      reply({ ms, losses, numTensors: tf.memory().numTensors });
    } else if (msg.cmd === "matmul") {
      const n = msg.n!, a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
      const ms: number[] = [];
      for (let i = 0; i < msg.reps! + 1; i++) {
        const t0 = performance.now();
        const c = tf.matMul(a, b);
        c.dataSync();
        ms.push(performance.now() - t0);
        c.dispose();
      }
      tf.dispose([a, b]);
      reply({ ms: ms.slice(1) });
    } else if (msg.cmd === "weights") {
      // <file>.json: {name: {shape, offset}} (offsets in floats) and <file>.bin: float32 little-endian
      const w = model.getWeights(), manifest: Record<string, { shape: number[]; offset: number }> = {};
      let total = 0;
      for (const [k, v] of Object.entries(w)) { manifest[k] = { shape: v.shape, offset: total }; total += v.data.length; }
      const blob = new Float32Array(total);
      for (const [k, v] of Object.entries(w)) blob.set(v.data, manifest[k].offset);
      fs.writeFileSync(`${msg.file}.bin`, new Uint8Array(blob.buffer));
      fs.writeFileSync(`${msg.file}.json`, JSON.stringify(manifest));
      reply({ ok: true });
    } else if (msg.cmd === "stats") {
      reply({ peakRssMB: process.resourceUsage().maxRSS / 1024, numTensorsStart: tensorsAtStart, numTensors: tf.memory().numTensors });
    } else if (msg.cmd === "quit") {
      break;
    }
  }
  model.dispose();
  opt.dispose();
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
