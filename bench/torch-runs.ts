// npx tsx bench/torch-runs.ts [--section adding --variants baseline,add-2 --seeds 5 --python .venv/bin/python --threads 1] [--compare]
// The framework check of issue 16: the section's variants trained in PyTorch (bench/torch_train.py) from
// the same initial weights, batches and validation set as `valemb train --preset tiny-long`, into
// data/runs-tiny-long-torch/<section>/<variant>/seed-<n>/ in valemb's run-folder format. Seed-major;
// finished runs are skipped, so rerunning the command resumes.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { TokenLoader, loadValidationSet, openDataset } from "../src/data";
import { frameworkComparison, frameworkTable, getSection, readRunMeta, runDir, sectionResults, selectVariants, type SectionSpec, type Variant } from "../src/experiments";
import { toText } from "../src/analysis";
import { GPT, modelConfig } from "../src/model";
import { DEFAULT_DATA_DIR, TRAIN_PRESETS } from "../src/train";
import { writeBatches } from "./io";

const ROOT = path.resolve(__dirname, "..");
const PRESET = "tiny-long";

/** The files one PyTorch run reads: initial weights as src/model makes them, the loader's batches, the validation set. */
async function writeInputs(dir: string, layout: string, seed: number, steps: number) {
  const preset = { ...TRAIN_PRESETS[PRESET], steps };
  const dataset = openDataset(DEFAULT_DATA_DIR);
  const config = modelConfig(preset.model, { vocabSize: dataset.vocabSize, eotToken: dataset.eotToken, layout });
  const model = new GPT(config, seed);
  const w = await model.getWeightsAsync();
  model.dispose();
  const manifest: Record<string, { shape: number[]; offset: number }> = {};
  let total = 0;
  for (const [name, t] of Object.entries(w)) { manifest[name] = { shape: t.shape, offset: total }; total += t.data.length; }
  const blob = new Float32Array(total);
  for (const [name, t] of Object.entries(w)) blob.set(t.data, manifest[name].offset);
  const weights = path.join(dir, "weights");
  fs.writeFileSync(`${weights}.bin`, new Uint8Array(blob.buffer));
  fs.writeFileSync(`${weights}.json`, JSON.stringify(manifest));
  const loader = new TokenLoader(dataset.trainFiles, preset.batchSize, config.seqLen);
  const trainBatches = path.join(dir, "train.i32"), valBatches = path.join(dir, "val.i32");
  writeBatches(trainBatches, Array.from({ length: preset.steps }, () => loader.next()));
  writeBatches(valBatches, loadValidationSet(dataset.valFiles, preset.valTokens, preset.batchSize, config.seqLen).batches);
  return {
    config, weights, trainBatches, valBatches, steps: preset.steps,
    train: { batchSize: preset.batchSize, seqLen: config.seqLen, evalEvery: preset.evalEvery, valTokens: preset.valTokens, lrMult: preset.lrMult, cooldownFrac: preset.cooldownFrac, optimizer: "muon+adam (PyTorch)" },
    data: { dir: path.relative(ROOT, dataset.dir), hash: dataset.hash, vocabSize: dataset.vocabSize },
  };
}

/** Final losses and paired differences of both frameworks side by side, and whether they agree. */
function compare(spec: SectionSpec, variants: Variant[], tfjsRoot: string, torchRoot: string): number {
  const ours = sectionResults(spec, { root: tfjsRoot, variants }), theirs = sectionResults(spec, { root: torchRoot, variants });
  const rows = frameworkComparison(ours, theirs);
  console.log(`${spec.name}, ${PRESET}: tfjs runs under ${path.relative(ROOT, tfjsRoot)}, PyTorch runs under ${path.relative(ROOT, torchRoot)} (final validation loss; Δ = variant − baseline, paired by seed)`);
  console.log(toText(frameworkTable(rows), { digits: 4 }));
  for (const r of rows) {
    if (r.frameworkDiff !== null && r.seedStd !== null) {
      console.log(`${r.variant}: tfjs − PyTorch ${r.frameworkDiff.toFixed(4)} over ${r.seeds.length} seeds, seed std ${r.seedStd.toFixed(4)}: ${Math.abs(r.frameworkDiff) <= r.seedStd ? "within" : "outside"} the seed noise`);
    }
    if (r.oursVsBaseline && r.theirsVsBaseline) {
      const same = Math.sign(r.oursVsBaseline.mean) === Math.sign(r.theirsVsBaseline.mean);
      console.log(`${r.variant} vs baseline: tfjs ${r.oursVsBaseline.mean.toFixed(4)} (p ${r.oursVsBaseline.p.toFixed(3)}), PyTorch ${r.theirsVsBaseline.mean.toFixed(4)} (p ${r.theirsVsBaseline.p.toFixed(3)}): ${same ? "same sign" : "opposite signs"}`);
    }
  }
  return 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      section: { type: "string", default: "adding" }, variants: { type: "string", default: "baseline,add-2" }, seeds: { type: "string", default: "5" },
      python: { type: "string", default: path.join(ROOT, ".venv/bin/python") }, threads: { type: "string", default: "1" },
      root: { type: "string", default: path.join(ROOT, `data/runs-${PRESET}-torch`) },
      steps: { type: "string", default: String(TRAIN_PRESETS[PRESET].steps) }, // fewer only to try the pipeline
      "eval-every": { type: "string", default: String(TRAIN_PRESETS[PRESET].evalEvery) },
      compare: { type: "boolean", default: false }, // print tfjs vs PyTorch for what both finished, train nothing
      "tfjs-root": { type: "string", default: path.join(ROOT, `data/runs-${PRESET}`) },
    },
  });
  const seeds = Number(values.seeds), threads = Number(values.threads), steps = Number(values.steps), evalEvery = Number(values["eval-every"]);
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(evalEvery) || evalEvery < 1) throw new Error(`--steps, --eval-every: expected positive integers`);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds: expected a positive integer, got "${values.seeds}"`);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got "${values.threads}"`);
  if (!fs.existsSync(values.python!)) throw new Error(`--python: ${values.python} not found (scripts/setup/python-venv.sh installs torch into .venv)`);
  await tf.setBackend("cpu");
  const spec = getSection(values.section!);
  const variants = selectVariants(spec, values.variants);
  if (values.compare) return compare(spec, variants, values["tfjs-root"]!, values.root!);
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  for (let seed = 0; seed < seeds; seed++) {
    for (const v of variants) {
      const out = runDir(values.root!, spec.name, v.name, seed);
      if (readRunMeta(out)?.finished) { process.stderr.write(`${v.name} seed-${seed}: finished, skipped\n`); continue; }
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-torch-run-"));
      try {
        const inputs = await writeInputs(tmp, v.layout, seed, steps);
        inputs.train.evalEvery = evalEvery;
        const job = path.join(tmp, "job.json");
        fs.writeFileSync(job, JSON.stringify({ ...inputs, preset: PRESET, seed, threads, out }));
        const t0 = Date.now();
        process.stderr.write(`${new Date().toISOString()} ${v.name} seed-${seed}: training in PyTorch (${threads} thread)…\n`);
        const r = spawnSync(values.python!, [path.join(__dirname, "torch_train.py"), job], { env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${v.name} seed-${seed}: torch_train.py exited ${r.status ?? r.signal}`);
        process.stderr.write(`${v.name} seed-${seed}: ${r.stdout.trim()} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
