// The post's tables and figures from the author's logs (../shared/reference-logs; skipped when absent).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadRuns } from "../../src/analysis";
import {
  getSection, parsePostFigure, postCrossingTable, postFigures, postRanking, postRankingTable, postRunLabels, SECTIONS, tTestFigures, tTestTable, tTestWelch,
} from "../../src/experiments";

const LOGS = path.resolve(__dirname, "..", "..", "..", "shared", "reference-logs");
const skip = fs.existsSync(LOGS) ? false : `reference logs not found at ${LOGS}`;

test("parsePostFigure reads run ids, axis and window from the file name", () => {
  assert.deepEqual(parsePostFigure("13-15-time-1100-1500.png"), { runs: ["13", "15"], axis: "time", from: 1100, to: 1500 });
  assert.deepEqual(parsePostFigure("13-20-21-step-5000-6000.png"), { runs: ["13", "20", "21"], axis: "step", from: 5000, to: 6000 });
  assert.throws(() => parsePostFigure("25-26-record-time.png"), /expected <run ids>/);
  // Every postFigure of the specs parses, and names runs of its own section.
  for (const spec of Object.values(SECTIONS)) for (const c of spec.charts) if (c.postFigure) {
    const ids = spec.variants.map((v) => v.postRun);
    for (const id of parsePostFigure(c.postFigure).runs) assert.ok(ids.includes(id), `${c.postFigure}: run ${id} in ${spec.name}`);
  }
  assert.equal(postRunLabels()["16"], "16: 2 additional (5 tables)");
});

test("adding: crossing table and ranking as in the post", { skip }, () => {
  const { runs } = loadRuns([path.join(LOGS, "value-embeddings-results.md")]);
  const spec = getSection("adding");
  const table = postCrossingTable(runs, spec);
  assert.deepEqual(table.index, ["16", "15", "19", "17", "13", "18"]);
  const ours = table.column("crossingTimeS").values as number[];
  const post = table.column("postS").values as number[];
  ours.forEach((t, i) => assert.ok(Math.abs(t - post[i]) < 1, `${table.index[i]}: ${t} vs ${post[i]}`));
  const ranking = postRanking(runs, spec, { from: 1200, to: 1400 });
  assert.deepEqual(ranking.rows.map((r) => r.run), ["16", "15", "13", "17", "19", "18"]);
  assert.deepEqual(postRankingTable(ranking).columns, ["label", "meanRank", "meanLoss", "meanGapToBaseline"]);
  assert.equal(postCrossingTable(runs, getSection("removing")).columns.includes("postS"), false);
});

test("post figures: one per postFigure, one line per run, the post's window", { skip }, () => {
  const { runs } = loadRuns([path.join(LOGS, "value-embeddings-results.md")]);
  for (const spec of Object.values(SECTIONS)) {
    const figs = postFigures(runs, spec);
    const expected = spec.charts.filter((c) => c.postFigure);
    assert.equal(figs.length, expected.length, spec.name);
    figs.forEach((f, i) => {
      const p = parsePostFigure(expected[i].postFigure!);
      assert.equal(f.name, `post-${expected[i].postFigure!.replace(/\.png$/, "")}`);
      const lines = f.data.filter((t) => (t as { name?: string }).name && /^\d+: /.test((t as { name: string }).name));
      assert.equal(lines.length, p.runs.length, f.name);
      assert.deepEqual((f.layout.xaxis as { range: number[] }).range, [p.from, p.to]);
    });
  }
});

test("t-tests: 28 vs 37 seeds, one-sample against 2.92 and Welch", { skip }, () => {
  const { runs } = loadRuns([path.join(LOGS, "value-embeddings-t-test-results.md")]);
  const t = tTestTable(runs);
  assert.deepEqual(t.column("seeds").values, [28, 37]);
  const p = t.column("pBelowTarget").values as number[];
  assert.ok(Math.abs(p[0] - 0.04340171700038697) < 1e-6);
  assert.ok(Math.abs(p[1] - 5.07368129288152e-7) < 1e-10);
  const w = tTestWelch(runs);
  assert.ok(Math.abs(w.p - 0.004567825425111869) < 1e-6);
  assert.ok(w.diff < 0);
  const figs = tTestFigures(runs);
  assert.deepEqual(figs.map((f) => f.name), ["post-25-26-record-time", "post-25-26-record-step"]);
});
