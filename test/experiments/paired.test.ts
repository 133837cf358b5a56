// Paired comparisons, the power estimate and the learned-scalar summaries of a section, on run folders
// written here (evals.jsonl with scalars + meta.json), as the trainer writes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  SECTIONS, finalScalarTable, frameworkComparison, frameworkTable, pairedComparison, pairedFindings, pairedSummaryHtml, powerEstimate, scalarFigures, sectionResults,
  sectionTableRows, selectVariants, variantTable,
} from "../../src/experiments";
import { pairedTTest, seedsForDifference } from "../../src/analysis";

const spec = SECTIONS.adding;
const L = 16;

/** A finished run: loss falls linearly to `final`; λb of the layers with a table drifts to `lateVe` (late layers) / 0.1 (early). */
function writeRun(root: string, variant: string, seed: number, final: number, lateVe: number) {
  const dir = path.join(root, "adding", variant, `seed-${seed}`);
  fs.mkdirSync(dir, { recursive: true });
  const layout = spec.variants.find((v) => v.name === variant)!.layout;
  const lines = [0, 5, 10].map((step) => {
    const f = step / 10;
    const ve = [...layout].map((c, i) => (c === "." ? null : Number((0.5 + f * ((i < 8 ? 0.1 : lateVe) - 0.5)).toFixed(6))));
    return JSON.stringify({
      step, total_steps: 10, val_loss: Number((7 + f * (final - 7)).toFixed(6)), train_time_ms: step * 100, step_avg_ms: 100,
      scalars: { lambda_ve: ve, lambda_v: Array(L).fill(0.5), lambda_x: Array(L).fill(1), lambda_x0: Array(L).fill(0), skip_w: Array(L).fill(null) },
    });
  });
  fs.writeFileSync(path.join(dir, "evals.jsonl"), lines.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ layout, seed, steps: 10, finished: "2026-12-01T00:00:00Z" }));
}

