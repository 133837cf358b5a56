import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GPT, MODEL_PRESETS } from "../../src/model";
import { layoutFigure, parameterCount, presetRows, runCommand, sectionLayoutFigure, sectionStatus, SECTIONS } from "../../src/experiments";
import { writeSection } from "./helpers-notebook";

test("layoutFigure: one heatmap row per layout, cells = table ids, empty where a layer has none", () => {
  const fig = layoutFigure([{ name: "b", label: "baseline", layout: "012..........012" }, { name: "m", layout: "00............11" }]);
  assert.equal(fig.data.length, 1);
  const t = fig.data[0] as { type: string; z: (number | null)[][]; text: string[][]; y: string[]; zmax: number; colorscale: [number, string][] };
  assert.equal(t.type, "heatmap");
  assert.deepEqual(t.y, ["baseline", "m"]);
  assert.deepEqual(t.z[0], [0, 1, 2, null, null, null, null, null, null, null, null, null, null, 0, 1, 2]);
  assert.deepEqual(t.z[1].slice(0, 3), [0, 0, null]);
  assert.equal(t.text[0][13], "0");
  assert.equal(t.text[0][5], "");
  assert.equal(t.zmax, 2.5, "three ids: bands centred on 0, 1, 2");
  assert.equal(t.colorscale.length, 6);
  assert.deepEqual((fig.layout.xaxis as { ticktext: string[] }).ticktext[7], "7*", "block 7 has no attention");
  assert.throws(() => layoutFigure([]), /no layouts/);
  assert.throws(() => layoutFigure([{ name: "x", layout: "01?" }]), /unknown character/);
});

test("sectionLayoutFigure: every variant of every section, with the post's run id", () => {
  for (const spec of Object.values(SECTIONS)) {
    const fig = sectionLayoutFigure(spec.name);
    const y = (fig.data[0] as { y: string[] }).y;
    assert.equal(y.length, spec.variants.length);
    assert.match(y[0], /baseline.*\(run 13\)/);
    assert.equal(fig.name, `${spec.name}-layouts`);
  }
});

test("parameterCount equals what the model builds, for several layouts", () => {
  for (const layout of ["012..........012", "01234......01234", "................", "000..........111"]) {
    const cfg = { ...MODEL_PRESETS.smoke, layout };
    const gpt = new GPT(cfg, 0);
    try {
      assert.equal(parameterCount(cfg).total, gpt.numParams(), layout);
    } finally { gpt.dispose(); }
  }
  const tiny = parameterCount(MODEL_PRESETS.tiny);
  assert.equal(tiny.valueEmbeddings, 3 * 2048 * 64);
  assert.ok(tiny.total > 1.3e6 && tiny.total < 1.5e6, `tiny: ${tiny.total}`);
});

test("presetRows: medium, one-gpu, tiny, smoke from the presets", () => {
  const rows = presetRows();
  assert.deepEqual(rows.map((r) => r.preset), ["medium", "one-gpu", "tiny", "smoke"]);
  const medium = rows[0];
  assert.equal(medium.dim, 1024);
  assert.equal(medium["tokens/step"], 8 * 64 * 1024);
  assert.equal(medium.steps, 5960);
  assert.equal(rows[1].batch, 8);
  assert.equal(rows[2].batch, 16);
});

test("runCommand: the terminal twin of runSection's options", () => {
  assert.equal(runCommand("adding"), "npx valemb run adding");
  assert.equal(runCommand("adding", { preset: "smoke", seeds: 2, steps: 8, variants: "baseline,add-2", root: "/tmp/x y" }),
    "npx valemb run adding --preset smoke --seeds 2 --variants baseline,add-2 --steps 8 --root '/tmp/x y'");
  assert.equal(runCommand("sharing", { train: false }), "npx valemb run sharing --no-train");
  assert.throws(() => runCommand("nope"), /unknown section 'nope'/);
});

test("sectionStatus: finished runs per variant; a message naming the command while the baseline is missing", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-status-"));
  const none = sectionStatus("shifting", { root: empty });
  assert.deepEqual(none.finished, {});
  assert.match(none.message!, /No finished baseline run of 'shifting'/);
  assert.match(none.message!, /npx valemb run shifting/);
  const root = writeSection("shifting", { "shift-1-2-3": [0] });
  assert.match(sectionStatus("shifting", { root }).message!, /finished so far: shift-1-2-3 ×1/);
  const full = writeSection("shifting", { baseline: [0, 0.01], "shift-1-2-3": [0.02] });
  const s = sectionStatus("shifting", { root: full });
  assert.deepEqual(s.finished, { baseline: 2, "shift-1-2-3": 1 });
  assert.equal(s.message, null);
  // Unfinished runs do not count.
  fs.writeFileSync(path.join(full, "shifting", "baseline", "seed-1", "meta.json"), JSON.stringify({ finished: null }));
  assert.deepEqual(sectionStatus("shifting", { root: full }).finished, { baseline: 1, "shift-1-2-3": 1 });
});
