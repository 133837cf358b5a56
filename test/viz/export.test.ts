import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHROMIUM_MISSING, crossingChart, exportFigures, findChromium, lossChart, readChartSpec, sampleRuns, saveChartSpec } from "../../src/viz";
import { chromiumOrSkip, ROOT } from "../notebooks/tools";

const runs = sampleRuns();
const PNG_MAGIC = "89504e470d0a1a0a";

test("missing Chromium: a clear error with the install command, nothing launched", async () => {
  assert.equal(findChromium("/nonexistent/chromium"), null);
  assert.match(CHROMIUM_MISSING, /apt-get install chromium/);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-export-"));
  await assert.rejects(exportFigures([lossChart(runs)], out, { chromium: "/nonexistent/chromium" }), /apt-get install chromium/);
  assert.deepEqual(fs.readdirSync(out), []);
});

test("html only needs no browser; spec files round-trip", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-export-"));
  const figs = [lossChart(runs, { window: { from: 1200, to: 1500 } }), crossingChart(runs, { target: 2.92 })];
  const spec = saveChartSpec(figs, path.join(out, "charts.json"));
  assert.deepEqual(readChartSpec(spec), JSON.parse(JSON.stringify(figs)));
  const files = await exportFigures(figs, out, { formats: ["html"], chromium: "/nonexistent/chromium" });
  assert.deepEqual(files.map((f) => path.basename(f)), ["loss-time-1200-1500.html", "crossing-time-2.92.html"]);
  assert.match(fs.readFileSync(files[0], "utf8"), /^<!doctype html>[^]*window\.Plotly[^]*newPlot/);
});

test("exportFigures: PNG and SVG of each chart from one browser", { skip: chromiumOrSkip() }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-export-"));
  const loss = lossChart(runs, { groupBy: "variant", window: { last: 0.25 }, target: 2.92, name: "loss" });
  const files = await exportFigures([loss, crossingChart(runs, { target: 2.92, name: "crossing" })], out, { formats: ["png", "svg"] });
  assert.deepEqual(files.map((f) => path.basename(f)), ["loss.png", "loss.svg", "crossing.png", "crossing.svg"]);
  const png = fs.readFileSync(path.join(out, "loss.png"));
  assert.equal(png.subarray(0, 8).toString("hex"), PNG_MAGIC);
  assert.equal(png.readUInt32BE(16), 900 * 2, "width at scale 2");
  assert.equal(png.readUInt32BE(20), loss.layout.height! * 2, "height at scale 2 (the plot's 520 px plus the legend's rows under it)");
  assert.ok(loss.layout.height! > 520);
  const svg = fs.readFileSync(path.join(out, "loss.svg"), "utf8");
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/class="trace scatter/g) ?? []).length, loss.data.length);
  assert.match(svg, /baseline \(n=3\)/);
  assert.match(svg, /target 2\.92/);
  assert.ok(fs.readdirSync(out).every((f) => !f.endsWith(".tmp")));
});

test("valemb export: from runs with chart options and from a saved spec, in one call", { skip: chromiumOrSkip() }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-export-"));
  const spec = saveChartSpec([crossingChart(runs, { target: 2.92, name: "from-spec" })], path.join(out, "spec.json"));
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "valemb.js"), "export", "--sample", "--runs", "baseline/*",
    "--from", "1200", "--to", "1500", "--target", "2.92", "--name", "cli-loss", "--spec", spec, "--formats", "svg", "--out", out],
  { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n").map((f) => path.basename(f)).sort(), ["cli-loss.svg", "from-spec.svg"]);
  const svg = fs.readFileSync(path.join(out, "cli-loss.svg"), "utf8");
  assert.equal((svg.match(/class="trace scatter/g) ?? []).length, 3, "three baseline seeds");
});

test("valemb export: bad options are errors naming the option", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "valemb.js"), "export", ...args], { cwd: ROOT, encoding: "utf8" });
  let r = cli("--sample", "--axis", "epochs");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--axis/);
  r = cli("--sample", "--last", "0.2", "--from", "3");
  assert.match(r.stderr, /--last cannot be combined/);
  r = cli("--sample", "--chart", "crossing");
  assert.match(r.stderr, /needs --target/);
  r = cli();
  assert.equal(r.status, 2);
});

test("valemb export of run folders: the notebooks' variant labels, the baseline in its color, a title", { skip: chromiumOrSkip() }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-export-"));
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "valemb.js"), "export", path.join(ROOT, "data", "runs", "adding"),
    "--runs", "baseline/*,add-1/*", "--group", "variant", "--last", "0.25", "--name", "folders", "--formats", "svg", "--out", out],
  { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const svg = fs.readFileSync(path.join(out, "folders.svg"), "utf8");
  assert.match(svg, /baseline: 0&amp;13, 1&amp;14, 2&amp;15 \(n=3\)/);
  assert.match(svg, /1 additional \(4 tables\) \(n=3\)/);
  assert.doesNotMatch(svg, />add-1</, "no raw folder names in the legend");
  assert.match(svg, /Validation loss vs training time, last 25% of training/);
  assert.match(svg, /stroke: ?rgb\(31, 119, 180\)/, "the baseline's blue");
});
