import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  crossingRows, crossingTable, escapeHtml, groupRuns, groupTable, rankingTable, rankRuns, summarizeGroups,
  toCsv, toHtml, toText, writeCsv,
} from "../../src/analysis";
import { run, tempDir } from "./helpers";

const runs = [
  run("never", [[0, 4, 0], [100, 3.5, 10]]),
  run("slow", [[0, 4, 0], [100, 3.0, 20]]),
  run("<fast & \"bold\">", [[0, 4, 0], [100, 2.0, 10]]),
];

test("crossing rows: sorted by crossing time, never-crossed last with nulls", () => {
  const rows = crossingRows(runs, 3.0);
  assert.deepEqual(rows.map((r) => r.run), ['<fast & "bold">', "slow", "never"]);
  assert.deepEqual(rows[0], { run: '<fast & "bold">', crossingTimeS: 5, crossingStep: 50, finalLoss: 2, finalStep: 100, finalTimeS: 10 });
  assert.equal(rows[2].crossingTimeS, null);
  assert.equal(rows[2].crossingStep, null);
});

test("danfo tables: names as index, numeric columns, HTML escaped and rounded, CSV with the index", () => {
  const printed: unknown[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => printed.push(a);
  let df;
  try {
    df = crossingTable(runs, 3.0);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(printed, []); // no tfjs banner
  assert.deepEqual(df.index, ['<fast & "bold">', "slow", "never"]);
  assert.deepEqual(df.columns, ["crossingTimeS", "crossingStep", "finalLoss", "finalStep", "finalTimeS"]);
  const html = toHtml(df, { digits: 2, caption: "a < b" });
  assert.match(html, /^<table class="dataframe"><caption>a &lt; b<\/caption>/);
  assert.match(html, /<tr><th>&lt;fast &amp; &quot;bold&quot;&gt;<\/th><td>5<\/td><td>50<\/td><td>2.00<\/td><td>100<\/td><td>10<\/td><\/tr>/);
  assert.match(html, /<tr><th>never<\/th><td>–<\/td><td>–<\/td><td>3.50<\/td>/);
  assert.ok(!html.includes("<fast"));
  assert.equal(escapeHtml(`<a href='x'>&</a>`), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  const csv = toCsv(df);
  assert.equal(csv.split("\n")[0], "run,crossingTimeS,crossingStep,finalLoss,finalStep,finalTimeS");
  assert.equal(csv.split("\n")[1], '"<fast & ""bold"">",5,50,2,100,10');
  assert.equal(csv.split("\n")[3], "never,,,3.5,100,10");
  const text = toText(df, { digits: 1, missing: "never" });
  assert.match(text.split("\n")[3], /^never\s+never\s+never\s+3\.5\s+100\s+10$/);
  const file = path.join(tempDir(), "c.csv");
  writeCsv(df, file);
  assert.equal(fs.readFileSync(file, "utf8"), csv);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["c.csv"]); // no temp file left behind
});

test("ranking and group tables", () => {
  const ranking = rankRuns(runs, { from: 0, to: 10, points: 3 });
  const rt = rankingTable(ranking);
  assert.deepEqual(rt.columns, ["meanRank", "meanLoss", "meanGapToRef"]);
  assert.deepEqual(rt.index, ranking.rows.map((r) => r.run));
  assert.equal(rt.index[0], '<fast & "bold">');
  const gt = groupTable(summarizeGroups(groupRuns(runs, { all: "*" }), 3.0));
  assert.deepEqual(gt.index, ["all"]);
  assert.deepEqual(gt.columns.slice(0, 3), ["n", "nCrossed", "crossingTimeMean"]);
  assert.deepEqual((gt.values as number[][])[0].slice(0, 3), [3, 2, 12.5]);
  assert.match(toHtml(gt, { indexName: "group" }), /<th>group<\/th>/);
});

test("making a danfo table neither loads libtensorflow nor switches tfjs's backend (even with tfjs-node installed)", () => {
  // A fresh process: in this one another test may already have loaded a backend.
  const script = `
    const tf = require("@tensorflow/tfjs");
    tf.setBackend("cpu").then(() => {
      require("./src/analysis").frame(["a"], { x: [1] });
      console.log(JSON.stringify({ backend: tf.getBackend(), tensorflow: Boolean(tf.findBackendFactory("tensorflow")) }));
    });`;
  const root = path.resolve(__dirname, "../..");
  const out = execFileSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: root, encoding: "utf8" });
  assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), { backend: "cpu", tensorflow: false });
});
