// The four section notebooks executed in full mode on the committed tiny results (data/runs): each must
// load every variant × seed without training and show the same table `valemb run <section> --no-train`
// computes, then export its charts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { escapeHtml } from "../../src/analysis";
import { getSection, runSection, sectionTableCaption, variantTable } from "../../src/experiments";
import { chromiumOrSkip, htmlOf, jupyterOrSkip, outputsOf, readNotebook, ROOT, textOf } from "./tools";

const { jp, skip: noJupyter, env } = jupyterOrSkip();
const skip = noJupyter ?? chromiumOrSkip();
const SECTIONS = ["adding", "removing", "shifting", "sharing"] as const;
const RESULTS = path.join(ROOT, "data", "runs");

test("committed results: every variant of every section has 3 finished tiny seeds", async () => {
  for (const s of SECTIONS) {
    const r = await runSection(s, { train: false, root: RESULTS });
    assert.deepEqual(r.missing, [], `${s}: variants without results`);
    assert.deepEqual(r.problems, [], `${s}: unreadable runs`);
    for (const v of r.variants) assert.ok(v.runs.length >= 3, `${s}/${v.variant.name}: ${v.runs.length} seeds`);
    assert.equal(r.variants.length, getSection(s).variants.length);
  }
});

test("section notebooks in full mode reproduce the section's table from the committed results", { skip }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-nbfull-"));
  const figs = path.join(out, "figs");
  const notebooks = SECTIONS.map((s, i) => path.join(ROOT, "notebooks", `0${i + 1}-${s}.ipynb`));
  const full: NodeJS.ProcessEnv = { ...env, VALEMB_FIGS: figs };
  delete full.VALEMB_QUICK;
  const r = spawnSync(jp!.python, [path.join(ROOT, "scripts", "nbrun.py"), "--timeout", "300", "--out-dir", out, ...notebooks],
    { cwd: ROOT, env: full, encoding: "utf8", timeout: 1_500_000 });
  process.stderr.write(r.stdout);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);

  for (const [i, s] of SECTIONS.entries()) {
    const outs = outputsOf(readNotebook(path.join(out, path.basename(notebooks[i]))));
    const stdout = outs.filter((o) => o.name === "stdout").map(textOf).join("");
    assert.ok(!outs.some((o) => o.name === "stderr"), `${s}: stderr:\n${outs.filter((o) => o.name === "stderr").map(textOf).join("")}`);
    const expected = await runSection(s, { train: false, root: RESULTS });
    const nRuns = expected.variants.reduce((n, v) => n + v.runs.length, 0);
    assert.match(stdout, new RegExp(`${nRuns} finished runs of ${expected.variants.length} variants\\n`), `${s}: loads every run, trains nothing`);
    assert.match(stdout, new RegExp(`terminal equivalent: npx valemb run ${s} --no-train`));

    const [main] = outs.filter((o) => o.metadata?.valemb?.kind === "table");
    assert.ok(htmlOf(main).includes(`>${escapeHtml(sectionTableCaption(expected))}</caption>`), `${s}: caption states the target as the CLI's does`);
    const table = variantTable(expected);
    const rows = [...htmlOf(main).split("<tbody>")[1].matchAll(/<tr><th[^>]*>([^<]+)<\/th>(.*?)<\/tr>/g)];
    assert.deepEqual(rows.map((m) => m[1]), table.index, `${s}: variants in the CLI's order`);
    const finals = table.column("finalLoss").values as number[];
    for (const [k, m] of rows.entries()) assert.ok(m[2].includes(`>${finals[k].toFixed(4)} ± `), `${s}/${m[1]}: final loss ${finals[k].toFixed(4)}`);

    const charts = outs.filter((o) => o.metadata?.valemb?.kind === "chart").map((o) => o.metadata!.valemb.name as string);
    assert.ok(charts.length >= 4, `${s}: layouts, loss charts and the crossing chart (${charts.join(", ")})`);
    for (const name of charts) for (const ext of ["png", "svg", "html"]) {
      const file = path.join(figs, s, `${name}.${ext}`);
      assert.ok(fs.existsSync(file) && fs.statSync(file).size > 1000, `${s}: exported ${path.relative(out, file)}`);
    }
  }
});
