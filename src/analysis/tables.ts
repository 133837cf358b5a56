// Result tables as danfo DataFrames (run names as the index, numeric columns), with an HTML
// rendering for notebooks and CSV export. danfo is required lazily: it pulls in TensorFlow.js and
// takes seconds to load, which the CLI's JSON paths should not pay.
import * as fs from "node:fs";
import * as path from "node:path";
import type { DataFrame } from "danfojs-node";
import type { GroupSummary } from "./groups";
import { crossing, finalEval, type Ranking } from "./measure";
import type { Run } from "./types";

type Danfo = typeof import("danfojs-node");

const TFJS_BANNER = "looks like you are running TensorFlow.js in Node.js";

/** Runs `fn` with tfjs's "install the node backend" banner filtered out of console.warn, nothing else. */
function quietly<T>(fn: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!args.some((a) => typeof a === "string" && a.includes(TFJS_BANNER))) warn(...args);
  };
  try {
    return fn();
  } finally {
    console.warn = warn;
  }
}

function danfo(): Danfo {
  return quietly(() => require("danfojs-node") as Danfo);
}

/** One frame from columns of numbers or labels (null = missing), indexed by run or group names. */
export function frame(index: string[], columns: Record<string, (number | string | null)[]>): DataFrame {
  const dfd = danfo();
  return quietly(() => new dfd.DataFrame(columns, { index, columns: Object.keys(columns) }));
}

export interface CrossingRow {
  run: string;
  crossingTimeS: number | null;
  crossingStep: number | null;
  finalLoss: number;
  finalStep: number;
  finalTimeS: number | null;
}

/** One row per run: when it crosses `threshold` and where it ends; sorted by crossing time, never-crossed last. */
export function crossingRows(runs: Run[], threshold: number): CrossingRow[] {
  const rows = runs.map((r) => {
    const c = crossing(r, threshold);
    const f = finalEval(r)!;
    return { run: r.name, crossingTimeS: c?.timeS ?? null, crossingStep: c?.step ?? null, finalLoss: f.valLoss, finalStep: f.step, finalTimeS: f.timeS };
  });
  // Stable sort: never-crossed runs keep their load order at the end.
  return rows.sort((a, b) => (a.crossingTimeS ?? Infinity) - (b.crossingTimeS ?? Infinity) || 0);
}

export function crossingTable(runs: Run[], threshold: number): DataFrame {
  const rows = crossingRows(runs, threshold);
  return frame(rows.map((r) => r.run), {
    crossingTimeS: rows.map((r) => r.crossingTimeS),
    crossingStep: rows.map((r) => r.crossingStep),
    finalLoss: rows.map((r) => r.finalLoss),
    finalStep: rows.map((r) => r.finalStep),
    finalTimeS: rows.map((r) => r.finalTimeS),
  });
}

export function rankingTable(ranking: Ranking): DataFrame {
  return frame(ranking.rows.map((r) => r.run), {
    meanRank: ranking.rows.map((r) => r.meanRank),
    meanLoss: ranking.rows.map((r) => r.meanLoss),
    meanGapToRef: ranking.rows.map((r) => r.meanGapToRef),
  });
}

export function groupTable(summaries: GroupSummary[]): DataFrame {
  const col = (k: Exclude<keyof GroupSummary, "group">) => summaries.map((s) => s[k]);
  return frame(summaries.map((s) => s.group), {
    n: col("n"), nCrossed: col("nCrossed"),
    crossingTimeMean: col("crossingTimeMean"), crossingTimeStd: col("crossingTimeStd"),
    crossingStepMean: col("crossingStepMean"), crossingStepStd: col("crossingStepStd"),
    finalLossMean: col("finalLossMean"), finalLossStd: col("finalLossStd"),
    finalTimeMean: col("finalTimeMean"),
  });
}

export interface HtmlOptions {
  /** Decimals for non-integer numbers: one count for all columns, or per column (default 4). */
  digits?: number | Record<string, number>;
  caption?: string;
  /** Shown for null / NaN cells (default "–"). */
  missing?: string;
  /** Header of the index column (default "run"). */
  indexName?: string;
}

export function escapeHtml(v: unknown): string {
  return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const isMissing = (v: unknown) => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));

/** Integer columns (counts, steps) print as integers; any other number column with fixed decimals. */
function formatCell(v: unknown, digits: number, missing: string, integerColumn: boolean): string {
  if (isMissing(v)) return missing;
  if (typeof v === "number") return integerColumn ? String(v) : v.toFixed(digits);
  return String(v);
}

/** Cells of a frame as text: index first, numbers rounded. Shared by the HTML and the CLI's text tables. */
export function formatRows(df: DataFrame, opts: HtmlOptions = {}): { header: string[]; rows: string[][] } {
  const columns = df.columns;
  const values = df.values as unknown[][];
  const digitsOf = (c: string) => (typeof opts.digits === "number" ? opts.digits : opts.digits?.[c] ?? 4);
  const integerColumn = columns.map((_, j) => values.every((row) => isMissing(row[j]) || Number.isInteger(row[j])));
  return {
    header: [opts.indexName ?? "run", ...columns],
    rows: values.map((row, i) => [
      String(df.index[i]),
      ...row.map((v, j) => formatCell(v, digitsOf(columns[j]), opts.missing ?? "–", integerColumn[j])),
    ]),
  };
}

/** An HTML table (class "dataframe", like pandas) with names as row headers; everything escaped. */
export function toHtml(df: DataFrame, opts: HtmlOptions = {}): string {
  const { header, rows } = formatRows(df, opts);
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows.map(([name, ...cells]) => `<tr><th>${escapeHtml(name)}</th>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`);
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  return `<table class="dataframe">${caption}\n<thead>${head}</thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`;
}

/** A fixed-width text table for terminals. */
export function toText(df: DataFrame, opts: HtmlOptions = {}): string {
  const { header, rows } = formatRows(df, opts);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

function csvField(v: unknown): string {
  if (isMissing(v)) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with the index as the first column (danfo's own toCSV drops it) and full-precision numbers. */
export function toCsv(df: DataFrame, indexName = "run"): string {
  const lines = [[indexName, ...df.columns].map(csvField).join(",")];
  (df.values as unknown[][]).forEach((row, i) => lines.push([df.index[i], ...row].map(csvField).join(",")));
  return lines.join("\n") + "\n";
}

/** Writes the CSV through a temporary file and a rename, so a reader never sees half a table. */
export function writeCsv(df: DataFrame, file: string, indexName = "run"): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, toCsv(df, indexName));
  fs.renameSync(tmp, file);
}
