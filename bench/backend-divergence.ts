// npx tsx bench/backend-divergence.ts [--steps 2] [--backends wasm,tensorflow]
// Where two backends part on the `tiny-long` training (seed 0, the loader's first batches): trains the
// same steps on each and prints, per step, the loss and every parameter whose gradient or updated
// value differs by more than 1e-3 relative (max |a − b| / max |a|), with the size of that gradient.
// Found: the learned scalars' gradients at step 2 are ~1e-9, so Adam (eps 1e-10) turns their
// rounding noise into full-size steps, and the two backends' trajectories part there.
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../src/engine";
import { GPT, modelConfig } from "../src/model";
import { DEFAULT_DATA_DIR, TRAIN_PRESETS, speedrunOptimizer } from "../src/train";
import { TokenLoader, openDataset } from "../src/data";

type Snapshot = Record<string, Float32Array>;

async function trainOn(backend: string, steps: number): Promise<{ losses: number[]; grads: Snapshot[]; weights: Snapshot[] }> {
  await initEngine({ backend: backend as "wasm" });
  const preset = TRAIN_PRESETS["tiny-long"], ds = openDataset(DEFAULT_DATA_DIR);
  const cfg = modelConfig(preset.model, { vocabSize: ds.vocabSize, eotToken: ds.eotToken });
  const model = new GPT(cfg, 0), opt = speedrunOptimizer(model.params, { lrMult: preset.lrMult, cooldownFrac: preset.cooldownFrac });
  const loader = new TokenLoader(ds.trainFiles, preset.batchSize, cfg.seqLen);
  const out = { losses: [] as number[], grads: [] as Snapshot[], weights: [] as Snapshot[] };
  for (let step = 0; step < steps; step++) {
    const b = loader.next(), shape: [number, number] = [preset.batchSize, cfg.seqLen];
    const x = tf.tensor2d(b.inputs, shape, "int32"), y = tf.tensor2d(b.targets, shape, "int32");
    model.setProgress(step, preset.steps);
    const { loss, grads } = model.lossAndGrads(x, y);
    out.losses.push((await loss.data())[0]);
    out.grads.push(Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array])));
    opt.step(grads, step, preset.steps);
    tf.dispose([x, y, loss, ...Object.values(grads)]);
    out.weights.push(Object.fromEntries(model.params.map((p) => [p.name, p.variable.dataSync() as Float32Array])));
  }
  opt.dispose();
  model.dispose();
  return out;
}

function differing(a: Snapshot, b: Snapshot): string[] {
  return Object.keys(a).flatMap((k) => {
    let d = 0, s = 0;
    for (let i = 0; i < a[k].length; i++) { d = Math.max(d, Math.abs(a[k][i] - b[k][i])); s = Math.max(s, Math.abs(a[k][i])); }
    return d > 1e-3 * Math.max(s, 1e-30) ? [`${k} (relative ${(d / s).toExponential(2)}, max |value| ${s.toExponential(2)})`] : [];
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { steps: { type: "string", default: "2" }, backends: { type: "string", default: "wasm,tensorflow" } } });
  const [first, second] = values.backends!.split(",");
  const steps = Number(values.steps);
  const a = await trainOn(first, steps), b = await trainOn(second, steps);
  for (let s = 0; s < steps; s++) {
    console.log(`step ${s + 1}: loss ${first} ${a.losses[s].toFixed(7)}, ${second} ${b.losses[s].toFixed(7)}`);
    console.log(`  gradients that differ: ${differing(a.grads[s], b.grads[s]).join("; ") || "none"}`);
    console.log(`  weights after the update that differ: ${differing(a.weights[s], b.weights[s]).join("; ") || "none"}`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
