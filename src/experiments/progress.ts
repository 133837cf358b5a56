// One progress display for a whole sweep: runs done, what is training now with its latest losses, ETA.
import type { RunRequest, SweepEvent } from "./runner";

interface Live { step: number; totalSteps: number; trainLoss?: number; valLoss?: number; started: number }

const key = (r: RunRequest) => `${r.variant.name}/seed-${r.seed}`;

function fmtDuration(s: number): string {
  if (!isFinite(s) || s < 0) return "?";
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/**
 * Turns sweep events into text. `write` gets whole lines; on a TTY the status line is redrawn in
 * place, elsewhere (logs, notebooks) a status line is written at most every `everyS` seconds.
 */
export class SweepProgress {
  private total = 0;
  private finished = 0;
  private failed = 0;
  private live = new Map<string, Live>();
  private durations: number[] = [];
  private lastPrint = 0;
  private readonly t0 = Date.now();

  constructor(private readonly write: (s: string) => void, private readonly tty: boolean, private readonly everyS = 20, private readonly jobs = 1) {}

  handle(e: SweepEvent): void {
    switch (e.kind) {
      case "plan": {
        this.total = e.runs.length;
        const by = (s: string) => e.runs.filter((r) => r.state === s).length;
        this.line(`sweep: ${this.total} runs: ${by("done")} finished, ${by("copy")} copied from another section, ${by("resume")} to resume, ${by("todo")} to start${by("stale") ? `, ${by("stale")} stale` : ""}${by("busy") ? `, ${by("busy")} owned by another live trainer` : ""}`);
        this.finished = by("done");
        return;
      }
      case "stale": this.line(`moved stale run aside: ${e.movedTo}`); return;
      case "start": this.live.set(key(e.run), { step: 0, totalSteps: 0, started: Date.now() }); this.status(true); return;
      case "progress": {
        const l = this.live.get(key(e.run));
        if (l) Object.assign(l, { step: e.step, totalSteps: e.totalSteps, trainLoss: e.trainLoss ?? l.trainLoss, valLoss: e.valLoss ?? l.valLoss });
        this.status(false);
        return;
      }
      case "finish": {
        const l = this.live.get(key(e.run));
        this.live.delete(key(e.run));
        this.finished++;
        if (e.seconds > 0) this.durations.push(e.seconds);
        this.line(`done ${key(e.run)}${l?.valLoss !== undefined ? ` val_loss ${l.valLoss.toFixed(4)}` : ""}${e.seconds > 0 ? ` in ${fmtDuration(e.seconds)}` : " (copied)"}  [${this.finished}/${this.total}]`);
        return;
      }
      case "fail": this.live.delete(key(e.run)); this.failed++; this.line(`FAILED ${key(e.run)}: ${e.message}`); return;
    }
  }

  /** Seconds left: remaining run-fractions times the mean run time, spread over the parallel jobs. */
  etaS(): number {
    const elapsedLive = [...this.live.values()].map((l) => ({ frac: l.totalSteps ? l.step / l.totalSteps : 0, s: (Date.now() - l.started) / 1000 }));
    const perRun = this.durations.length
      ? this.durations.reduce((a, b) => a + b, 0) / this.durations.length
      : (() => { const est = elapsedLive.filter((x) => x.frac > 0.02).map((x) => x.s / x.frac); return est.length ? est.reduce((a, b) => a + b, 0) / est.length : NaN; })();
    const waiting = this.total - this.finished - this.failed - this.live.size;
    const liveLeft = elapsedLive.reduce((a, x) => a + (1 - x.frac), 0);
    return ((waiting + liveLeft) * perRun) / Math.max(1, Math.min(this.jobs, waiting + this.live.size));
  }

  private statusText(): string {
    const running = [...this.live.entries()].map(([k, l]) =>
      `${k} ${l.step}/${l.totalSteps || "?"}${l.trainLoss !== undefined ? ` loss ${l.trainLoss.toFixed(3)}` : ""}${l.valLoss !== undefined ? ` val ${l.valLoss.toFixed(3)}` : ""}`);
    return `[${this.finished}/${this.total} done${this.failed ? `, ${this.failed} failed` : ""}] ${running.join(" | ") || "-"}  elapsed ${fmtDuration((Date.now() - this.t0) / 1000)}, ETA ${fmtDuration(this.etaS())}`;
  }

  private status(force: boolean): void {
    const now = Date.now();
    if (this.tty) { this.write(`\r\x1b[2K${this.statusText()}`); return; }
    if (force || now - this.lastPrint >= this.everyS * 1000) { this.lastPrint = now; this.write(this.statusText() + "\n"); }
  }

  private line(s: string): void {
    this.write(this.tty ? `\r\x1b[2K${s}\n` : `${s}\n`);
  }
}
