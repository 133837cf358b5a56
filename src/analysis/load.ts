// loadRuns: files and folders in, runs and problems out. Bad input never stops the other runs.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileLines } from "./lines";
import { RunReader, type LogFormat, type RunReaderOptions } from "./parse";
import { selectRuns } from "./select";
import type { LoadOptions, LoadProblem, LoadResult, Run } from "./types";

const LOG_EXT = /\.(txt|log|out|stdout)$/i;
const MD_EXT = /\.(md|markdown)$/i;
/** No training log is this large; a file over it is named and skipped (LoadOptions.maxFileBytes). */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 3;
const MAX_META_BYTES = 1 << 20;
const RUN_FILES = ["evals.jsonl", "log.txt"];

const isFileAt = (file: string) => {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/** A run folder is what our trainer writes: a folder holding evals.jsonl (or only log.txt). */
export function isRunFolder(dir: string): boolean {
  return RUN_FILES.some((f) => isFileAt(path.join(dir, f)));
}

/** The file a run folder's run is read from; a log name that is not a file (a folder named log.txt) is reported. */
function runFileOf(dir: string, problems: LoadProblem[]): string | null {
  for (const f of RUN_FILES) {
    const file = path.join(dir, f);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    if (stat.isFile()) return file;
    problems.push({ file, message: `is a ${stat.isDirectory() ? "folder" : "special file"} where a run's log is expected; skipped` });
  }
  return null;
}

function readMeta(dir: string, problems: LoadProblem[]): Record<string, unknown> {
  const file = path.join(dir, "meta.json");
  if (!isFileAt(file)) return {};
  try {
    if (fs.statSync(file).size > MAX_META_BYTES) throw new Error(`larger than ${MAX_META_BYTES} bytes`);
    const meta = JSON.parse(fs.readFileSync(file, "utf8"));
    if (meta && typeof meta === "object" && !Array.isArray(meta)) return meta;
    problems.push({ file, message: "meta.json is not a JSON object; ignored" });
  } catch (e) {
    problems.push({ file, message: `meta.json is not valid JSON (${(e as Error).message}); ignored` });
  }
  return {};
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;

/** A file the loader can read: a regular file within the size limit. Otherwise says why, naming it. */
function readable(file: string, problems: LoadProblem[], opts: LoadOptions): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    problems.push({ file, message: `cannot read: ${(e as Error).message}; skipped` });
    return false;
  }
  const max = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const why = stat.isDirectory() ? "is a folder, not a log file"
    : !stat.isFile() ? "is not a regular file"
    : stat.size > max ? `is ${mib(stat.size)}, over the ${mib(max)} limit for one log (maxFileBytes)`
    : null;
  if (why) problems.push({ file, message: `${why}; skipped` });
  return why === null;
}

const formatOf = (file: string): LogFormat => (/\.jsonl$/i.test(file) ? "jsonl" : MD_EXT.test(file) ? "markdown" : "log");

/**
 * Runs in one file, read as a stream. `quiet`: a file without a single run line (a README next to
 * the logs, a requirements.txt) is not a run and says nothing.
 */
function loadFile(
  file: string, problems: LoadProblem[], opts: LoadOptions,
  reader: Omit<RunReaderOptions, "format" | "keepIncomplete" | "attempts">, quiet = false,
): Run[] {
  if (!readable(file, problems, opts)) return [];
  const r = new RunReader(file, { ...reader, format: formatOf(file), keepIncomplete: opts.keepIncomplete, attempts: opts.attempts });
  try {
    for (const line of fileLines(file)) r.line(line);
  } catch (e) {
    problems.push({ file, message: `cannot read: ${(e as Error).message}; skipped` });
    return [];
  }
  const result = r.finish();
  if (quiet && result.runLines === 0) return [];
  problems.push(...result.problems);
  return result.runs;
}

function loadRunFolder(dir: string, file: string, name: string, problems: LoadProblem[], opts: LoadOptions): Run[] {
  const meta = readMeta(dir, problems);
  if (path.basename(file) === "evals.jsonl") {
    const defaultTotal = Number.isInteger(meta.steps) ? (meta.steps as number) : null;
    return loadFile(file, problems, opts, { name, source: dir, meta, defaultTotal });
  }
  const runs = loadFile(file, problems, opts, { name, source: dir });
  for (const run of runs) run.meta = { ...run.meta, ...meta, format: "log.txt" };
  return runs;
}

const byNaturalName = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/** Recurses a folder entry by entry: a bad entry is named and skipped, the others are still read. */
function walk(dir: string, root: string, problems: LoadProblem[], opts: LoadOptions, out: Run[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byNaturalName(a.name, b.name));
  } catch (e) {
    problems.push({ file: dir, message: `cannot list this folder: ${(e as Error).message}; skipped` });
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const rel = path.relative(root, full).split(path.sep).join("/");
    // Hidden folders, dependencies, runs the sweep moved aside as stale, half-done copies and temp files of killed writers are not results.
    if (e.name.startsWith(".") || e.name === "node_modules" || /\.(stale|copying|tmp)-/.test(e.name)) continue;
    try {
      if (e.isDirectory()) {
        const file = runFileOf(full, problems);
        if (file) out.push(...loadRunFolder(full, file, rel, problems, opts));
        else walk(full, root, problems, opts, out);
      } else if ((e.isFile() || e.isSymbolicLink()) && (LOG_EXT.test(e.name) || MD_EXT.test(e.name))) {
        out.push(...loadFile(full, problems, opts, { name: rel.replace(/\.[^./]*$/, "") }, true));
      }
    } catch (err) {
      problems.push({ file: full, message: `cannot read: ${(err as Error).message}; skipped` });
    }
  }
}

/**
 * Loads runs from files (raw modded-nanogpt and llm.c logs, aggregated markdown, evals.jsonl) and
 * folders (run folders, folders of logs, folders of run folders, recursively). Files are read as
 * streams. Problems are collected, never thrown.
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
        const file = runFileOf(p, problems);
        if (file) runs.push(...loadRunFolder(p, file, path.basename(path.resolve(p)), problems, opts));
        else walk(p, p, problems, opts, runs);
      } else {
        const base = path.basename(p);
        const name = base === "evals.jsonl" || base === "log.txt" ? path.basename(path.resolve(path.dirname(p))) : base.replace(/\.[^.]*$/, "");
        const meta = /\.jsonl$/i.test(base) ? readMeta(path.dirname(p), problems) : undefined;
        runs.push(...loadFile(p, problems, opts, { name, meta }));
      }
    } catch (e) {
      problems.push({ file: p, message: `cannot read: ${(e as Error).message}` });
    }
    if (runs.length === before && !problems.some((q) => q.file.startsWith(p))) {
      problems.push({ file: p, message: "no runs found here (no `step:` or `s:<k> tel:` lines, evals.jsonl or log.txt)" });
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
  return `${where}: ${p.note ? "note: " : ""}${p.run !== undefined ? `run '${p.run}': ` : ""}${p.message}`;
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
