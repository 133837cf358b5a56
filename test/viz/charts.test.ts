import { test } from "node:test";
import assert from "node:assert/strict";
import { BANDS_FOR_ALL, ColorMap, PALETTE, crossingChart, fitYRange, lossChart, meanCurve, parseChartSpec, resolveWindow, sampleRuns, seedMean, variantOf, type Run } from "../../src/viz";

function run(name: string, points: [number, number, number][], meta: Record<string, unknown> = {}): Run {
  return { name, source: "test", totalSteps: null, meta, evals: points.map(([step, timeS, valLoss]) => ({ step, timeS, valLoss })) };
}

// Two seeds of "a" (loss 1 and 3 everywhere after the start), one run of "b".
const a0 = run("a/seed-0", [[0, 0, 10], [100, 10, 1], [200, 20, 1]]);
const a1 = run("a/seed-1", [[0, 0, 10], [100, 10, 3], [200, 20, 3]]);
const b0 = run("b/seed-0", [[0, 0, 10], [100, 11, 2], [200, 22, 1.5]]);

test("variantOf: meta.variant, else the run name without its seed part", () => {
  assert.equal(variantOf(a0), "a");
  assert.equal(variantOf(run("25 7", [])), "25");
  assert.equal(variantOf(run("22-3", [])), "22");
  assert.equal(variantOf(run("x", [], { variant: "plus2" })), "plus2");
});

test("lossChart per run: one line each, seeds of a variant share its color", () => {
  const colors = new ColorMap();
  const fig = lossChart([a0, a1, b0], { colors });
  assert.equal(fig.data.length, 3);
  assert.deepEqual(fig.data.map((t) => t.name), ["a/seed-0", "a/seed-1", "b/seed-0"]);
  const color = (i: number) => (fig.data[i].line as { color: string }).color;
  assert.equal(color(0), color(1));
  assert.notEqual(color(0), color(2));
  assert.equal(color(0), colors.colorOf("a"));
  assert.equal(fig.name, "loss-time");
  assert.equal((fig.layout.xaxis as any).range, undefined, "no window: Plotly picks the ranges");
});

test("lossChart per variant: upper, lower (filled) and mean traces for 2+ seeds, one line for one", () => {
  const fig = lossChart([a0, a1, b0], { groupBy: "variant", axis: "step" });
  assert.equal(fig.data.length, 3 + 1);
  const [upper, lower, mean] = fig.data;
  assert.deepEqual(mean.y, [10, 2, 2]);
  assert.equal(mean.name, "a (n=2)");
  const sd = Math.SQRT2; // sample std of {1, 3}
  assert.ok(Math.abs((upper.y as number[])[1] - (2 + sd)) < 1e-5);
  assert.ok(Math.abs((lower.y as number[])[1] - (2 - sd)) < 1e-5);
  assert.equal(lower.fill, "tonexty");
  assert.equal(fig.data[3].name, "b");
  assert.equal((fig.layout.xaxis as any).title.text, "step");
});

test("meanCurve: union of x values inside the overlap, linear interpolation", () => {
  const m = meanCurve([{ x: [0, 10], y: [0, 10] }, { x: [5, 15], y: [5, 5] }]);
  assert.deepEqual(m.x, [5, 10]);
  assert.deepEqual(m.mean, [5, 7.5]);
});

test("window: x cut to it, y fitted to the data inside (the loss of 10 at the start is left out)", () => {
  const fig = lossChart([a0, a1, b0], { window: { from: 12, to: 22 }, target: 1.2 });
  assert.deepEqual((fig.layout.xaxis as any).range, [12, 22]);
  const [lo, hi] = (fig.layout.yaxis as any).range as [number, number];
  assert.ok(lo < 1 && lo > 0.8 && hi > 3 && hi < 3.2, `y range ${lo}..${hi}`);
  assert.equal(fig.name, "loss-time-12-22");
  const shape = (fig.layout.shapes as any[])[0];
  assert.equal(shape.y0, 1.2);
  // the window keeps one point before it so the lines reach its left edge
  assert.deepEqual(fig.data[0].x, [10, 20]);
});

test("window { last: 0.25 } and a far-away target that does not flatten the curves", () => {
  const fig = lossChart([a0, a1], { window: { last: 0.25 }, target: 100 });
  assert.deepEqual((fig.layout.xaxis as any).range, [15, 20]);
  assert.ok(((fig.layout.yaxis as any).range as number[])[1] < 4);
  assert.equal(fig.name, "loss-time-last25");
});

test("bad windows and empty input are clear errors", () => {
  assert.throws(() => resolveWindow({ last: 1.5 }, 0, 10), /fraction/);
  assert.throws(() => resolveWindow({ from: 5, to: 5 }, 0, 10), /from < to/);
  assert.throws(() => lossChart([run("empty", [])]), /none of the 1 run/);
  assert.equal(fitYRange([{ x: [0], y: [1] }], 5, 6), null);
});

test("crossingChart: fastest group on top, mean ± std for 2+ runs, missed runs named", () => {
  const fast = [run("f/seed-0", [[0, 0, 3], [10, 100, 2]]), run("f/seed-1", [[0, 0, 3], [10, 120, 2]])];
  const slow = [run("s/seed-0", [[0, 0, 3], [10, 200, 2]]), run("s/seed-1", [[0, 0, 3], [10, 200, 2.9]])];
  const fig = crossingChart([...slow, ...fast], { target: 2.5 });
  assert.equal(fig.data.length, 2 + 1);
  assert.deepEqual(fig.data[0].x, [50, 60]); // interpolated halfway between the evals
  assert.deepEqual(fig.data[1].x, [55]);
  assert.ok(Math.abs(((fig.data[1].error_x as any).array[0]) - Math.sqrt(50)) < 1e-9);
  assert.match(String((fig.data[2].y as string[])[0]), /^s \(1 of 2 never reach it\)$/);
  assert.equal((fig.layout.yaxis as any).autorange, "reversed");
  assert.throws(() => crossingChart(slow, { target: 1 }), /no run reaches/);
});

