// `valemb doctor`: which backend the engine picks here, how it is set up, and why not a better one.
import type { Command } from "../command";
import { parseOptions } from "../options";
import * as engine from "../../engine";

const USAGE = `usage: valemb doctor [--backend auto|tensorflow|webgpu|wasm|cpu] [--threads N] [--json]

Starts the engine as a training run would and reports the backend in use, the device it computes
on, its library, threads, SIMD, the TensorFlow.js version, and why each better backend was skipped.
auto tries tensorflow on CUDA, WebGPU on a real GPU, tensorflow on the CPU, wasm, then cpu.
  --backend   force a backend (default: VALEMB_BACKEND, else auto)
  --threads   wasm threads / libtensorflow intra-op threads (default: VALEMB_THREADS, else the number of cores)
  --json      print one JSON object {"backend","device","library","threads","simd","tfjs","skipped"[,"adapter"]}
              device: "cpu", "cuda:<GPU name>" or "webgpu:<adapter>"`;

export const command: Command = {
  summary: "show the compute backend, threads and SIMD, and why better backends were skipped",
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv, { backend: {}, threads: {}, json: {} });
    const backend = values.backend === undefined ? undefined : engine.parseBackendRequest(values.backend, "--backend");
    const threads = values.threads;
    const info = await engine.initEngine({ backend, threads });
    const report: Record<string, unknown> = {
      backend: info.backend, device: info.device, library: info.library, threads: info.threads, simd: info.simd, tfjs: info.tfjs, skipped: info.skipped,
    };
    if (info.adapter) report.adapter = info.adapter;
    if (values.json) {
      process.stdout.write(JSON.stringify(report) + "\n");
    } else {
      const lines = [
        `backend   ${info.backend}`,
        `device    ${info.device}`,
        `library   ${info.library}`,
        `threads   ${info.threads}`,
        `simd      ${info.simd === null ? "n/a" : info.simd ? "yes" : "no"}`,
        `tfjs      ${info.tfjs}`,
      ];
      if (info.adapter) lines.push(`adapter   ${JSON.stringify(info.adapter)}`);
      const skipped = Object.entries(info.skipped);
      lines.push(skipped.length ? "skipped" : "skipped   (none: the best backend is in use or it was forced)");
      for (const [name, why] of skipped) lines.push(`  ${name.padEnd(15)} ${why}`);
      if (info.kernels.length) lines.push(`kernels   ${info.kernels.filter((k) => !k.includes("fallback")).join(", ")} (+${info.kernels.filter((k) => k.includes("fallback")).length} cpu fallbacks)`);
      process.stdout.write(lines.join("\n") + "\n");
    }
    releaseIfWebGPU(info.backend);
    return 0;
  },
};

/** Dawn keeps Node alive while a device exists. */
function releaseIfWebGPU(backend: string): void {
  if (backend !== "webgpu") return;
  try { (require("../../engine/webgpu") as { releaseWebGPU(): void }).releaseWebGPU(); } catch { /* nothing to release */ }
}
