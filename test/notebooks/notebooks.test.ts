// Every committed notebook, executed headlessly in quick mode (VALEMB_QUICK=1) with the tslab
// kernel through scripts/nbrun.py, then checked on its stored outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { figureOfHtml } from "../../src/viz";
import { committedNotebooks, htmlOf, jupyterOrSkip, outputsOf, readNotebook, ROOT, textOf, type Cell, type Output } from "./tools";

const { jp, skip, env } = jupyterOrSkip();
const NBRUN = path.join(ROOT, "scripts", "nbrun.py");

function nbrun(notebooks: string[], outDir: string) {
  return spawnSync(jp!.python, [NBRUN, "--timeout", "180", "--out-dir", outDir, ...notebooks],
    { cwd: ROOT, env: { ...env, VALEMB_QUICK: "1" }, encoding: "utf8", timeout: 900_000 });
}

const charts = (outs: Output[]) => outs.filter((o) => o.metadata?.valemb?.kind === "chart");
const tables = (outs: Output[]) => outs.filter((o) => o.metadata?.valemb?.kind === "table");
const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

test("every committed notebook runs in quick mode; charts and tables are real", { skip }, () => {
  const notebooks = committedNotebooks();
  assert.ok(notebooks.some((f) => path.basename(f) === "demo.ipynb"));
  const before = notebooks.map(sha);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-nbtest-"));
  const r = nbrun(notebooks, out);
  process.stderr.write(r.stdout);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(notebooks.map(sha), before, "the committed notebooks are left as they were");

  for (const nb of notebooks) {
    const outs = outputsOf(readNotebook(path.join(out, path.basename(nb))));
    for (const c of charts(outs)) {
      const fig = figureOfHtml(htmlOf(c));
      assert.ok(fig.data.length > 0, `${nb}: chart ${c.metadata!.valemb.name} has traces`);
      assert.equal(fig.data.length, c.metadata!.valemb.traces);
      assert.match(htmlOf(c), /class="valemb-chart"/);
    }
    if (charts(outs).length > 0) {
      assert.equal(outs.filter((o) => o.metadata?.valemb?.kind === "plotly-loader").length, 1, `${nb}: plotly.js sent exactly once`);
    }
  }

  // The demo's outputs, in detail (quick mode = the deterministic sample: 3 variants × 3 seeds).
  const demo = outputsOf(readNotebook(path.join(out, "demo.ipynb")));
  assert.match(demo.filter((o) => o.name === "stdout").map(textOf).join(""), /9 runs from the built-in sample/);
  const [loss, crossing] = charts(demo);
  assert.equal(loss.metadata!.valemb.name, "loss-time-last25");
  assert.equal(figureOfHtml(htmlOf(loss)).data.length, 9, "3 variants × (band upper, band lower, mean)");
  const layout = figureOfHtml(htmlOf(loss)).layout as { xaxis: { range: number[] }; yaxis: { range: number[] } };
  assert.equal(layout.xaxis.range.length, 2);
  assert.ok(layout.yaxis.range[0] > 2.85 && layout.yaxis.range[1] < 3.0, "y fitted to the last 25%");
  assert.equal(crossing.metadata!.valemb.name, "crossing-time-2.92");
  assert.equal(figureOfHtml(htmlOf(crossing)).data.length, 5);
  const [table] = tables(demo);
  assert.deepEqual(table.metadata!.valemb.columns.slice(0, 4), ["variant", "n", "nCrossed", "crossingTimeMean"]);
  assert.match(htmlOf(table), /<th[^>]*>baseline<\/th><td[^>]*>3<\/td>/);
  assert.ok(!demo.some((o) => o.name === "stderr"), "no stderr output");

  for (const nb of notebooks.filter((f) => /^0\d-/.test(path.basename(f)))) checkSectionNotebook(path.basename(nb), outputsOf(readNotebook(path.join(out, path.basename(nb)))));
});

const stdoutOf = (outs: Output[]) => outs.filter((o) => o.name === "stdout").map(textOf).join("");
const columnsOf = (t: Output): string[] => t.metadata!.valemb.columns;
const REFERENCE_LOGS = path.join(ROOT, "..", "shared", "reference-logs");

