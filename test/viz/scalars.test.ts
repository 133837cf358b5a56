import { test } from "node:test";
import assert from "node:assert/strict";
import { scalarGrid, type Run } from "../../src/analysis";
import { scalarChart, scalarHeatmap } from "../../src/viz";

const run = (name: string, ve: (step: number) => (number | null)[]): Run => ({
  name, source: name, totalSteps: 10, meta: {},
  evals: [0, 10].map((step) => ({ step, valLoss: 5 - step / 10, timeS: step, scalars: { lambda_ve: ve(step) } })),
});

test("scalarGrid averages over seeds per step and layer; charts draw one line (or row) per layer in use", () => {
  const a = run("a", (s) => [0.5 - s / 100, null, 0.5 + s / 100]);
  const b = run("b", (s) => [0.5 - s / 50, null, 0.5]);
  const g = scalarGrid([a, b, { ...a, name: "old", evals: a.evals.map(({ scalars: _, ...e }) => e) }], "lambda_ve");
  assert.equal(g.runs, 2, "runs without scalars are left out");
  assert.deepEqual(g.steps, [0, 10]);
  assert.deepEqual(g.layers, [0, 2]);
  assert.deepEqual(g.values[1].map((x) => (x === null ? null : Number(x.toFixed(6)))), [0.35, null, 0.55]);
  const lines = scalarChart(g, { title: "λb" });
  assert.deepEqual(lines.data.map((t) => t.name), ["layer 0", "layer 2"]);
  assert.notEqual((lines.data[0].line as { color: string }).color, (lines.data[1].line as { color: string }).color);
  const heat = scalarHeatmap(g);
  assert.deepEqual(heat.data[0].y, ["layer 0", "layer 2"]);
  assert.deepEqual((heat.data[0].z as (number | null)[][]).map((r) => r.length), [2, 2]);
  assert.throws(() => scalarChart(scalarGrid([], "lambda_ve")), /no run recorded the 'lambda_ve' scalars/);
});
