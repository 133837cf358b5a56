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

/** One <script> that defines window.Plotly unless the page already has it. */
export function plotlyLoaderHtml(): string {
  const src = plotlyBundle().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if(!window.Plotly){\n${src}\n}</script>` +
    `<div style="font:12px sans-serif;color:#888">plotly.js ${plotlyVersion()} loaded for this notebook's charts</div>`;
}

/**
 * A chart as HTML: a div plus a script that draws into it as soon as window.Plotly exists (the
 * loader output may render after this one when a saved notebook is reopened). Unique ids: outputs
 * from several sessions share one page.
 */
export function figureHtml(fig: Figure): string {
  const id = `valemb-${randomUUID()}`;
  const height = fig.layout.height ?? 520;
  const js = `(function(){var fig=${scriptJson({ data: fig.data, layout: fig.layout, config: fig.config ?? {} })};var n=0;
function draw(){var el=document.getElementById(${scriptJson(id)});if(!el)return;
if(window.Plotly){window.Plotly.newPlot(el,fig.data,fig.layout,fig.config);}
else if(n++<300){setTimeout(draw,100);}
else{el.style.height="auto";el.textContent="plotly.js is not loaded: run the notebook's first cell (loadPlotly), or trust the notebook (File > Trust Notebook).";}}
draw();})();`;
  return `<div id="${id}" class="valemb-chart" style="min-height:${height}px"></div><script type="text/javascript">${js}</script>`;
}

/** A self-contained HTML page showing one chart (plotly.js inlined: works offline). */
export function standaloneHtml(fig: Figure): string {
  const title = fig.name.replace(/[<&]/g, "");
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body style="margin:0">\n` +
    `${plotlyLoaderHtml().replace(/<div[^]*$/, "")}\n${figureHtml(fig)}\n</body></html>\n`;
}
