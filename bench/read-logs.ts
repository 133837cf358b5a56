// How fast and in how much memory the loader reads logs: one large log (default 1 GiB) and a folder
// of many ordinary ones (default 1,500), both generated in a temp folder in the speedrun's format
// (a training line per step, an evaluation every 125 steps). Each is read in a fresh child process,
// so its peak memory (max RSS) is the reading's alone.
//   node --import tsx bench/read-logs.ts [--size-mb 1024] [--logs 1500] [--steps 3000]
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadRuns } from "../src/analysis";

const PREAMBLE = [
  "import os, sys, time", "val_loss = 0",
  ...Array.from({ length: 800 }, (_, i) => `    print0(f"step:{step}/{train_steps} val_loss:{val_loss:.4f} train_time:{t:.0f}ms")  # line ${i}`),
  "=".repeat(100), "Running PyTorch 2.7.0 compiled for CUDA 12.6",
].join("\n") + "\n";

/** Writes a run of `steps` steps (at least one, cut when the file reaches `bytes`), repeated until it does. */
function writeLog(file: string, steps: number, bytes: number): void {
  const fd = fs.openSync(file, "w");
  let written = fs.writeSync(fd, PREAMBLE);
  let attempt = 0;
  const cutBySize = bytes > 0 && steps * 60 > bytes; // a run longer than the file: it ends where the size is reached
  do {
    let chunk = "";
    for (let s = 0; s <= steps && !(cutBySize && written + chunk.length >= bytes); s++) {
      const t = s * 150 + attempt;
      if (s > 0) chunk += `step:${s}/${steps} train_time:${t}ms step_avg:${(t / s).toFixed(2)}ms\n`;
      if (s % 125 === 0 || s === steps) chunk += `step:${s}/${steps} val_loss:${(10 * Math.exp(-s / steps) + 2).toFixed(4)} train_time:${t}ms step_avg:${(t / Math.max(s, 1)).toFixed(2)}ms\n`;
      if (chunk.length > 1 << 20) { written += fs.writeSync(fd, chunk); chunk = ""; }
    }
    written += fs.writeSync(fd, chunk);
    attempt++;
  } while (written < bytes);
  fs.closeSync(fd);
}

function measure(target: string): void {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const { runs, problems } = loadRuns([target], { attempts: "all", keepIncomplete: true });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ runs: runs.length, problems: problems.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB }) + "\n");
}

function child(target: string): { runs: number; problems: number; seconds: number; cpuSeconds: number; maxRssMiB: number } {
  const r = spawnSync(process.execPath, ["--import", "tsx", __filename, "--measure", target], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`measuring ${target} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, def: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
  if (args[0] === "--measure") return measure(args[1]);
  const sizeMb = opt("size-mb", 1024);
  const logs = opt("logs", 1500);
  const steps = opt("steps", 3000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-read-logs-"));
  try {
    // Baseline: the same child reading nothing, to separate Node + tsx from the reading itself.
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    const idle = child(empty);
    process.stdout.write(`node + tsx, nothing read: max RSS ${idle.maxRssMiB.toFixed(0)} MiB\n`);

    const big = path.join(dir, "big.txt");
    writeLog(big, 1e9, sizeMb * 2 ** 20); // one run, cut off by the size
    const b = child(big);
    process.stdout.write(`one ${(fs.statSync(big).size / 2 ** 20).toFixed(0)} MiB log (${b.runs} run): ${b.seconds.toFixed(1)} s (${b.cpuSeconds.toFixed(1)} s CPU), max RSS ${b.maxRssMiB.toFixed(0)} MiB\n`);
    fs.rmSync(big);

    const folder = path.join(dir, "logs");
    fs.mkdirSync(folder);
    for (let i = 0; i < logs; i++) writeLog(path.join(folder, `run-${i}.txt`), steps, 0);
    const bytes = fs.readdirSync(folder).reduce((s, f) => s + fs.statSync(path.join(folder, f)).size, 0);
    const f = child(folder);
    process.stdout.write(`a folder of ${logs} logs (${(bytes / 2 ** 20).toFixed(0)} MiB, ${f.runs} runs): ${f.seconds.toFixed(1)} s (${f.cpuSeconds.toFixed(1)} s CPU), max RSS ${f.maxRssMiB.toFixed(0)} MiB\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
