// A short training benchmark of the GPT on synthetic tokens: prints the device, what ran, ms/step,
// tokens/s, peak memory, the planner's peak for the same step, and model FLOP utilization. Run by scripts/gpu-check.sh (on a GPU machine) or directly:
//   node --import tsx scripts/gpu/bench.ts --backend webgpu --preset medium --layers 4 --seq 512
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { initWebGPU, probeWebGPU, releaseWebGPU } from "../../src/engine/webgpu";
import { initEngine, type BackendRequest } from "../../src/engine";
import { GPT, modelConfig, parseLayout, formatLayout, type GPTConfig } from "../../src/model";
import { SpeedrunOptimizer } from "../../src/optim";
import { flopsPerStep, planTraining } from "../../src/train/plan";

const USAGE = `usage: bench.ts [--backend webgpu|tensorflow|wasm|cpu] [--preset medium|one-gpu|tiny|smoke] [--layers N]
                [--seq T] [--batch B] [--steps S] [--max-seconds S] [--allow-fallback] [--peak-tflops F]
  --peak-tflops  the device's peak, for MFU (default 494.7: H100/H200 SXM dense TF32, what fp32 matmuls run as)`;

const { values: opt } = parseArgs({
  options: {
    backend: { type: "string", default: "webgpu" },
    preset: { type: "string", default: "medium" },
    layers: { type: "string" },
    seq: { type: "string", default: "1024" },
    batch: { type: "string", default: "1" },
    steps: { type: "string", default: "5" },
    "max-seconds": { type: "string", default: "120" },
    "allow-fallback": { type: "boolean", default: false },
    "peak-tflops": { type: "string", default: "494.7" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) { console.log(USAGE); process.exit(0); }

function int(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) { console.error(`bench: --${name} must be a positive integer (got ${text})\n${USAGE}`); process.exit(2); }
  return n;
}

/**
 * The preset cut to `n` blocks: value embeddings of its first and last blocks kept (so the table count
 * stays), skips and block lists that point past `n` dropped.
 */
function firstBlocks(cfg: GPTConfig, n: number): GPTConfig {
  if (n >= cfg.nLayer) return cfg;
  const base = parseLayout(cfg.layout, { nLayer: cfg.nLayer }).layers;
  const layers = Array.from({ length: n }, (_, i) => (i < Math.ceil(n / 2) ? base[i] : base[cfg.nLayer - (n - i)]));
  return {
    ...cfg, nLayer: n,
    layout: formatLayout({ layers }),
    skips: cfg.skips.filter((s) => s.to < n && s.from < n),
    noAttention: cfg.noAttention.filter((i) => i < n),
    windows: { ...cfg.windows, longBlocks: cfg.windows.longBlocks.filter((i) => i < n) },
  };
}

const gib = (bytes: number) => bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function startBackend(name: string): Promise<string> {
  if (name === "webgpu") {
    const probe = await probeWebGPU();
    if (!probe.ok) throw new Error(`no WebGPU adapter: ${probe.reason}`);
    const a = probe.adapter!;
    console.log(`adapter: ${a.description || a.device} (vendor ${a.vendor}, ${a.architecture || "?"}${a.isFallbackAdapter ? ", FALLBACK/software" : ""})`);
    console.log(`limits: maxBufferSize ${gib(a.limits.maxBufferSize)}, maxStorageBufferBindingSize ${gib(a.limits.maxStorageBufferBindingSize)}`);
    if (a.isFallbackAdapter && !opt["allow-fallback"]) throw new Error("only a software adapter; pass --allow-fallback to benchmark it anyway");
    await initWebGPU();
    return a.description || a.device;
  }
  const info = await initEngine({ backend: name as BackendRequest }); // tensorflow = tfjs-node(-gpu)
  return `${info.backend}${info.backend === "wasm" ? ` (${info.threads} threads)` : ""}`;
}

function synthetic(n: number, vocab: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % vocab; });
}

