// plotly.js as HTML: the library once (from the npm package, no CDN), then one small snippet per chart.

import * as fs from "fs";
import * as path from "path";
import { randomUUID } from "crypto";
import type { Figure } from "./figure";

let bundleCache: string | null = null;

export function plotlyVersion(): string {
  return (require("plotly.js-dist/package.json") as { version: string }).version;
}

/**
 * The plotly.js-dist bundle, minified once with esbuild (10 MB → 4.8 MB; it comes with tsx) and
 * cached under node_modules/.cache; the unminified file when esbuild is unavailable.
 */
export function plotlyBundle(): string {
  if (bundleCache) return bundleCache;
  const srcPath = require.resolve("plotly.js-dist");
  const cacheDir = path.join(path.dirname(path.dirname(srcPath)), ".cache", "valemb");
  const cached = path.join(cacheDir, `plotly-${plotlyVersion()}.min.js`);
  if (fs.existsSync(cached)) return (bundleCache = fs.readFileSync(cached, "utf8"));
  const src = fs.readFileSync(srcPath, "utf8");
  try {
    const esbuild = require("esbuild") as typeof import("esbuild");
    const min = esbuild.transformSync(src, { minify: true, legalComments: "none", charset: "utf8" }).code;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, min);
    fs.renameSync(tmp, cached);
    return (bundleCache = min);
  } catch {
    return (bundleCache = src);
  }
}

/** JSON that is safe inside <script>…</script>. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** One <script> that defines window.Plotly unless the page already has it (the library inlined: 4.8 MB). */
export function plotlyInlineScript(): string {
  const src = plotlyBundle().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if(!window.Plotly){\n${src}\n}</script>`;
}

/** Where `valemb notebook` has the Jupyter server serve plotly.js, under its base URL's static/. */
export function plotlyStaticPath(): string {
  return `valemb/plotly-${plotlyVersion()}.min.js`;
}

/**
 * A script (as JS text) that defines `valembPlotly()`: a promise of window.Plotly, loading the
 * library once per page from the Jupyter server (`<base URL>static/valemb/plotly-<version>.min.js`)
 * when the page does not have it yet. The base URL comes from the page: JupyterLab and Notebook 7
 * publish it in #jupyter-config-data, classic Notebook in <body data-base-url>.
 */
function plotlyLoaderJs(): string {
  return `if(!window.valembPlotly){window.valembPlotly=function(){
if(window.Plotly)return Promise.resolve(window.Plotly);
if(!window.valembPlotlyLoading){window.valembPlotlyLoading=new Promise(function(ok,fail){
var base="/",c=document.getElementById("jupyter-config-data");
try{if(c)base=JSON.parse(c.textContent).baseUrl||base;else if(document.body.dataset.baseUrl)base=document.body.dataset.baseUrl;}catch(e){}
if(base.slice(-1)!=="/")base+="/";
var s=document.createElement("script");s.src=base+"static/${plotlyStaticPath()}";
s.onload=function(){window.Plotly?ok(window.Plotly):fail(s.src)};
s.onerror=function(){window.valembPlotlyLoading=null;fail(s.src)};document.head.appendChild(s);});}
return window.valembPlotlyLoading;};}`;
}

/** The first output of a notebook: starts loading plotly.js (a few hundred bytes; the library itself is not in the notebook). */
export function plotlyLoaderHtml(): string {
  return `<script type="text/javascript">${plotlyLoaderJs()}\nwindow.valembPlotly().catch(function(){});</script>` +
    `<div style="font:12px sans-serif;color:#888">charts draw with plotly.js ${plotlyVersion()}, served by the Jupyter server that <code>npm run notebook</code> starts</div>`;
}

/**
 * A chart as HTML: a div plus a script that draws into it once plotly.js is there (loaded from the
 * Jupyter server on first use, or already on the page, as in exported HTML). Unique ids: outputs
 * from several sessions share one page.
 */
export function figureHtml(fig: Figure): string {
  const id = `valemb-${randomUUID()}`;
  const js = `${plotlyLoaderJs()}
(function(){var fig=${scriptJson({ data: fig.data, layout: fig.layout, config: fig.config ?? {} })};
var el=document.getElementById(${scriptJson(id)});if(!el)return;
window.valembPlotly().then(function(P){el.textContent="";P.newPlot(el,fig.data,fig.layout,fig.config);},
function(src){el.textContent=${scriptJson(NOT_SERVED)}.replace("URL",src);});})();`;
  return `<div id="${id}" class="valemb-chart">${escapeText(NOT_TRUSTED)}</div><script type="text/javascript">${js}</script>`;
}

/** The figure a chart's HTML (figureHtml) draws: data, layout, config. */
export function figureOfHtml(html: string): { data: Record<string, unknown>[]; layout: Record<string, unknown>; config: Record<string, unknown> } {
  const m = /var fig=(\{.*?\});\nvar el=/s.exec(html);
  if (!m) throw new Error("not a valemb chart's HTML (no figure in it)");
  return JSON.parse(m[1]);
}

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Shown where a chart's script did not run (an untrusted notebook: Jupyter strips its scripts). */
export const NOT_TRUSTED = "[chart not drawn: this notebook's outputs are not trusted, so their scripts do not run. " +
  "Run the notebook (Run All), or trust it: JupyterLab and Notebook 7: command palette (Ctrl+Shift+C) > Trust Notebook; " +
  "classic Notebook 6: File > Trust Notebook.]";
/** Shown where plotly.js could not be loaded from the Jupyter server. */
export const NOT_SERVED = "[chart not drawn: plotly.js was not found at URL. The Jupyter server that npm run notebook " +
  "(valemb notebook) starts serves it: start Jupyter that way and reload the page.]";

/** A self-contained HTML page showing one chart (plotly.js inlined: works offline). */
export function standaloneHtml(fig: Figure): string {
  const title = fig.name.replace(/[<&]/g, "");
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body style="margin:0">\n` +
    `${plotlyInlineScript()}\n${figureHtml(fig)}\n</body></html>\n`;
}