test("paired comparison: seed by seed against the baseline, Welch beside it, the power estimate from the paired spread", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-paired-"));
  try {
    // seeds share a large offset (the init), add-2 is 0.01 below the baseline in every seed, ± a little
    const offset = [0, 0.03, -0.02, 0.01];
    const noise = [0.001, -0.002, 0.0005, 0.0015];
    for (let s = 0; s < 4; s++) {
      writeRun(root, "baseline", s, 4.2 + offset[s], 0.6);
      writeRun(root, "add-2", s, 4.19 + offset[s] + noise[s], 0.7);
    }
    writeRun(root, "add-1", 0, 4.18, 0.6); // one seed only: a difference, no test
    const results = sectionResults(spec, { root, variants: selectVariants(spec, "headline") });
    const rows = pairedComparison(results);
    assert.deepEqual(rows.map((r) => r.variant), ["add-1", "add-2"]);
    const [one, two] = rows;
    assert.deepEqual(one.seeds, [0]);
    assert.ok(Math.abs(one.meanDiff! - -0.02) < 1e-9);
    assert.equal(one.p, null);
    assert.deepEqual(two.seeds, [0, 1, 2, 3]);
    const expected = pairedTTest([0, 1, 2, 3].map((s) => 4.19 + offset[s] + noise[s]), [0, 1, 2, 3].map((s) => 4.2 + offset[s]));
    assert.ok(Math.abs(two.meanDiff! - expected.mean) < 1e-6 && Math.abs(two.p! - expected.p) < 1e-6);
    assert.ok(two.ciHigh! < 0, "the paired CI excludes 0");
    assert.ok(two.p! < 0.01 && two.welchP! > 0.3, `pairing removes the seed offset: paired p ${two.p}, Welch p ${two.welchP}`);
    // the section's main tables carry the same paired numbers, Welch beside them
    const main = variantTable(results);
    const col = (c: string) => main.column(c).values as (number | null)[];
    const at = (name: string) => main.index.indexOf(name);
    assert.equal(col("pairedDiff")[at("add-2")], two.meanDiff);
    assert.equal(col("pairedP")[at("add-2")], two.p);
    assert.equal(col("pairs")[at("add-2")], 4);
    assert.equal(col("welchP")[at("add-2")], two.welchP);
    assert.equal(col("pairedDiff")[at("add-1")], one.meanDiff);
    assert.equal(col("pairedP")[at("add-1")], null, "one pair: a difference, no test");
    assert.equal(col("pairedDiff")[at("baseline")], null);
    const shown = Object.fromEntries(sectionTableRows(results).map((r) => [r.variant, r]));
    const sig = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(4)}`;
    assert.equal(shown["add-2"]["paired Δ final (95 % CI)"], `${sig(two.meanDiff!)} (${sig(two.ciLow!)} … ${sig(two.ciHigh!)})`);
    assert.equal(shown["add-2"]["paired p"], `${two.p! < 1e-3 ? two.p!.toExponential(1) : two.p!.toFixed(3)} (4)`);
    assert.equal(shown["add-1"]["paired Δ final (95 % CI)"], sig(one.meanDiff!));
    assert.equal(shown["baseline"]["paired Δ final (95 % CI)"], "–");
    const pw = powerEstimate(rows);
    assert.ok(Math.abs(pw.pairedStd - expected.std) < 1e-6, "pooled over the variants with ≥ 2 pairs");
    assert.equal(pw.seedsNeeded, seedsForDifference(expected.std, 0.01));
    assert.ok(pw.detectableWithPairs! > 0 && seedsForDifference(expected.std, pw.detectableWithPairs!) <= 4);

    // the learned value-embedding weights: final table per variant, one chart per variant
    const finals = finalScalarTable(results);
    assert.deepEqual(finals.index, ["baseline", "add-1", "add-2"]);
    const cols = finals.columns as string[];
    assert.deepEqual(cols.filter((c) => c.startsWith("L")), ["L0", "L1", "L2", "L3", "L4", "L11", "L12", "L13", "L14", "L15"]);
    const row = (name: string) => (finals.values as (number | string | null)[][])[finals.index.indexOf(name)];
    assert.equal(row("baseline")[cols.indexOf("L0")], 0.1);
    assert.equal(row("baseline")[cols.indexOf("L15")], 0.6);
    assert.equal(row("baseline")[cols.indexOf("L3")], null, "the baseline reads no table on layer 3");
    assert.equal(row("add-2")[cols.indexOf("L15")], 0.7);
    const figs = scalarFigures(results);
    assert.deepEqual(figs.map((f) => f.name), ["adding-baseline-lambda_ve", "adding-add-1-lambda_ve", "adding-add-2-lambda_ve"]);
    assert.equal(figs[0].data.length, 6, "one line per layer with a table");
    assert.deepEqual((figs[0].data[0] as { x: number[] }).x, [0, 5, 10]);

    // the findings are computed from these numbers
    const said = pairedFindings(results);
    assert.match(said[0], /^1 additional \(4 tables\): 1 seed paired with the baseline, no test yet\.$/);
    assert.match(said[1], new RegExp(`^2 additional \\(5 tables\\): Δ ${two.meanDiff!.toFixed(4)} .*4 paired seeds.*: below the baseline, significant at p < 0\\.05\\.$`));
    assert.match(said[2], new RegExp(`needs ${pw.seedsNeeded} seeds`));
    assert.match(said[3], /λb averages 0\.100 on the early layers \(0: 0\.100, 1: 0\.100, 2: 0\.100\) and 0\.600 on the late ones .*weighted down/);
    assert.match(said[4], /post's own logs hold no learned scalars/);
    assert.match(pairedSummaryHtml(results), /<table[\s\S]*add-2[\s\S]*<li>/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("the committed tiny runs hold no scalars: no scalar charts, and the paired table still works", () => {
  const root = path.resolve(__dirname, "../../data/runs");
  const results = sectionResults(SECTIONS.removing, { root });
  assert.deepEqual(scalarFigures(results), []);
  const rows = pairedComparison(results);
  assert.ok(rows.length > 0 && rows.every((r) => r.seeds.length === 3));
  assert.ok(pairedFindings(results).some((s) => /recorded no learned scalars/.test(s)));
});

test("frameworkComparison: the same seeds in two frameworks, their gap against the seed noise, each one's paired Δ", () => {
  const a = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-fw-a-")), b = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-fw-b-"));
  try {
    const offset = [0, 0.02, -0.01];
    for (let s = 0; s < 3; s++) {
      writeRun(a, "baseline", s, 4.2 + offset[s], 0.6);
      writeRun(a, "add-2", s, 4.19 + offset[s], 0.6);
      writeRun(b, "baseline", s, 4.201 + offset[s], 0.6);
      writeRun(b, "add-2", s, 4.192 + offset[s] + (s === 1 ? 0.001 : 0), 0.6);
    }
    writeRun(a, "add-1", 0, 4.1, 0.6); // only in one framework: left out
    const variants = selectVariants(spec, "headline");
    const rows = frameworkComparison(sectionResults(spec, { root: a, variants }), sectionResults(spec, { root: b, variants }));
    assert.deepEqual(rows.map((r) => r.variant), ["baseline", "add-2"]);
    assert.ok(Math.abs(rows[0].frameworkDiff! - -0.001) < 1e-9 && rows[0].seedStd! > 0.01);
    assert.equal(rows[0].oursVsBaseline, null);
    assert.ok(rows[1].oursVsBaseline!.mean < 0 && rows[1].theirsVsBaseline!.mean < 0, "same sign");
    assert.ok(Math.abs(rows[1].theirsVsBaseline!.mean - (-0.009 + 0.001 / 3)) < 1e-6);
    assert.deepEqual(frameworkTable(rows).columns.slice(0, 3), ["seeds", "tfjs final", "torch final"]);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});
