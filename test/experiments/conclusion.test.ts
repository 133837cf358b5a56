import { test } from "node:test";
import assert from "node:assert/strict";
import { conclusionHtml, getSection, POST_FINDINGS, sectionConclusion, sectionResults, SECTIONS, seedSummaryRows } from "../../src/experiments";
import { writeSection } from "./helpers-notebook";

test("every post claim names variants of its section", () => {
  for (const [name, f] of Object.entries(POST_FINDINGS)) {
    const names = SECTIONS[name as keyof typeof SECTIONS].variants.map((v) => v.name);
    for (const c of f.claims) for (const v of [c.better, c.worse]) assert.ok(names.includes(v), `${name}: ${v}`);
    assert.ok(f.finding.length > 20);
  }
});

test("adding: a clearly better variant is named, significant, and the post's claim holds", () => {
  // add-2 ends 0.05 lower in all three seeds; add-1 is the baseline plus noise.
  const root = writeSection("adding", { baseline: [0, 0.002, -0.002], "add-1": [0.001, -0.001, 0.003], "add-2": [-0.05, -0.049, -0.051] });
  const c = sectionConclusion(sectionResults(getSection("adding"), { root, variants: getSection("adding").variants.filter((v) => ["baseline", "add-1", "add-2"].includes(v.name)) }));
  assert.equal(c.lowestFinal.variant.name, "add-2");
  assert.equal(c.firstToTarget!.variant.name, "add-2");
  assert.equal(c.bestRanked, "add-2");
  const add2 = c.claims.find((x) => x.better === "add-2" && x.worse === "baseline")!;
  assert.ok(add2.holds && add2.p! < 0.05);
  const add1 = c.claims.find((x) => x.better === "add-1")!;
  assert.equal(add1.holds, false);
  assert.ok(add1.p! > 0.05);
  assert.equal(c.claims.length, 2, "the add-2 vs add-4 claim needs add-4");
  const text = c.lines.join("\n");
  assert.match(text, /Lowest mean final loss: 2 additional \(5 tables\) .*significant at p < 0\.05/);
  assert.match(text, /1 of 2 hold here/);
  assert.match(text, /reversed: 1 additional table beats the baseline/);
  assert.match(text, /tiny-preset runs, not the speedrun: a far smaller model/);
  const html = conclusionHtml(c);
  assert.match(html, /^<div class="valemb-conclusion">/);
  assert.match(html, /&amp;|2 additional/);
});

test("removing: the baseline best; one seed each: nothing is testable", () => {
  const root = writeSection("removing", { baseline: [0], "remove-2": [0.03] }, { preset: "medium" });
  const spec = getSection("removing");
  const c = sectionConclusion(sectionResults(spec, { root, variants: spec.variants.filter((v) => ["baseline", "remove-2"].includes(v.name)) }));
  assert.equal(c.lowestFinal.variant.name, "baseline");
  const text = c.lines.join("\n");
  assert.match(text, /Lowest mean final loss: the baseline/);
  assert.match(text, /holds: the baseline beats removing layer 2 \(−0\.0300, not testable\)/);
  assert.doesNotMatch(text, /not the speedrun/, "medium runs get no scale warning");
});

test("seedSummaryRows: mean ± std per variant in the post's order, Welch's p against the baseline", () => {
  const root = writeSection("shifting", { baseline: [0, 0.002, -0.002], "shift-1-2-3": [0.05, 0.049, 0.051], "shift-2-3-4": [0.01] });
  const rows = seedSummaryRows(sectionResults(getSection("shifting"), { root }));
  assert.deepEqual(rows.map((r) => r.variant), ["baseline", "shift-2-3-4", "shift-1-2-3"]);
  assert.equal(rows[0]["p < 0.05"], "baseline");
  assert.match(String(rows[0]["final loss"]), /^\d\.\d{4} ± 0\.0020$/);
  assert.equal(rows[1]["p < 0.05"], "needs ≥ 2 seeds");
  assert.equal(rows[1]["final loss"], rows[1]["final loss"].toString().split(" ")[0], "one seed: no ± std");
  assert.equal(rows[2]["p < 0.05"], "yes");
  assert.equal(rows[2]["Δ final vs baseline"], "+0.0500");
});