test("ColorMap: stable per name, baseline blue, distinct until the palette runs out", () => {
  const c = new ColorMap();
  assert.equal(c.colorOf("13", "13: baseline"), PALETTE[0]);
  const names = Array.from({ length: 9 }, (_, i) => `variant ${i}`);
  const colors = names.map((n) => c.colorOf(n));
  assert.equal(new Set([PALETTE[0], ...colors]).size, 10);
  assert.deepEqual(names.map((n) => c.colorOf(n)), colors);
  assert.equal(new ColorMap().colorOf("variant 3"), new ColorMap().colorOf("variant 3"), "same name, same color in a fresh map");
});

test("sample runs are deterministic and shaped like the speedrun", () => {
  const [r1, r2] = [sampleRuns(), sampleRuns()];
  assert.deepEqual(r1, r2);
  assert.equal(r1.length, 9);
  const last = r1[0].evals[r1[0].evals.length - 1];
  assert.equal(last.step, 5960);
  assert.ok(last.timeS !== null && last.timeS > 1400 && last.timeS < 1500 && last.valLoss > 2.85 && last.valLoss < 2.95);
});

test("parseChartSpec: checks names and shapes, says which figure is wrong", () => {
  const fig = lossChart([a0]);
  assert.equal(parseChartSpec({ valembCharts: 1, figures: [fig] }, "x.json").length, 1);
  assert.equal(parseChartSpec(fig, "x.json")[0].name, fig.name);
  assert.throws(() => parseChartSpec({ figures: [fig, { ...fig, name: "../evil" }] }, "x.json"), /x\.json: figure 1: 'name'/);
  assert.throws(() => parseChartSpec({ figures: [fig, fig] }, "x.json"), /two figures are named/);
  assert.throws(() => parseChartSpec({ figures: [{ name: "a", layout: {} }] }, "x.json"), /'data'/);
});

// Three seeds of one variant evaluated at the same steps but at different speeds, and a second variant.
const paced = (name: string, secPerStep: number, end: number, meta: Record<string, unknown> = {}) =>
  run(name, [0, 50, 100].map((s) => [s, s * secPerStep, s === 100 ? end : 5 - s / 50] as [number, number, number]), meta);

test("seedMean: seeds at the same steps are averaged step by step, so the time-axis mean runs to the mean final time", () => {
  const seeds = [paced("v/seed-0", 1.0, 2.9), paced("v/seed-1", 1.1, 2.8), paced("v/seed-2", 1.2, 3.0)];
  const m = seedMean(seeds, "time");
  assert.deepEqual(m.x.map((x) => +x.toFixed(6)), [0, 55, 110], "mean time at each step; ends at the mean final time, not the fastest seed's 100 s");
  assert.ok(Math.abs(m.mean[2] - 2.9) < 1e-12, "the last mean is the mean final loss");
  assert.ok(Math.abs(m.std[2] - 0.1) < 1e-12);
  // with the target at the mean final loss, the mean line reaches it (the old overlap mean stopped at 100 s, above it)
  const fig = lossChart(seeds, { groupBy: "variant", window: { from: 50 }, target: 2.9 });
  assert.deepEqual((fig.layout.xaxis as any).range, [50, 110], "the x window ends where the data ends");
  const mean = fig.data.find((t) => String(t.name).startsWith("v (n=3)"))!;
  assert.equal((mean.x as number[]).at(-1), 110);
});

test("bands: every group's ±std band up to BANDS_FOR_ALL groups, beyond that only the baseline's (std still in the hover)", () => {
  const groups = (n: number) => Array.from({ length: n }, (_, g) => [0, 1].map((seed) =>
    paced(`${g === 0 ? "baseline" : `v${g}`}/seed-${seed}`, 1, 3 - 0.01 * g + 0.005 * seed))).flat();
  const few = lossChart(groups(BANDS_FOR_ALL), { groupBy: "variant" });
  assert.equal(few.data.filter((t) => t.fill === "tonexty").length, BANDS_FOR_ALL);
  const many = lossChart(groups(6), { groupBy: "variant" });
  const filled = many.data.filter((t) => t.fill === "tonexty");
  assert.deepEqual(filled.map((t) => t.legendgroup), ["baseline"]);
  assert.equal(many.data.filter((t) => t.showlegend !== false).length, 6, "one legend entry per group");
  assert.match(String(many.data.find((t) => t.legendgroup === "v3" && t.customdata)!.hovertemplate), /± %\{customdata:.4f\}/);
  assert.match((many.layout.legend as any).title.text, /band ±1 std of the baseline/);
});

test("legend: under the plot in rows across the width (covers no data), the figure grows by its rows", () => {
  const fig = lossChart([a0, a1, b0], { groupBy: "variant", axis: "step" });
  const legend = fig.layout.legend as Record<string, unknown>;
  assert.equal(legend.orientation, "h");
  assert.deepEqual([legend.yref, legend.yanchor], ["container", "bottom"]);
  assert.ok((fig.layout.margin as any).b > 64 && fig.layout.height! > 520);
  const long = Array.from({ length: 12 }, (_, i) => run(`layers 0-2 share one table, 13-15 another ${i}`, [[0, 0, 3], [10, 1, 2]]));
  const tall = lossChart(long, {});
  assert.ok(tall.layout.height! >= fig.layout.height! + 24 * 3, "twelve long labels take several rows");
});