/** The post's notebooks (00 … 05) in quick mode: the charts, tables and text each must show. */
function checkSectionNotebook(name: string, outs: Output[]): void {
  assert.ok(!outs.some((o) => o.name === "stderr"), `${name}: no stderr output:\n${outs.filter((o) => o.name === "stderr").map(textOf).join("")}`);
  const names = charts(outs).map((c) => c.metadata!.valemb.name as string);
  for (const c of charts(outs)) assert.ok(c.metadata!.valemb.traces >= 1, `${name}: ${c.metadata!.valemb.name} has traces`);
  const text = stdoutOf(outs);
  const section = /^0[1-4]-(\w+)\.ipynb$/.exec(name)?.[1];
  if (name === "00-overview.ipynb") {
    assert.deepEqual(names, ["adding-layouts", "removing-layouts", "shifting-layouts", "sharing-layouts"]);
    const [presets, status] = tables(outs);
    assert.deepEqual(columnsOf(presets), ["preset", "medium", "one-gpu", "tiny", "smoke"], "presets side by side: a column each");
    for (const c of ["params", "value-emb share", "tokens/step", "steps"]) assert.match(htmlOf(presets), new RegExp(`<th[^>]*>${c}</th>`), `presets: ${c}`);
    assert.match(htmlOf(presets), /<th[^>]*>params<\/th><td[^>]*>454,496,336<\/td>/);
    assert.deepEqual(columnsOf(status), ["section", "variants", "finished runs", "variants with results", "to train"]);
    assert.match(htmlOf(status), /npx valemb run sharing/);
  } else if (section) {
    assert.equal(names[0], `${section}-layouts`);
    assert.ok(names.includes(`${section}-crossing-time`), `${name}: crossing chart (${names.join(", ")})`);
    assert.ok(names.length >= 3, `${name}: layouts, the section's loss charts and the crossing chart (${names.join(", ")})`);
    const [main, ranking, seeds] = tables(outs);
    assert.deepEqual(columnsOf(main), ["variant", "layout", "reach", "cross step", "cross time (s)", "final loss", "paired Δ final (95 % CI)", "paired p", "Welch p"], `${name}: main table`);
    assert.match(htmlOf(main), /<td[^>]*>[−+]\d\.\d{4} \([−+]\d\.\d{4} … [−+]\d\.\d{4}\)<\/td><td[^>]*>[\d.e-]+ \(\d+\)<\/td>/, `${name}: paired Δ with its interval, then paired p with its pair count`);
    assert.match(htmlOf(main), /<caption[^>]*>Sorted by mean crossing time\. Target \d\.\d{4}: baseline mean final val loss/);
    assert.match(htmlOf(main), /<th[^>]*title="baseline: 0&amp;13, 1&amp;14, 2&amp;15 \(the post's run 13\)"[^>]*>baseline<\/th>/, "the post's label as the row's tooltip");
    assert.match(htmlOf(main), /<td[^>]*>\d\.\d{4} ± \d\.\d{4}<\/td>/, "final loss as mean ± std, 4 decimals");
    assert.deepEqual(columnsOf(ranking), ["variant", "mean rank", "mean loss", "gap to baseline"]);
    assert.match(htmlOf(ranking), /<caption[^>]*>Ranked over steps [\d.]+–[\d.]+ on each variant's mean curve/, "the window as people write it");
    assert.deepEqual(columnsOf(seeds), ["variant", "seeds", "reach target", "time to target (s)", "final loss", "paired seeds", "paired Δ vs baseline (95 % CI)", "paired p", "Welch p", "paired p &lt; 0.05"]);
    assert.match(htmlOf(seeds), /<td[^>]*>[−+]\d\.\d{4} \([−+]\d\.\d{4} … [−+]\d\.\d{4}\)<\/td>/, "paired Δ with its interval");
    assert.match(htmlOf(seeds), /\d\.\d{4} ± \d\.\d{4}/, "seeds as mean ± std");
    const conclusion = outs.filter((o) => /valemb-conclusion/.test(o.data ? htmlOf(o) : ""));
    assert.equal(conclusion.length, 1, `${name}: one conclusion`);
    assert.match(htmlOf(conclusion[0]), /First to reach the target|No variant reaches/);
    assert.match(htmlOf(conclusion[0]), /Lowest mean final loss/);
    assert.match(htmlOf(conclusion[0]), /claims checked on final losses, paired seed by seed: \d+ of \d+ hold/, `${name}: the claims are judged on paired seeds`);
    assert.match(htmlOf(conclusion[0]), /\(smoke, 2 paired seeds: Δ [−+]\d\.\d{4}, 95 % CI .*paired p = [\d.e-]+.*; Welch p = /);
    assert.match(htmlOf(conclusion[0]), /smoke-preset runs, not the speedrun/);
    assert.match(text, new RegExp(`terminal equivalent: npx valemb run ${section} --preset smoke --seeds 2 --variants baseline,`));
    assert.match(text, /sweep \w+: \d+ trained, 0 already done, 0 failed/);
    assert.match(text, /charts; terminal equivalent: npx valemb export --spec \S+-charts\.json --out /);
  } else if (name === "05-published-runs.ipynb") {
    if (!fs.existsSync(REFERENCE_LOGS)) {
      assert.match(text, /NOT FOUND/);
      assert.equal(names.length, 0);
      return;
    }
    assert.match(text, /value-embeddings-results\.md: 57 runs/);
    assert.deepEqual(names, [
      "post-13-15-time-1100-1500", "post-13-15-16-17-18-19-time-1200-1500", "post-13-15-16-17-18-19-step-5000-6000",
      "post-0-1-2-3-4-5-13-time-1250-1500", "post-1-6-7-13-time-1200-1500", "post-6-8-9-10-13-time-1200-1500",
      "post-13-20-21-step-5000-6000", "post-8-11-12-13-time-1200-1500", "post-25-26-record-time", "post-25-26-record-step",
    ]);
    const [crossings, ranking, ttest] = tables(outs);
    assert.ok(columnsOf(crossings).includes("postS"));
    // The post's order of crossing 2.92: 16, 15, 19, 17, 13, 18.
    assert.deepEqual([...htmlOf(crossings).matchAll(/<tr><th[^>]*>(\d+)<\/th>/g)].map((m) => m[1]), ["16", "15", "19", "17", "13", "18"]);
    assert.deepEqual([...htmlOf(ranking).matchAll(/<tr><th[^>]*>(\d+)<\/th>/g)].map((m) => m[1]), ["16", "15", "13", "17", "19", "18"]);
    assert.ok(columnsOf(ttest).includes("pBelowTarget"));
    assert.match(htmlOf(ttest), /<td[^>]*>28<\/td>[^]*<td[^>]*>37<\/td>/);
    assert.match(text, /Welch's t-test[^\n]*p = 0\.00457/);
    assert.match(text, /10 charts; terminal equivalent: npx valemb export --spec/);
  } else {
    assert.fail(`${name}: no expectations for this notebook; add them here`);
  }
}

test("committed notebooks carry no outputs (they are run, never stored, with results)", () => {
  for (const nb of committedNotebooks()) {
    const cells = readNotebook(nb).cells as (Cell & { execution_count?: number | null })[];
    for (const [i, c] of cells.entries()) {
      if (c.cell_type !== "code") continue;
      assert.deepEqual(c.outputs, [], `${path.basename(nb)} cell ${i} has outputs`);
      assert.equal(c.execution_count ?? null, null, `${path.basename(nb)} cell ${i} has an execution count`);
    }
  }
});

test("committed notebooks are stored the way Jupyter saves them (saving in JupyterLab reformats nothing)", () => {
  // nbformat writes sorted keys, one-space indent, sources split into lines, a final newline
  const sortKeys = (v: unknown): unknown => Array.isArray(v) ? v.map(sortKeys)
    : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
  for (const nb of committedNotebooks()) {
    const text = fs.readFileSync(nb, "utf8");
    const parsed = JSON.parse(text) as { nbformat_minor: number; cells: { id?: string; source: unknown }[] };
    assert.equal(JSON.stringify(sortKeys(parsed), null, 1) + "\n", text, `${path.basename(nb)}: rewrite it with nbformat (python3 -c "import nbformat as n; n.write(n.read(F, 4), F)")`);
    assert.ok(parsed.nbformat_minor >= 5 && parsed.cells.every((c) => typeof c.id === "string" && Array.isArray(c.source)), `${path.basename(nb)}: cell ids and line lists`);
  }
});

test("nbrun: a failing cell fails the run and prints its source and stderr", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-nbfail-"));
  const nb = {
    cells: [
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: "const ok = 1 + 1;\nok" },
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: "throw new Error(\"boom from cell 1\");" },
      { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: "console.log(\"never runs\")" },
    ],
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    nbformat: 4, nbformat_minor: 5,
  };
  const file = path.join(dir, "fails.ipynb");
  fs.writeFileSync(file, JSON.stringify(nb));
  const r = nbrun([file], path.join(dir, "out"));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL .*fails\.ipynb/);
  assert.match(r.stdout, /cell 1 failed:\n--- source ---\nthrow new Error\("boom from cell 1"\);\n--- stderr ---\n[^]*Error: boom from cell 1/);
  assert.match(r.stdout, /0 passed, 1 failed/);
  const executed = readNotebook(path.join(dir, "out", "fails.ipynb"));
  assert.equal(textOf(executed.cells[0].outputs![0]).trim(), "2");
  assert.deepEqual(executed.cells[2].outputs, []);
});
