// loadRuns: files and folders in, runs and problems out. Bad input never stops the other runs.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseEvalsJsonl, parseMarkdownRuns, parseRawLog } from "./parse";
import { selectRuns } from "./select";
import type { LoadOptions, LoadProblem, LoadResult, Run } from "./types";

const LOG_EXT = /\.(txt|log)$/i;
const MD_EXT = /\.(md|markdown)$/i;

/** A run folder is what our trainer writes: a folder holding evals.jsonl (or only log.txt). */
export function isRunFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, "evals.jsonl")) || fs.existsSync(path.join(dir, "log.txt"));
}

function readMeta(dir: string, problems: LoadProblem[]): Record<string, unknown> {
  const file = path.join(dir, "meta.json");
  if (!fs.existsSync(file)) return {};
  try {
    const meta = JSON.parse(fs.readFileSync(file, "utf8"));
    if (meta && typeof meta === "object" && !Array.isArray(meta)) return meta;
    problems.push({ file, message: "meta.json is not a JSON object; ignored" });
  } catch (e) {
    problems.push({ file, message: `meta.json is not valid JSON (${(e as Error).message}); ignored` });
  }
  return {};
}

function loadRunFolder(dir: string, name: string, problems: LoadProblem[], opts: LoadOptions): Run | null {
  const meta = readMeta(dir, problems);
  const evals = path.join(dir, "evals.jsonl");
  if (fs.existsSync(evals)) {
    return parseEvalsJsonl(fs.readFileSync(evals, "utf8"), evals, name, problems, meta, opts.keepIncomplete, dir);
  }
  const log = path.join(dir, "log.txt");
  const run = parseRawLog(fs.readFileSync(log, "utf8"), log, name, problems, opts.keepIncomplete);
  if (run) run.meta = { ...run.meta, ...meta, format: "log.txt" };
  if (run) run.source = dir;
  return run;
}

/** Runs in one file; `name` names a single-run file (a raw log), markdown runs keep their headers. */
function loadFile(file: string, name: string, problems: LoadProblem[], opts: LoadOptions): Run[] {
  const text = fs.readFileSync(file, "utf8");
  if (/\.jsonl$/i.test(file)) {
    const run = parseEvalsJsonl(text, file, name, problems, readMeta(path.dirname(file), problems), opts.keepIncomplete);
    return run ? [run] : [];
  }
  if (MD_EXT.test(file)) return parseMarkdownRuns(text, file, problems, opts.keepIncomplete);
  const run = parseRawLog(text, file, name, problems, opts.keepIncomplete);
  return run ? [run] : [];
}

const byNaturalName = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/** Recurses a folder: run folders by their path below `root`, log and markdown files that hold `step:` lines. */
function walk(dir: string, root: string, problems: LoadProblem[], opts: LoadOptions, out: Run[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byNaturalName(a.name, b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const rel = path.relative(root, full).split(path.sep).join("/");
    // Hidden folders, dependencies, runs the sweep moved aside as stale, half-done copies and temp files of killed writers are not results.
    if (e.name.startsWith(".") || e.name === "node_modules" || /\.(stale|copying|tmp)-/.test(e.name)) continue;
    if (e.isDirectory()) {
      if (isRunFolder(full)) {
        const run = loadRunFolder(full, rel, problems, opts);
        if (run) out.push(run);
      } else walk(full, root, problems, opts, out);
    } else if (e.isFile() && (LOG_EXT.test(e.name) || MD_EXT.test(e.name))) {
      // A README next to the logs is not a run: only files with step lines count.
      if (!/^step:/m.test(fs.readFileSync(full, "utf8"))) continue;
      out.push(...loadFile(full, rel.replace(/\.[^./]*$/, ""), problems, opts));
    }
  }
}

/**
 * Loads runs from files (raw modded-nanogpt logs, aggregated markdown, evals.jsonl) and folders
 * (run folders, folders of logs, folders of run folders, recursively). Problems are collected, never thrown.
 */
export function loadRuns(paths: string[], opts: LoadOptions = {}): LoadResult {
  const problems: LoadProblem[] = [];
  const runs: Run[] = [];
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      problems.push({ file: p, message: "no such file or folder" });
      continue;
    }
    const before = runs.length;
    try {
      if (stat.isDirectory()) {
        const name = path.basename(path.resolve(p));
        if (isRunFolder(p)) {
          const run = loadRunFolder(p, name, problems, opts);
          if (run) runs.push(run);
        } else walk(p, p, problems, opts, runs);
      } else {
        const base = path.basename(p);
        const name = base === "evals.jsonl" || base === "log.txt" ? path.basename(path.resolve(path.dirname(p))) : base.replace(/\.[^.]*$/, "");
        runs.push(...loadFile(p, name, problems, opts));
      }
    } catch (e) {
      problems.push({ file: p, message: `cannot read: ${(e as Error).message}` });
    }
    if (runs.length === before && !problems.some((q) => q.file.startsWith(p))) {
      problems.push({ file: p, message: "no runs found here (no `step:` lines, evals.jsonl or log.txt)" });
    }
  }
  return { runs: uniqueNames(runs, problems), problems };
}

/** Two runs with one name would be indistinguishable in every table: rename the later ones, and say so. */
function uniqueNames(runs: Run[], problems: LoadProblem[]): Run[] {
  const seen = new Map<string, Run>();
  for (const run of runs) {
    const first = seen.get(run.name);
    if (first) {
      let k = 2;
      while (seen.has(`${run.name} (${k})`)) k++;
      const renamed = `${run.name} (${k})`;
      const [file, line] = splitSource(run.source);
      problems.push({ file, line, run: run.name, message: `duplicate run name (first from ${first.source}); this one is renamed '${renamed}'` });
      run.name = renamed;
    }
    seen.set(run.name, run);
  }
  return runs;
}

function splitSource(source: string): [string, number | undefined] {
  const m = /^(.*):(\d+)$/.exec(source);
  return m ? [m[1], Number(m[2])] : [source, undefined];
}

/** `file:line: run 'x': message`, the form compilers use, so editors can jump to it. */
export function formatProblem(p: LoadProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
  return `${where}: ${p.run !== undefined ? `run '${p.run}': ` : ""}${p.message}`;
}

/**
 * What every command does first: load, keep the runs `--runs` names, and say what went wrong
 * (problems as `file:line: …`, patterns that matched nothing) in `messages`.
 */
export function loadAndSelect(
  paths: string[],
  opts: LoadOptions & { runs?: string } = {},
): LoadResult & { unmatched: string[]; messages: string[] } {
  const { runs, problems } = loadRuns(paths, opts);
  const selected = selectRuns(runs, opts.runs);
  const messages = problems.map(formatProblem);
  for (const p of selected.unmatched) messages.push(`--runs: no run named like '${p}' (${runs.length} runs loaded)`);
  return { runs: selected.runs, problems, unmatched: selected.unmatched, messages };
}
