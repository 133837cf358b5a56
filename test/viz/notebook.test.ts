import { test } from "node:test";
import assert from "node:assert/strict";
import { figureHtml, figureOfHtml, lossChart, plotlyStaticPath, sampleRuns, setDisplaySink, showChart, showTable, standaloneHtml, loadPlotly, type DisplayData } from "../../src/viz";
import { groupRuns, groupTable, summarizeGroups } from "../../src/analysis";

function capture(fn: () => void): DisplayData[] {
  const sent: DisplayData[] = [];
  setDisplaySink((m) => sent.push(m));
  try { fn(); } finally { setDisplaySink(null); }
  return sent;
}

const fig = lossChart(sampleRuns(), { groupBy: "variant", window: { last: 0.25 }, target: 2.92 });

test("showChart: a small loader once, then small chart outputs with the figure and machine-readable metadata", () => {
  const sent = capture(() => { showChart(fig); showChart(fig); });
  assert.equal(sent.length, 3);
  const [loader, chart] = sent;
  assert.equal((loader.metadata.valemb as any).kind, "plotly-loader");
  const loaderHtml = loader.data["text/html"] as string;
  // the library is served by Jupyter (valemb notebook's static path), never stored in the notebook
  assert.ok(loaderHtml.length < 3000, `loader output is ${loaderHtml.length} chars`);
  assert.ok(loaderHtml.includes(`static/${plotlyStaticPath()}`));
  assert.ok(!loaderHtml.includes("Trust Notebook"), "names no menu item");
  assert.deepEqual(Object.keys(chart.data).sort(), ["text/html", "text/plain"], "no pretty-printed JSON copy of the figure");
  const plotly = figureOfHtml(chart.data["text/html"] as string);
  assert.equal(plotly.data.length, 9);
  assert.deepEqual(plotly.layout, JSON.parse(JSON.stringify(fig.layout)));
  assert.deepEqual(chart.metadata.valemb, { kind: "chart", name: "loss-time-last25", traces: 9 });
  const html = chart.data["text/html"] as string;
  assert.ok(html.length < 30_000, `chart output is ${html.length} chars`);
  assert.match(html, /P\.newPlot/);
  assert.match(html, /static\/valemb\/plotly-[\d.]+\.min\.js/, "loads plotly.js from the Jupyter server when the page lacks it");
  // shown until the script runs: says how to trust in Lab 4 / Notebook 7 (they have no File > Trust Notebook)
  assert.match(html, /command palette \(Ctrl\+Shift\+C\) &gt; Trust Notebook/);
});

test("standaloneHtml inlines plotly.js (works offline, outside Jupyter)", () => {
  const page = standaloneHtml(fig);
  assert.ok(page.length > 1e6 && page.includes("if(!window.Plotly)"));
  const bundle = page.slice(0, page.indexOf("</script>"));
  assert.ok(!/<\/script/i.test(bundle.slice(bundle.indexOf("<script") + 7)), "no early </script> inside the bundle");
});

test("loadPlotly always sends the library (the notebook's first cell keeps it for reopening)", () => {
  const sent = capture(() => { loadPlotly(); loadPlotly(); showChart(fig); });
  assert.deepEqual(sent.map((m) => (m.metadata.valemb as any).kind), ["plotly-loader", "plotly-loader", "chart"]);
});

test("figureHtml: unique ids, text that could close the script is escaped", () => {
  const evil = { ...fig, layout: { ...fig.layout, title: { text: "</script><b>x" } } };
  const [h1, h2] = [figureHtml(evil), figureHtml(evil)];
  assert.notEqual(/id="([^"]+)"/.exec(h1)![1], /id="([^"]+)"/.exec(h2)![1]);
  assert.equal(h1.split("</script>").length, 2, "only the closing tag of the snippet itself");
  assert.ok(standaloneHtml(fig).startsWith("<!doctype html>"));
});

test("showTable: rows and danfo DataFrames as rounded HTML tables, columns in the metadata", () => {
  const sent = capture(() => {
    showTable([{ name: "baseline", loss: 2.9212345678, n: 3 }], { digits: 3 });
    showTable(groupTable(summarizeGroups(groupRuns(sampleRuns()), 2.92)), { indexName: "variant" });
  });
  const [rows, frame] = sent;
  assert.deepEqual((rows.metadata.valemb as any).columns, ["name", "loss", "n"]);
  assert.match(rows.data["text/html"] as string, /<th[^>]*>baseline<\/th><td[^>]*>2\.921<\/td><td[^>]*>3<\/td>/);
  const cols = (frame.metadata.valemb as any).columns as string[];
  assert.deepEqual(cols.slice(0, 3), ["variant", "n", "nCrossed"]);
  assert.match(frame.data["text/html"] as string, /<th[^>]*>\+2 tables<\/th>/);
  // narrow in JupyterLab too: columns sized to their content, cells on one line, monospace
  assert.match(frame.data["text/html"] as string, /^<table style="table-layout:auto;[^"]*monospace/);
  assert.ok((frame.data["text/html"] as string).split("<td").slice(1).every((c) => c.startsWith(' style="white-space:nowrap')));
});

test("outside a notebook the display helpers say so", () => {
  assert.throws(() => showTable("<table></table>"), /inside a tslab kernel/);
});
