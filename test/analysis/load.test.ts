import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { formatProblem, loadRuns, parseStepLine, type LoadProblem } from "../../src/analysis";
import { evalLine, tempDir, trainLine, write } from "./helpers";

const good = (total = 4) =>
  [evalLine(0, total, 10.8, 0), trainLine(1, total, 100), evalLine(2, total, 4.0, 2000), trainLine(3, total, 3000), evalLine(4, total, 3.0, 4000)].join("\n") + "\n";

/** The problems about one file, as "line: message" for readable assertions. */
const about = (problems: LoadProblem[], file: string) => problems.filter((p) => p.file === file);

test("parseStepLine reads validation and training lines and rejects garbage", () => {
  assert.deepEqual(parseStepLine("step:125/5960 val_loss:4.325680 train_time:27923ms step_avg:223.38ms"), {
    kind: "eval", step: 125, total: 5960, valLoss: 4.32568, timeS: 27.923,
  });
  assert.deepEqual(parseStepLine("step:126/5960 train_time:28150ms step_avg:223.41ms"), { kind: "train", step: 126, total: 5960 });
  // Extra fields (a train_loss) are fine.
  assert.equal((parseStepLine("step:5/10 train_loss:3.2 train_time:5ms step_avg:1.00ms") as { kind: string }).kind, "train");
  assert.match((parseStepLine("step:125/5960 val_loss:nan train_time:27923ms step_avg:1ms") as { error: string }).error, /nan.*not a finite/);
  assert.match((parseStepLine("step:125/5960 val_loss:4.3x train_time:27923ms") as { error: string }).error, /not a number/);
  assert.match((parseStepLine("step:125/5960 val_loss:4.32") as { error: string }).error, /train_time/);
  assert.match((parseStepLine("step:12a/5960") as { error: string }).error, /garbled/);
});

test("a raw log: preamble ignored, evaluations read, environment in meta, name from the file", () => {
  const dir = tempDir();
  const preamble = [
    "import os", '    print0(f"step:{step}/{train_steps} val_loss:{val_loss:.6f}")', "=".repeat(20),
    "Running Python 3.12.9 (main)", "Running PyTorch 2.7.0 compiled for CUDA 12.6", "Thu Apr 24 21:53:41 2025       ",
    "|   0  NVIDIA H100 80GB HBM3          On  | 00000000:65:02.0 Off |                    0 |",
    "|   1  NVIDIA H100 80GB HBM3          On  | 00000000:67:02.0 Off |                    0 |",
  ].join("\n");
  const file = write(dir, "my-run.txt", `${preamble}\n${good()}peak memory allocated: 50380 MiB reserved: 55354 MiB\n`);
  const { runs, problems } = loadRuns([file]);
  assert.deepEqual(problems, []);
  assert.equal(runs.length, 1);
  const r = runs[0];
  assert.equal(r.name, "my-run");
  assert.equal(r.totalSteps, 4);
  assert.deepEqual(r.evals, [{ step: 0, valLoss: 10.8, timeS: 0 }, { step: 2, valLoss: 4, timeS: 2 }, { step: 4, valLoss: 3, timeS: 4 }]);
  assert.equal(r.meta.python, "3.12.9");
  assert.equal(r.meta.pytorch, "2.7.0");
  assert.equal(r.meta.date, "Thu Apr 24 21:53:41 2025");
  assert.equal(r.meta.gpuCount, 2);
  assert.equal(r.meta.gpu, "NVIDIA H100 80GB HBM3");
  assert.equal(r.meta.peakMemoryMiB, 50380);
});

test("aggregated markdown: runs by header, nested headers qualified, prose ignored", () => {
  const dir = tempDir();
  const file = write(dir, "results.md", [
    "# Results", "", "Some prose.", "## 13", "", good(), "## 13-1", good(),
    "<details>", "## Old results", "text", "### 13", good(), "</details>", "---", "## 25 0", good(),
  ].join("\n"));
  const { runs, problems } = loadRuns([file]);
  assert.deepEqual(problems, []);
  assert.deepEqual(runs.map((r) => r.name), ["13", "13-1", "Old results/13", "25 0"]);
  assert.equal(runs[0].source, `${file}:4`);
  assert.equal(runs[2].evals.length, 3);
});

