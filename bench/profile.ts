// Where a training step's milliseconds go: per-kernel totals from tf.profile, and the step's wall time.
//   node --import tsx bench/profile.ts [--backend wasm|tensorflow] [--preset tiny] [--batch 16] [--steps 5] [--top 25] [--threads N]
import { parseArgs } from "node:util";
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../src/engine";
import { GPT, modelConfig } from "../src/model";
import { SpeedrunOptimizer } from "../src/optim";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    preset: { type: "string", default: "tiny" }, batch: { type: "string", default: "16" },
    steps: { type: "string", default: "5" }, top: { type: "string", default: "25" }, threads: { type: "string" },
    backend: { type: "string", default: process.env.VALEMB_BACKEND || "wasm" }, "by-shape": { type: "boolean", default: false },
  } });
  const info = await initEngine({ backend: values.backend as "wasm", threads: values.threads ? Number(values.threads) : undefined });
  const cfg = modelConfig(values.preset!);
  const B = Number(values.batch), T = cfg.seqLen, steps = Number(values.steps);
  const model = new GPT(cfg, 0);
  const opt = new SpeedrunOptimizer(model.params);
  let seed = 1;
  const rand = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
  const batch = () => Int32Array.from({ length: B * T }, () => rand() % cfg.vocabSize);
  const step = (i: number) => {
    const x = tf.tensor2d(batch(), [B, T], "int32"), y = tf.tensor2d(batch(), [B, T], "int32");
    const { loss, grads } = model.lossAndGrads(x, y);
    opt.step(grads, i, 1000);
    loss.dataSync();
    tf.dispose([x, y, loss, ...Object.values(grads)]);
  };
  step(0); step(1); // warm-up (XNNPACK operator caches, first-use allocations)
  const wall: number[] = [];
  for (let i = 0; i < steps; i++) { const t0 = performance.now(); step(i + 2); wall.push(performance.now() - t0); }
  wall.sort((a, b) => a - b);
  const prof = await tf.profile(() => step(100));
  const byName = new Map<string, { n: number; ms: number }>();
  let total = 0;
  for (const k of prof.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    const key = k.name === "BatchMatMul" ? `BMM ${k.inputShapes.map((s) => `[${s}]`).join("x")}` : k.name;
    const e = byName.get(key) ?? { n: 0, ms: 0 };
    e.n++; e.ms += ms; total += ms; byName.set(key, e);
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  // customGrad scopes ("unnamed scope") time their inner kernels too: left out of the split below
  const inScope = (name: string) => name === "unnamed scope";
  const matmul = rows.filter(([n]) => n.startsWith("BMM")).reduce((a, [, e]) => ({ n: a.n + e.n, ms: a.ms + e.ms }), { n: 0, ms: 0 });
  const other = rows.filter(([n]) => !n.startsWith("BMM") && !inScope(n)).reduce((a, [, e]) => ({ n: a.n + e.n, ms: a.ms + e.ms }), { n: 0, ms: 0 });
  console.log(`backend ${info.backend} threads ${info.threads} preset ${values.preset} B=${B} T=${T} load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`step wall ms: median ${wall[Math.floor(wall.length / 2)].toFixed(1)} (min ${wall[0].toFixed(1)}); profiled: ${prof.kernels.length} kernels, ${total.toFixed(1)} ms in kernels`);
  console.log(`split: BatchMatMul ${matmul.n} calls ${matmul.ms.toFixed(0)} ms; other kernels ${other.n} calls ${other.ms.toFixed(0)} ms; ` +
    `JS outside kernels (fused ops' passes, dataSync, tape) ≈ ${(wall[Math.floor(wall.length / 2)] - matmul.ms - other.ms).toFixed(0)} ms of the median step`);
  for (const [name, e] of rows.slice(0, Number(values.top))) console.log(`${name.padEnd(40)} ${String(e.n).padStart(5)} ${e.ms.toFixed(1).padStart(8)} ms ${(100 * e.ms / total).toFixed(1).padStart(5)}%`);
  const created = prof.kernels.filter((k) => !inScope(k.name)).reduce((a, k) => a + k.outputShapes.length, 0);
  console.log(`tensors created per step: ${created} (kernel outputs); peak ${(prof.peakBytes / 2 ** 20).toFixed(1)} MiB; numTensors ${tf.memory().numTensors}`);
  if (values["by-shape"]) {
    const shapes = new Map<string, { n: number; ms: number }>();
    for (const k of prof.kernels) {
      if (k.name === "BatchMatMul" || inScope(k.name)) continue;
      const key = `${k.name} -> [${k.outputShapes[0]}]`;
      const e = shapes.get(key) ?? { n: 0, ms: 0 };
      e.n++; e.ms += Number(k.kernelTimeMs) || 0; shapes.set(key, e);
    }
    for (const [name, e] of [...shapes.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) console.log(`${name.padEnd(50)} ${String(e.n).padStart(5)} ${e.ms.toFixed(1).padStart(8)} ms`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
