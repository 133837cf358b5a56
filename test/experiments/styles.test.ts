// One label and color per variant everywhere: section charts, the post's runs, the t-test charts, export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASELINE_COLOR, chartStyle, SECTIONS, sectionColors, tTestFigures, variantColorTable, windowText } from "../../src/experiments";
import type { Run } from "../../src/analysis";

const fakeRun = (name: string, meta: Record<string, unknown> = {}): Run => ({
  name, source: "test", totalSteps: 100, meta, evals: [0, 50, 100].map((s) => ({ step: s, timeS: s, valLoss: 5 - s / 100 })),
});

test("variant colors: the baseline always blue, distinct within every section, the same wherever a variant reappears", () => {
  const table = variantColorTable();
  for (const spec of Object.values(SECTIONS)) {
    const colors = spec.variants.map((v) => table.get(v.name));
    assert.equal(table.get(spec.baseline), BASELINE_COLOR, spec.name);
    assert.equal(new Set(colors).size, colors.length, `${spec.name}: ${colors.join(" ")}`);
  }
  assert.equal(sectionColors().colorOf("add-2"), table.get("add-2"));
});

test("chartStyle: run folders, the post's run ids and t-test groups get the variant's label and color", () => {
  const table = variantColorTable();
  const folders = [fakeRun("adding/add-1/seed-0", { layout: "0123........0123", seed: 0 }), fakeRun("adding/baseline/seed-1", { layout: "012..........012", seed: 1 })];
  const s = chartStyle(folders);
  assert.equal(s.labels["adding/add-1"], "1 additional (4 tables)");
  assert.equal(s.labels["adding/add-1/seed-0"], "1 additional (4 tables), seed 0");
  assert.equal(s.colors.colorOf("adding/baseline"), BASELINE_COLOR);
  assert.equal(s.colors.colorOf("adding/add-1"), table.get("add-1"));
  // a folder of unknown name: found by its layout
  assert.equal(chartStyle([fakeRun("x/seed-0", { layout: "01234......01234" })]).labels.x, "2 additional (5 tables)");
  const post = chartStyle([fakeRun("13"), fakeRun("16"), fakeRun("25 3"), fakeRun("26 1")]);
  assert.equal(post.labels["13"], "13: baseline: 0&13, 1&14, 2&15");
  assert.equal(post.colors.colorOf("13"), BASELINE_COLOR);
  assert.equal(post.colors.colorOf("25"), BASELINE_COLOR);
  assert.equal(post.colors.colorOf("26"), table.get("add-2"));
  assert.equal(post.colors.colorOf("16"), table.get("add-2"));
});

test("t-test charts: the seed count once, the baseline in the baseline's color", () => {
  const runs = [...[1, 2, 3].map((i) => fakeRun(`25 ${i}`)), ...[1, 2].map((i) => fakeRun(`26 ${i}`))]
    .map((r) => ({ ...r, evals: [5500, 5700, 5960].map((s, i) => ({ step: s, timeS: 1395 + 20 * i, valLoss: 2.93 - 0.005 * i })) }));
  for (const fig of tTestFigures(runs)) {
    const names = fig.data.filter((t) => t.showlegend !== false).map((t) => String(t.name));
    assert.deepEqual(names, ["25: baseline (n=3)", "26: 2 additional tables (n=2)"]);
    const base = fig.data.find((t) => t.name === "25: baseline (n=3)")!;
    assert.equal((base.line as { color: string }).color, BASELINE_COLOR);
  }
});

test("windowText: windows as people write them", () => {
  assert.equal(windowText({ axis: "step", from: 50, to: 90 }), "steps 50–90");
  assert.equal(windowText({ axis: "time", from: 1200, to: 1400 }), "1,200–1,400 s");
  assert.equal(windowText({ axis: "time", from: 61.25, to: 110.5 }), "61.3–110.5 s");
});
