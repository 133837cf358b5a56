// One call for a notebook cell or the CLI: train what a section still needs (in child processes, so
// the caller stays responsive and survives a crashed run), then load and measure everything finished.
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { runBackend, runIdentity } from "../train";
import { defaultRoot, runSweep, type RunRequest, type SweepResult } from "./runner";
import { SweepProgress } from "./progress";
import { sectionResults, type SectionResults } from "./results";
import { getSection, selectVariants } from "./sections";

const BIN = path.join(__dirname, "..", "..", "bin", "valemb.js");

/** What `valemb doctor` says the children will run on (asked in a child, so the caller never loads tfjs). */
function askDoctor(forced: string | undefined, threads: number): { backend: string; device: string } {
  const args = [BIN, "doctor", "--json", "--threads", String(threads), ...(forced ? ["--backend", forced] : [])];
  const out = execFileSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const last = out.trim().split("\n").pop() ?? "{}";
  const { backend, device } = JSON.parse(last) as { backend?: string; device?: string };
  if (!backend || !device) throw new Error(`valemb doctor did not name a backend and device: ${out}`);
  return { backend, device };
}

/** The backend `valemb train` children will pick (what to pass them as --backend). */
export function childBackend(forced: string | undefined, threads: number): string {
  if (forced && forced !== "auto") return forced;
  return askDoctor(undefined, threads).backend;
}

/**
 * A function giving the identity `valemb train` will write for a request: the same config, options,
 * data, backend and code version give the same identity, and anything else a different one.
 */
export async function identityResolver(o: { preset: string; steps?: number; backend?: string; threads: number }): Promise<(r: RunRequest) => string> {
  // Asked even when forced: tensorflow's device kind (cpu, cuda) is part of the identity.
  const { backend: name, device } = askDoctor(o.backend, o.threads);
  const backend = runBackend(name, device);
  return (r) => runIdentity({ preset: r.preset, layout: r.variant.layout, seed: r.seed, steps: r.steps, out: r.dir }, backend);
}

export interface RunSectionOptions {
  preset?: string;
  seeds?: number;
  /** Comma-separated variant names; default every variant of the section. */
  variants?: string;
  steps?: number;
  jobs?: number;
  threads?: number;
  backend?: string;
  root?: string;
  target?: number;
  /** Only load what is finished; train nothing. */
  train?: boolean;
  replaceStale?: boolean;
  /** Where progress lines go (default: stdout, which a notebook cell shows as it runs). */
  write?: (s: string) => void;
  /** Redraw one status line in place (a terminal) instead of printing a line every few seconds. */
  tty?: boolean;
  /** When aborted: start no more runs; the running ones checkpoint after their current step and stop. */
  signal?: AbortSignal;
}

/** A sweep was asked to stop (Ctrl-C, SIGTERM): its runs checkpointed where `sweep.stopped` says; a rerun resumes them. */
export class SweepStoppedError extends Error {
  constructor(readonly sweep: SweepResult) {
    super(`sweep stopped (${sweep.stopped.length} run(s) interrupted); rerun to resume`);
    this.name = "SweepStoppedError";
  }
}

/** Train what is missing of a section (unless `train: false`), then return its measured results. */
export async function runSection(name: string, o: RunSectionOptions = {}): Promise<SectionResults & { sweep: SweepResult | null }> {
  const spec = getSection(name);
  const preset = o.preset ?? spec.defaults.preset;
  const variants = selectVariants(spec, o.variants);
  const root = o.root ?? defaultRoot(preset);
  let sweep: SweepResult | null = null;
  if (o.train !== false) {
    const jobs = o.jobs ?? os.cpus().length;
    const threads = o.threads ?? Math.max(1, Math.floor(os.cpus().length / jobs));
    const identityOf = await identityResolver({ preset, steps: o.steps, backend: o.backend, threads });
    const write = o.write ?? ((s: string) => process.stdout.write(s));
    const progress = new SweepProgress(write, o.tty ?? false, o.tty ? 20 : 15, jobs);
    sweep = await runSweep({
      spec, variants, preset, seeds: o.seeds ?? spec.defaults.seeds, steps: o.steps, root, jobs, threads, backend: o.backend,
      replaceStale: o.replaceStale, onEvent: (e) => progress.handle(e), signal: o.signal,
    }, identityOf);
    if (o.signal?.aborted) throw new SweepStoppedError(sweep);
    write(`${o.tty ? "\n" : ""}sweep ${spec.name}: ${sweep.ran.length} trained, ${sweep.done.length} already done, ${sweep.failed.length} failed, ${sweep.seconds.toFixed(0)} s\n`);
  }
  return { ...sectionResults(spec, { root, target: o.target, variants }), sweep };
}