test("bad input: each problem names file and line, a damaged run is left out whole, and the good runs still load", () => {
  const dir = tempDir();
  const md = write(dir, "agg.md", [
    "# R",
    "## good", good().trimEnd(), // lines 2-7
    "## empty", "", // header with no lines: line 8
    "## garbled", evalLine(0, 4, 10.8, 0), "step:2/4 val_loss:4.0 train_tim", evalLine(4, 4, 3.0, 4000), // garbled line 12
    "## backwards", evalLine(0, 4, 10.8, 0), evalLine(4, 4, 3.0, 4000), evalLine(2, 4, 3.5, 2000), // a second run from line 17: header lost
    "## nan", evalLine(0, 4, 10.8, 0), evalLine(2, 4, "nan", 2000), evalLine(4, 4, 3.0, 4000), // NaN: line 20
    "## short", evalLine(0, 4, 10.8, 0), evalLine(2, 4, 4.0, 2000), // stops at 2 of 4: last eval line 24
  ].join("\n") + "\n");
  // A raw log cut off mid-line: its last (partial) line is not read and the run is incomplete.
  const cut = write(dir, "cut.txt", [evalLine(0, 4, 10.8, 0), evalLine(2, 4, 4.0, 2000), "step:3/4 train_ti"].join("\n"));
  const { runs, problems } = loadRuns([md, cut]);
  assert.deepEqual(runs.map((r) => r.name), ["good"]);
  const mdProblems = about(problems, md).map((p) => [p.line, p.run, p.message] as const);
  const find = (run: string) => mdProblems.filter(([, r]) => r === run);
  assert.equal(find("empty")[0][0], 8);
  assert.match(find("empty")[0][2], /no evaluation lines/);
  assert.equal(find("garbled")[0][0], 12);
  assert.match(find("garbled")[0][2], /garbled.*; run left out/);
  assert.equal(find("backwards")[0][0], 14);
  assert.match(find("backwards")[0][2], /section damaged: it holds 2 runs \(steps start again at line 17\)/);
  assert.equal(find("nan")[0][0], 20);
  assert.match(find("nan")[0][2], /val_loss is nan.*; run left out/);
  assert.equal(find("short")[0][0], 24);
  assert.match(find("short")[0][2], /incomplete .*step 2 of 4; skipped/);
  assert.equal(mdProblems.length, 5);
  const cutProblems = about(problems, cut);
  assert.deepEqual(cutProblems.map((p) => p.line), [2, 3]);
  assert.match(cutProblems[0].message, /incomplete/);
  assert.match(cutProblems[1].message, /truncated line/);
  assert.match(formatProblem(cutProblems[1]), new RegExp(`^${cut.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: run 'cut': truncated line`));
  // With keepIncomplete the short runs are kept, and still reported; damaged ones stay out.
  const kept = loadRuns([md, cut], { keepIncomplete: true });
  assert.deepEqual(kept.runs.map((r) => r.name), ["good", "short", "cut"]);
  assert.equal(kept.runs[1].meta.complete, false);
  assert.ok(kept.problems.some((p) => p.run === "short" && /kept/.test(p.message)));
});

