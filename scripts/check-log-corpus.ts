// Reads every log of a folder tree with valemb's loader and, independently, with a minimal parser
// written here, and compares final loss, final step and crossing time. Not run in CI: it needs a
// corpus, e.g. the speedrun's records/ (see README, "Reading other people's logs").
//   node --import tsx scripts/check-log-corpus.ts <dir> [--threshold-offset 0.02]
import * as fs from "node:fs";
import * as path from "node:path";
import { crossingTime, finalEval, formatProblem, loadRuns, type Run } from "../src/analysis";

/** What the minimal parser finds for one run: its evaluations and the step count it plans. */
interface RefRun { name: string; evals: { step: number; loss: number; time: number | null }[]; total: number | null }

const LOG_FILE = /\.(txt|log|out|stdout|md|markdown)$/i;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(full));
    else if (e.isFile() && LOG_FILE.test(e.name)) out.push(full);
  }
  return out.sort();
}

/** One evaluation line in either format, by the plainest reading: field by field, any order. */
function refEval(line: string): { step: number; total: number | null; loss: number; time: number | null } | null {
  let m = /^s:(\d+) tel:(\S+)/.exec(line);
  if (m) return { step: +m[1], total: null, loss: parseFloat(m[2]), time: null };
  m = /^step:(\d+)\/(\d+) /.exec(line);
  if (!m) return null;
  const loss = / val_loss:(\S+)/.exec(line);
  const time = / train_time:([\d.]+)(ms|s)(\s|$)/.exec(line);
  if (!loss || !time) return null;
  return { step: +m[1], total: +m[2], loss: parseFloat(loss[1]), time: time[2] === "s" ? parseFloat(time[1]) : parseFloat(time[1]) / 1000 };
}

/** A group of lines split into attempts where the evaluated step does not grow; the last complete one, else the last. */
function refRun(name: string, lines: string[]): RefRun | null {
  const attempts: RefRun[] = [];
  for (const line of lines) {
    const e = refEval(line);
    if (!e) continue;
    const cur = attempts[attempts.length - 1];
    const prev = cur?.evals[cur.evals.length - 1];
    if (!cur || !prev || e.step <= prev.step || (e.total !== null && cur.total !== null && e.total !== cur.total)) {
      attempts.push({ name, evals: [], total: e.total });
    }
    attempts[attempts.length - 1].evals.push({ step: e.step, loss: e.loss, time: e.time });
  }
  if (!attempts.length) return null;
  const complete = (a: RefRun) => a.total === null || a.evals[a.evals.length - 1].step >= a.total;
  const k = attempts.map(complete).lastIndexOf(true);
  const pick = k >= 0 ? k : attempts.length - 1;
  return { ...attempts[pick], name: attempts.length > 1 ? `${name}#${pick + 1}` : name };
}

/** Raw logs are one run; markdown files one run per `## ` section. */
function refRuns(file: string, stem: string): RefRun[] {
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/);
  if (!/\.(md|markdown)$/i.test(file)) return [refRun(stem, lines)].filter((r): r is RefRun => r !== null);
  const runs: RefRun[] = [];
  let title = stem;
  let body: string[] = [];
  const flush = () => { const r = refRun(title, body); if (r) runs.push(r); };
  for (const line of lines) {
    const h = /^#{2,6}\s+(.*?)\s*$/.exec(line);
    if (!h) { body.push(line); continue; }
    flush();
    title = h[1];
    body = [];
  }
  flush();
  return runs;
}

function refCrossing(r: RefRun, threshold: number): number | null {
  const ev = r.evals;
  for (let i = 0; i < ev.length; i++) {
    if (ev[i].loss > threshold) continue;
    if (i === 0 || ev[i].time === null || ev[i - 1].time === null) return ev[i].time;
    const f = (ev[i - 1].loss - threshold) / (ev[i - 1].loss - ev[i].loss);
    return ev[i - 1].time! + f * (ev[i].time! - ev[i - 1].time!);
  }
  return null;
}

function main(): number {
  const args = process.argv.slice(2);
  const dir = args[0];
  const offsetAt = args.indexOf("--threshold-offset");
  const offset = offsetAt >= 0 ? Number(args[offsetAt + 1]) : 0.02;
  if (!dir || !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() || !Number.isFinite(offset)) {
    process.stderr.write("usage: node --import tsx scripts/check-log-corpus.ts <dir> [--threshold-offset 0.02]\n");
    return 2;
  }
  const started = Date.now();
  let logs = 0;
  let read = 0;
  let severalRuns = 0;
  let incomplete = 0;
  const exceptions: string[] = [];
  const disagreements: string[] = [];
  for (const file of filesUnder(dir)) {
    const stem = path.basename(file).replace(/\.[^.]*$/, "");
    const ref = refRuns(file, stem);
    if (ref.length === 0) continue; // no evaluation line: not a log (a README, requirements.txt)
    logs++;
    const loaded = loadRuns([file], { keepIncomplete: true });
    const byName = new Map<string, Run>(loaded.runs.map((r) => [r.name, r]));
    const why = loaded.problems.filter((p) => !p.note && !/incomplete .* kept/.test(p.message)).map(formatProblem);
    let fileOk = true;
    for (const r of ref) {
      const got = byName.get(r.name);
      if (!got) {
        fileOk = false;
        exceptions.push(`${file}: run '${r.name}' not read: ${why.join(" | ") || "(no message)"}`);
        continue;
      }
      const last = r.evals[r.evals.length - 1];
      const f = finalEval(got)!;
      const threshold = last.loss + offset;
      const [a, b] = [refCrossing(r, threshold), crossingTime(got, threshold)];
      const same = (x: number | null, y: number | null) => x === y || (x !== null && y !== null && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)));
      const diffs = [
        f.valLoss !== last.loss ? `final loss ${f.valLoss} vs ${last.loss}` : "",
        f.step !== last.step ? `final step ${f.step} vs ${last.step}` : "",
        !same(a, b) ? `crossing time of ${threshold.toFixed(5)}: ${b} vs ${a}` : "",
      ].filter(Boolean);
      if (diffs.length) {
        fileOk = false;
        disagreements.push(`${file}: run '${r.name}': ${diffs.join("; ")} (loader vs reference)`);
      }
      if (got.meta.complete === false) incomplete++;
    }
    if (loaded.problems.some((p) => p.note)) severalRuns++;
    if (fileOk) read++;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${read} of ${logs} logs read, ${disagreements.length} disagree\n`);
  process.stdout.write(`(${severalRuns} logs hold several runs: the last complete one compared; ${incomplete} runs end before their planned step count; ${seconds} s)\n`);
  for (const e of exceptions) process.stdout.write(`not read: ${e}\n`);
  for (const d of disagreements) process.stdout.write(`disagree: ${d}\n`);
  return exceptions.length || disagreements.length ? 1 : 0;
}

process.exitCode = main();
