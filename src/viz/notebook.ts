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
 * Starts loading plotly.js into the page (a small output: the library itself is served by the
 * Jupyter server, never stored in the notebook). Optional: each chart loads it when needed.
 */
export function loadPlotly(): void {
  send({
    data: { "text/html": plotlyLoaderHtml(), "text/plain": `plotly.js ${plotlyVersion()}` },
    metadata: { valemb: { kind: "plotly-loader", version: plotlyVersion() } },
  });
  plotlySent = true;
}

/**
 * Shows a chart inline, as HTML drawn by plotly.js from the Jupyter server (JupyterLab, Notebook 7,
 * classic Notebook). No application/vnd.plotly.v1+json copy: Jupyter stores JSON outputs pretty-printed,
 * one number per line, which made every chart's share of a saved notebook three times larger, and
 * JupyterLab renders it only with the jupyterlab-plotly extension. The figure is in the HTML
 * (figureOfHtml reads it back).
 */
export function showChart(fig: Figure): void {
  if (!plotlySent) loadPlotly();
  send({
    data: {
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
  /** Rows only: a tooltip per row label (details that would widen the table). */
  rowTitles?: Record<string, string>;
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
    `<tr>${label ? `<th style="text-align:left"${opts.rowTitles?.[String(r[label])] ? ` title="${esc(opts.rowTitles[String(r[label])]).replace(/"/g, "&quot;")}"` : ""}>${cell(r[label], digits)}</th>` : ""}` +
    rest.map((c) => `<td style="text-align:right">${cell(r[c], digits)}</td>`).join("") + "</tr>").join("\n");
  const caption = opts.caption ? `<caption>${esc(opts.caption)}</caption>` : "";
  return `<table class="dataframe">${caption}<thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/** The header cells of an HTML table (its <thead>, else its first row). */
/**
 * Narrow, monospace tables in every Jupyter UI: JupyterLab's stylesheet lays tables out with fixed
 * column widths (headers and labels wrap onto 3–4 lines, wide tables scroll sideways); inline styles
 * size columns to their content, keep cells on one line, and wrap the caption to the table's width.
 */
export function styleTable(html: string): string {
  const mono = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px";
  return html
    .replace(/<table(?![^>]*style=)/g, `<table style="table-layout:auto;width:auto;margin-left:0;border-collapse:collapse;${mono}"`)
    .replace(/<caption>/g, '<caption style="caption-side:top;text-align:left;white-space:normal;font-family:sans-serif;font-size:12px;color:#444;padding-bottom:4px">')
    .replace(/<(td|th)( style="|>)/g, (_m, tag: string, rest: string) => (rest === ">" ? `<${tag} style="white-space:nowrap">` : `<${tag} style="white-space:nowrap;`));
}

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
  const html = styleTable(typeof table === "string" ? table
    : Array.isArray(table) ? rowsToHtml(table, opts)
    : toHtml(table as Parameters<typeof toHtml>[0], opts)); // a danfo DataFrame: src/analysis's table format
  const columns = headerColumns(html);
  send({
    data: { "text/html": html, "text/plain": `<table: ${columns.join(", ")}>` },
    metadata: { valemb: { kind: "table", columns } },
  });
}
