// Display helpers for tslab notebooks. They send Jupyter display_data messages through tslab's
// kernel; outside a kernel (tests) a sink set with setDisplaySink receives them instead.

import { toHtml, type HtmlOptions } from "../analysis";
import type { Figure } from "./figure";
import { figureHtml, plotlyLoaderHtml, plotlyVersion } from "./plotly";

export interface DisplayData {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
export type DisplaySink = (msg: DisplayData) => void;

let sink: DisplaySink | null = null;
let plotlySent = false;

/** Redirects display output (tests); null restores the tslab kernel. */
export function setDisplaySink(s: DisplaySink | null): void {
  sink = s;
  plotlySent = false;
}

function send(msg: DisplayData): void {
  if (sink) return sink(msg);
  // tslab's public display API sends one MIME type per message; its writer takes a full bundle
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: ((m: unknown, update: boolean) => void) | null };
  if (typeof jupyter.lastWriteDisplayData !== "function") {
    throw new Error("no notebook to display in: these helpers work inside a tslab kernel (outside one, use exportFigures or figureHtml)");
  }
  jupyter.lastWriteDisplayData({ ...msg, transient: {} }, false);
}

/**
 * Sends plotly.js to the page (one ~4.8 MB output). Call it in the notebook's first cell: charts
 * drawn later, and the charts of a reopened saved notebook, use it.
 */
export function loadPlotly(): void {
  send({
    data: { "text/html": plotlyLoaderHtml(), "text/plain": `plotly.js ${plotlyVersion()}` },
    metadata: { valemb: { kind: "plotly-loader", version: plotlyVersion() } },
  });
  plotlySent = true;
}

/**
 * Shows a chart inline. The output carries the figure as application/vnd.plotly.v1+json (JupyterLab
 * with jupyterlab-plotly, VS Code) and as HTML drawn by the page's plotly.js (classic Notebook,
 * plain JupyterLab). Sends plotly.js first if this kernel has not yet done so.
 */
export function showChart(fig: Figure): void {
  if (!plotlySent) loadPlotly();
  send({
    data: {
      "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout, config: fig.config ?? {} },
      "text/html": figureHtml(fig),
      "text/plain": `<chart ${fig.name}: ${fig.data.length} trace(s)>`,
    },
    metadata: { valemb: { kind: "chart", name: fig.name, traces: fig.data.length } },
  });
}

/** Shows HTML as it is. */
export function showHtml(html: string): void {
  send({ data: { "text/html": html, "text/plain": html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim() }, metadata: {} });
}

/** A danfo DataFrame, or anything shaped like one. */
export interface FrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
  index: (string | number)[];
}
/** What a table can be: HTML already made, rows of plain values (keys are the columns), or a DataFrame. */
export type TableInput = string | Record<string, unknown>[] | FrameLike;

export interface TableOptions extends HtmlOptions {
  /** Rows only: the column whose values become the row labels (default: "name" or "run" when present). */
  rowLabel?: string;
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function cell(v: unknown, digits: number): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(digits) : String(v);
  if (v === null || v === undefined) return "";
  return esc(typeof v === "string" ? v : JSON.stringify(v));
}

/** Rows of plain values as an HTML table: rounded numbers, right-aligned; a label column as row headers. */
export function rowsToHtml(rows: Record<string, unknown>[], opts: TableOptions = {}): string {
  const digits = typeof opts.digits === "number" ? opts.digits : 4;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const label = opts.rowLabel ?? columns.find((c) => c === "name" || c === "run");
  const rest = columns.filter((c) => c !== label);
  const head = `<tr>${label ? `<th>${esc(label)}</th>` : ""}${rest.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
  const body = rows.map((r) =>
    `<tr>${label ? `<th style="text-align:left">${cell(r[label], digits)}</th>` : ""}` +
    rest.map((c) => `<td style="text-align:right">${cell(r[c], digits)}</td>`).join("") + "</tr>").join("\n");
  const caption = opts.caption ? `<caption>${esc(opts.caption)}</caption>` : "";
  return `<table class="dataframe">${caption}<thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/** The header cells of an HTML table (its <thead>, else its first row). */
function headerColumns(html: string): string[] {
  const head = /<thead[^>]*>([\s\S]*?)<\/thead>/i.exec(html)?.[1] ?? /<tr[^>]*>([\s\S]*?)<\/tr>/i.exec(html)?.[1] ?? "";
  return [...head.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/gi)].map((m) => m[1].replace(/<[^>]*>/g, "").trim());
}

/**
 * Shows a table: HTML, rows of values, or a danfo DataFrame (through src/analysis's toHtml), with
 * numbers rounded and run names as row labels. The output metadata lists the
 * columns, so tests can check them.
 */
export function showTable(table: TableInput, opts: TableOptions = {}): void {
  const html = typeof table === "string" ? table
    : Array.isArray(table) ? rowsToHtml(table, opts)
    : toHtml(table as Parameters<typeof toHtml>[0], opts); // a danfo DataFrame: src/analysis's table format
  const columns = headerColumns(html);
  send({
    data: { "text/html": html, "text/plain": `<table: ${columns.join(", ")}>` },
    metadata: { valemb: { kind: "table", columns } },
  });
}
