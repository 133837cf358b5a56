// Every committed notebook, executed headlessly in quick mode (VALEMB_QUICK=1) with the tslab
// kernel through scripts/nbrun.py, then checked on its stored outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { committedNotebooks, jupyterOrSkip, outputsOf, readNotebook, ROOT, textOf, type Output } from "./tools";

const { jp, skip, env } = jupyterOrSkip();
const NBRUN = path.join(ROOT, "scripts", "nbrun.py");

function nbrun(notebooks: string[], outDir: string) {
  return spawnSync(jp!.python, [NBRUN, "--timeout", "180", "--out-dir", outDir, ...notebooks],
    { cwd: ROOT, env: { ...env, VALEMB_QUICK: "1" }, encoding: "utf8", timeout: 900_000 });
}

const html = (o: Output): string => { const v = o.data!["text/html"]; return Array.isArray(v) ? v.join("") : v; };
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
      const fig = c.data!["application/vnd.plotly.v1+json"];
      assert.ok(fig.data.length > 0, `${nb}: chart ${c.metadata!.valemb.name} has traces`);
      assert.equal(fig.data.length, c.metadata!.valemb.traces);
      assert.match(html(c), /class="valemb-chart"/);
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
  assert.equal(loss.data!["application/vnd.plotly.v1+json"].data.length, 9, "3 variants × (band upper, band lower, mean)");
  const layout = loss.data!["application/vnd.plotly.v1+json"].layout;
  assert.equal(layout.xaxis.range.length, 2);
  assert.ok(layout.yaxis.range[0] > 2.85 && layout.yaxis.range[1] < 3.0, "y fitted to the last 25%");
  assert.equal(crossing.metadata!.valemb.name, "crossing-time-2.92");
  assert.equal(crossing.data!["application/vnd.plotly.v1+json"].data.length, 5);
  const [table] = tables(demo);
  assert.deepEqual(table.metadata!.valemb.columns.slice(0, 4), ["variant", "n", "nCrossed", "crossingTimeMean"]);
  assert.match(html(table), /<th>baseline<\/th><td>3<\/td>/);
  assert.ok(!demo.some((o) => o.name === "stderr"), "no stderr output");
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