test("our run folders: evals.jsonl + meta.json, names relative to the given root, bad JSONL lines reported", () => {
  const dir = tempDir();
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const e = (step: number, loss: number | null, ms: number) => ({ step, total_steps: 4, val_loss: loss, train_time_ms: ms, step_avg_ms: ms / Math.max(step, 1) });
  write(dir, "adding/baseline/seed-0/evals.jsonl", jsonl([e(0, 10.8, 0), e(2, 4, 2000), e(4, 3, 4000)]));
  write(dir, "adding/baseline/seed-0/meta.json", JSON.stringify({ run: "baseline-0", layout: "012..........012", seed: 0, steps: 4 }));
  write(dir, "adding/baseline/seed-1/evals.jsonl", jsonl([e(0, 10.8, 0), e(2, null, 2000), e(4, 3.1, 4000)]) + '{"step":5,');
  write(dir, "adding/plus2/seed-0/log.txt", good());
  write(dir, "adding/plus2/seed-0.stale-123/evals.jsonl", jsonl([e(0, 10.8, 0)]));
  write(dir, "adding/plus2/seed-1/evals.jsonl", jsonl([e(0, 10.8, 0), e(2, 4, 2000)])); // still running
  write(dir, "notes/README.md", "# nothing to see\n");
  const { runs, problems } = loadRuns([path.join(dir, "adding"), path.join(dir, "notes")]);
  assert.deepEqual(runs.map((r) => r.name), ["baseline/seed-0", "plus2/seed-0"]);
  assert.equal(runs[0].meta.layout, "012..........012");
  assert.equal(runs[0].meta.format, "evals.jsonl");
  assert.equal(runs[0].totalSteps, 4);
  assert.deepEqual(runs[0].evals[2], { step: 4, valLoss: 3, timeS: 4 });
  const seed1 = problems.filter((p) => p.run === "baseline/seed-1");
  assert.deepEqual(seed1.map((p) => p.line), [2, 4]);
  assert.match(seed1[0].message, /val_loss' is NaN.*; run left out/);
  assert.match(seed1[1].message, /truncated line/);
  assert.ok(problems.some((p) => p.run === "plus2/seed-1" && /incomplete/.test(p.message)));
  assert.ok(problems.some((p) => p.file === path.join(dir, "notes") && /no runs found/.test(p.message)));
  // A run folder given directly is named after the folder; its own name wins over meta.run.
  const direct = loadRuns([path.join(dir, "adding/baseline/seed-0")]);
  assert.deepEqual(direct.runs.map((r) => r.name), ["seed-0"]);
});

test("missing paths, and duplicate names across files, are reported", () => {
  const dir = tempDir();
  const a = write(dir, "a.md", `## 13\n${good()}`);
  const b = write(dir, "b.md", `## 13\n${good()}`);
  const { runs, problems } = loadRuns([a, b, path.join(dir, "nope")]);
  assert.deepEqual(runs.map((r) => r.name), ["13", "13 (2)"]);
  const dup = problems.find((p) => /duplicate run name/.test(p.message));
  assert.match(dup?.message ?? "", /renamed '13 \(2\)'/);
  assert.equal(dup?.file, b);
  assert.equal(dup?.line, 1);
  assert.ok(problems.some((p) => p.file === path.join(dir, "nope") && p.message === "no such file or folder"));
});

test("evals.jsonl scalars by layer are kept; older lines without them still load; bad ones are reported", () => {
  const dir = tempDir();
  const sc = { lambda_ve: [0.5, null], skip_w: [null, 1] };
  const line = (step: number, extra: object) => JSON.stringify({ step, total_steps: 4, val_loss: 5 - step / 4, train_time_ms: step * 1000, step_avg_ms: 1000, ...extra });
  write(dir, "new/evals.jsonl", [line(0, { scalars: sc }), line(2, {}), line(4, { scalars: { lambda_ve: ["x"] } })].join("\n") + "\n");
  const { runs, problems } = loadRuns([path.join(dir, "new")], { keepIncomplete: true });
  assert.deepEqual(runs[0].evals[0].scalars, sc);
  assert.equal(runs[0].evals[1].scalars, undefined);
  // A bad scalars field loses only the scalars: that evaluation's loss and time are still read.
  assert.deepEqual(runs[0].evals.map((e) => e.step), [0, 2, 4]);
  assert.equal(runs[0].evals[2].scalars, undefined);
  assert.ok(problems.some((p) => p.line === 3 && /field 'scalars'.*ignored/.test(p.message)));
});