async function main(): Promise<number> {
  const base = modelConfig(opt.preset!);
  const layers = opt.layers ? int("layers", opt.layers) : base.nLayer;
  const T = int("seq", opt.seq), B = int("batch", opt.batch), steps = int("steps", opt.steps);
  const maxMs = int("max-seconds", opt["max-seconds"]) * 1000;
  const cfg = { ...firstBlocks(base, layers), seqLen: Math.max(T, 1) };

  const device = await startBackend(opt.backend!);
  const model = new GPT(cfg, 0);
  const nParams = model.numParams();
  console.log(`config: backend=${tf.getBackend()} preset=${opt.preset} layers=${cfg.nLayer}/${base.nLayer} dim=${cfg.dim} ` +
    `heads=${cfg.nHead}x${cfg.headDim} seq=${T} batch=${B} vocab=${cfg.vocabSize} params=${(nParams / 1e6).toFixed(1)}M layout=${cfg.layout}`);
  console.log("step: forward + backward + speedrun optimizer (Adam + Muon), synthetic tokens");
  const optimizer = new SpeedrunOptimizer(model.params);

  const toks = synthetic(B * (T + 1) * steps, cfg.vocabSize, 1234);
  const times: number[] = [];
  let peakGpu = 0, peakRss = 0, lastLoss = NaN;
  const t0 = performance.now();
  for (let step = 0; step < steps; step++) {
    const start = performance.now();
    const slice = (off: number) => {
      const out = new Int32Array(B * T);
      for (let b = 0; b < B; b++) out.set(toks.subarray((step * B + b) * (T + 1) + off, (step * B + b) * (T + 1) + off + T), b * T);
      return tf.tensor2d(out, [B, T], "int32");
    };
    const x = slice(0), y = slice(1);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(x, y));
      const byName: Record<string, tf.Tensor> = {};
      for (const p of model.params) byName[p.name] = grads[p.variable.name];
      optimizer.step(byName, step, 1000);
      return value;
    });
    lastLoss = (await loss.data())[0]; // waits for the GPU
    tf.dispose([loss, x, y]);
    const ms = performance.now() - start;
    times.push(ms);
    const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPUAllocated?: number };
    peakGpu = Math.max(peakGpu, mem.numBytesInGPUAllocated ?? mem.numBytes);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(`step ${step + 1}/${steps}: ${ms.toFixed(1)} ms  loss ${lastLoss.toFixed(4)}  tensors ${mem.numTensors}`);
    if (performance.now() - t0 > maxMs && step + 1 < steps) { console.log(`stopping: --max-seconds ${maxMs / 1000} reached`); break; }
  }
  const steady = times.length > 1 ? times.slice(1) : times; // the first step compiles the shaders
  const msPerStep = steady.reduce((a, b) => a + b, 0) / steady.length;
  const result = {
    backend: tf.getBackend(), device, preset: opt.preset, layers: cfg.nLayer, seq: T, batch: B, params: nParams,
    steps: times.length, firstStepMs: +times[0].toFixed(1), msPerStep: +msPerStep.toFixed(1),
    tokensPerS: +((B * T * 1000) / msPerStep).toFixed(1), peakBackendBytes: peakGpu, peakRssBytes: peakRss, lastLoss,
    plannedPeakBytes: planTraining({ config: cfg, batchSize: B, microBatchTokens: B * T, deviceMemoryBytes: 2 ** 50, tflops: 1 }).peakBytes,
    tflopsAchieved: 0, mfu: 0,
  };
  const peakTflops = Number(opt["peak-tflops"]);
  result.tflopsAchieved = +(flopsPerStep(cfg, B * T) / (msPerStep / 1000) / 1e12).toFixed(3);
  result.mfu = +(result.tflopsAchieved / peakTflops).toFixed(4);
  console.log(`result: ${result.msPerStep} ms/step, ${result.tokensPerS} tokens/s (steps 2..${times.length}; first step ${result.firstStepMs} ms), ` +
    `peak ${tf.getBackend() === "webgpu" ? "GPU buffers" : "tensor bytes"} ${gib(peakGpu)} (planner: ${gib(result.plannedPeakBytes)}), peak RSS ${gib(peakRss)}, ` +
    `${result.tflopsAchieved} TFLOP/s = MFU ${(100 * result.mfu).toFixed(2)}% of ${peakTflops} TFLOP/s`);
  console.log(`RESULT ${JSON.stringify(result)}`);
  optimizer.dispose();
  model.dispose();
  if (opt.backend === "webgpu") releaseWebGPU();
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
