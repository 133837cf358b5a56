// Every log format the loader reads and every kind of damage it must report rather than turn into a
// number. Fixtures are written here by hand (a few lines each), never copied from real logs.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  crossing, crossingTime, fileLines, finalEval, formatProblem, loadRuns, parseRunText, rankRuns, textLines,
  type LoadProblem, type Run,
} from "../../src/analysis";
import { evalLine, tempDir, trainLine, write } from "./helpers";

const errors = (problems: LoadProblem[]) => problems.filter((p) => !p.note);
const names = (runs: Run[]) => runs.map((r) => r.name);
/** A complete run of `total` steps, an evaluation every 2 steps, losses falling from 10 by `drop` per eval; time in ms. */
const runText = (total: number, drop = 1, msPerStep = 1000, startLoss = 10) => {
  const lines: string[] = [];
  for (let s = 0; s <= total; s++) {
    if (s > 0) lines.push(trainLine(s, total, s * msPerStep));
    if (s % 2 === 0) lines.push(evalLine(s, total, startLoss - drop * (s / 2), s * msPerStep));
  }
  return lines.join("\n") + "\n";
};

test("train_time in seconds (the optimization track's format) is read, not refused", () => {
  const text = [
    "step:0/250 val_loss:10.82584 train_time:0.001s step_avg:nanms",
    "step:125/250 val_loss:5.30619 train_time:24.069s step_avg:192.55ms",
    "step:126/250 train_time:24.261s step_avg:192.55ms",
    "step:250/250 val_loss:3.28 train_time:48.5s step_avg:194.00ms",
  ].join("\n") + "\n";
  const { runs, problems } = parseRunText(text, "opt.txt", { format: "log", name: "opt" });
  assert.deepEqual(problems, []);
  assert.deepEqual(runs[0].evals, [
    { step: 0, valLoss: 10.82584, timeS: 0.001 }, { step: 125, valLoss: 5.30619, timeS: 24.069 }, { step: 250, valLoss: 3.28, timeS: 48.5 },
  ]);
});

test("step_avg:nan, train_loss and extra key:value fields in any order", () => {
  const text = [
    "step:0/4 val_loss:10.8 train_time:0ms step_avg:nanms",
    "step:1/4 train_loss:10.7 train_time:100ms step_avg:nanms",
    "step:2/4 val_loss:4.0 val_avg_loss:4.1 val_ema_loss:4.2 train_time:2.0s step_avg:1000.00ms",
    "step:4/4 ema_beta:0.9 train_time:4.5s val_loss:3.0 ref_gamma:-0.5 ref_step:3 handoff:none",
  ].join("\n") + "\n";
  const { runs, problems } = parseRunText(text, "x.txt", { format: "log", name: "x" });
  assert.deepEqual(problems, []);
  assert.deepEqual(runs[0].evals.map((e) => [e.step, e.valLoss, e.timeS]), [[0, 10.8, 0], [2, 4, 2], [4, 3, 4.5]]);
});

test("the training script printed at the top of a log (full of val_loss and step: strings) is not read as lines", () => {
  const script = [
    '"""train_gpt.py"""', "import os", "val_loss = 0", "    val_loss += model(x, y)",
    '        print0(f"step:{step}/{train_steps} val_loss:{val_loss:.4f} train_time:{t:.0f}ms", console=True)',
    "# step:{step} is printed below", "s = 'step:1/2 val_loss:0.1'", "=".repeat(100),
    "Running PyTorch 2.7.0 compiled for CUDA 12.6", "Thu Apr 24 21:53:41 2025",
  ].join("\n");
  const { runs, problems } = parseRunText(`${script}\n${runText(4)}`, "s.txt", { format: "log", name: "s" });
  assert.deepEqual(problems, []);
  assert.equal(runs[0].evals.length, 3);
  assert.equal(runs[0].meta.pytorch, "2.7.0");
  assert.equal(runs[0].meta.date, "Thu Apr 24 21:53:41 2025");
});

test("Windows line endings read the same as Unix ones", () => {
  const unix = parseRunText(runText(6), "u.txt", { format: "log", name: "u" });
  const crlf = parseRunText(runText(6).replace(/\n/g, "\r\n"), "w.txt", { format: "log", name: "u" });
  assert.deepEqual(crlf.problems, []);
  assert.deepEqual(crlf.runs[0].evals, unix.runs[0].evals);
  const md = parseRunText(`## 13\r\n${runText(4).replace(/\n/g, "\r\n")}`, "r.md", { format: "markdown", name: "r" });
  assert.deepEqual(names(md.runs), ["13"]);
});

test("llm.c logs: `s:N tel:X` evaluations, `s:N trl:X` training lines; a crossing step, no crossing time", () => {
  const text = ["s:0 tel:10.9830", "s:0 trl:10.9091 lr:0.000001 norm:15.37", "s:1 trl:10.8 lr:0.000002 norm:15.2",
    "s:250 tel:6.3097", "s:251 trl:6.2", "s:500 tel:2.5"].join("\n") + "\n";
  const { runs, problems } = parseRunText(text, "main.log", { format: "log", name: "main" });
  assert.deepEqual(problems, []);
  const r = runs[0];
  assert.equal(r.meta.format, "llm.c-log");
  assert.equal(r.totalSteps, null);
  assert.deepEqual(r.evals.map((e) => [e.step, e.valLoss, e.timeS]), [[0, 10.983, null], [250, 6.3097, null], [500, 2.5, null]]);
  const c = crossing(r, 3)!;
  assert.equal(c.timeS, null);
  assert.ok(Math.abs(c.step - (250 + 250 * (6.3097 - 3) / (6.3097 - 2.5))) < 1e-9);
  assert.throws(() => rankRuns([r, r], { from: 0, to: 1 }), /'main'.*no training time.*--axis step/);
  assert.equal(rankRuns([r], { from: 0, to: 500, axis: "step" }).rows.length, 1);
});

test("a crashed attempt and its rerun in one file: separate runs, the default takes the last complete one and says so", () => {
  const crashed = runText(8).split("\n").slice(0, 7).join("\n") + "\n"; // evaluations at 0, 2, 4 of 8, then the crash
  const rerun = runText(8, 1.5);
  const dir = tempDir();
  const file = write(dir, "two.txt", `script\n${crashed}Traceback (most recent call last):\n${rerun}`);
  const { runs, problems } = loadRuns([file]);
  assert.deepEqual(names(runs), ["two#2"]);
  assert.deepEqual(runs[0].evals.map((e) => e.valLoss), [10, 8.5, 7, 5.5, 4], "only the rerun's points, none of the crash");
  assert.deepEqual(errors(problems), []);
  const note = problems.find((p) => p.note)!;
  assert.match(formatProblem(note), /two\.txt:\d+: note: run 'two#2': 2 runs in this file .*#1 \(line 2\) incomplete at step 4 of 8, #2 \(line \d+\) complete; using two#2, the last complete one/);
  // Every attempt, by name; the crash is still incomplete and left out unless asked for.
  const all = loadRuns([file], { attempts: "all" });
  assert.deepEqual(names(all.runs), ["two#2"]);
  assert.match(all.problems.find((p) => p.run === "two#1")!.message, /incomplete .*step 4 of 8; skipped/);
  const kept = loadRuns([file], { attempts: "all", keepIncomplete: true });
  assert.deepEqual(names(kept.runs), ["two#1", "two#2"]);
  assert.deepEqual(kept.runs[0].evals.map((e) => e.step), [0, 2, 4]);
  // Many complete seeds in one file (the optimization track's batch logs): the last one by default, each with "all".
  const seeds = write(dir, "seeds.txt", runText(4) + runText(4, 2) + runText(4, 3));
  assert.deepEqual(names(loadRuns([seeds]).runs), ["seeds#3"]);
  assert.deepEqual(loadRuns([seeds], { attempts: "all" }).runs.map((r) => finalEval(r)!.valLoss), [8, 6, 4]);
});

test("markdown: a truncated section and a broken `##16` header: reported damaged, 16's numbers never given to 15", () => {
  const s15 = runText(8, 0.5).split("\n").slice(0, 9).join("\n") + "\nstep:6/8 val_lo"; // cut mid-line
  const s16 = runText(8, 1.2);
  const text = `# Results\n\n## 14\n${runText(8)}\n## 15\n${s15}\n##16\n${s16}\n## 17\n${runText(8)}`;
  const dir = tempDir();
  const file = write(dir, "agg.md", text);
  const { runs, problems } = loadRuns([file]);
  assert.deepEqual(names(runs), ["14", "17"]);
  const broken = problems.find((p) => /##16/.test(p.message))!;
  assert.match(formatProblem(broken), /agg\.md:\d+: run '##16': broken header '##16' .*section damaged; its \d+ step lines are not read/);
  assert.match(formatProblem(problems.find((p) => p.run === "15")!), /agg\.md:\d+: run '15': garbled step line.*; run left out/);
  // A section cut cleanly between lines is incomplete; kept on request, it holds only its own points.
  const clean = write(dir, "clean.md", `## 15\n${runText(8, 0.5).split("\n").slice(0, 9).join("\n")}\n##16\n${s16}`);
  assert.deepEqual(names(loadRuns([clean]).runs), []);
  const kept = loadRuns([clean], { keepIncomplete: true });
  assert.deepEqual(names(kept.runs), ["15"]);
  const r15 = kept.runs[0];
  assert.deepEqual(r15.evals.map((e) => e.step), [0, 2, 4]);
  assert.equal(r15.meta.complete, false);
  assert.equal(crossingTime(r15, 4), null, "16's crossing of 4 is not 15's");
  assert.ok(kept.problems.some((p) => p.run === "##16" && /section damaged/.test(p.message)));
  // A section holding two runs (its header lost) is damaged, not split or spliced.
  const lost = write(dir, "lost.md", `## 20\n${runText(4)}${runText(4, 2)}## 21\n${runText(4)}`);
  const l = loadRuns([lost]);
  assert.deepEqual(names(l.runs), ["21"]);
  assert.match(l.problems[0].message, /section damaged: it holds 2 runs .*a header is missing or broken; left out/);
  assert.equal(l.problems[0].line, 1);
});

test("negative or non-finite losses and time going back are errors naming file and line; the run is left out", () => {
  const dir = tempDir();
  const lines = (bad: string) => [evalLine(0, 4, 10.8, 0), evalLine(2, 4, 4, 2000), bad, ""].join("\n");
  const neg = write(dir, "neg.txt", lines(evalLine(4, 4, "-0.5", 4000)));
  const nan = write(dir, "nan.txt", lines(evalLine(4, 4, "nan", 4000)));
  const inf = write(dir, "inf.txt", lines("step:4/4 val_loss:inf train_time:4000ms step_avg:1ms"));
  const back = write(dir, "back.txt", lines(evalLine(4, 4, 3, 1500)));
  const llmc = write(dir, "llmc.log", "s:0 tel:10\ns:250 tel:-3.1\ns:500 tel:2\n");
  const good = write(dir, "good.txt", runText(4));
  const { runs, problems } = loadRuns([neg, nan, inf, back, llmc, good]);
  assert.deepEqual(names(runs), ["good"]);
  const msg = (file: string) => formatProblem(problems.find((p) => p.file === file)!);
  assert.match(msg(neg), /neg\.txt:3: run 'neg': val_loss is negative \(-0\.5\).*; run left out/);
  assert.match(msg(nan), /nan\.txt:3: run 'nan': val_loss is nan \(not a finite number\); run left out/);
  assert.match(msg(inf), /inf\.txt:3: run 'inf': val_loss is inf/);
  assert.match(msg(back), /back\.txt:3: run 'back': training time goes back: 1\.5 s at step 4 after 2 s at step 2 \(line 2\); run left out/);
  assert.match(msg(llmc), /llmc\.log:2: run 'llmc': tel is negative/);
  assert.equal(problems.length, 5);
});

test("a folder is read entry by entry: a folder named log.txt and a file over the size limit are named, the rest kept", () => {
  const dir = tempDir();
  write(dir, "logs/a.txt", runText(4));
  fs.mkdirSync(path.join(dir, "logs/b.txt")); // a folder with a log's name: nothing in it
  write(dir, "logs/big.txt", runText(40));
  write(dir, "logs/run-x/meta.json", "{}");
  fs.mkdirSync(path.join(dir, "logs/run-x/log.txt"));
  write(dir, "logs/run-y/log.txt", runText(4));
  write(dir, "logs/z.md", `## z\n${runText(4)}`);
  const big = fs.statSync(path.join(dir, "logs/big.txt")).size;
  const { runs, problems } = loadRuns([path.join(dir, "logs")], { maxFileBytes: big - 1 });
  assert.deepEqual(names(runs), ["a", "run-y", "z"]);
  const said = problems.map(formatProblem).join("\n");
  assert.match(said, /logs[\\/]big\.txt: is 0\.\d+ MiB, over the 0\.\d+ MiB limit for one log \(maxFileBytes\); skipped/);
  assert.match(said, /logs[\\/]run-x[\\/]log\.txt: is a folder where a run's log is expected; skipped/);
  assert.equal(problems.length, 2);
});

test("lines are streamed in small chunks: split CRLF, multi-byte characters and an over-long line come out right", () => {
  const text = `é line one\r\n${"x".repeat(300)}\r\nstep:2/4 val_loss:1.5 train_time:3s\r\nlast, no newline ü`;
  const dir = tempDir();
  const file = write(dir, "chunks.txt", text);
  for (const chunkBytes of [1, 2, 3, 7, 64]) {
    const got = [...fileLines(file, { chunkBytes, maxLineChars: 100 })];
    assert.deepEqual(got.map((l) => l.text), ["é line one", "x".repeat(100), "step:2/4 val_loss:1.5 train_time:3s", "last, no newline ü"], `chunk ${chunkBytes}`);
    assert.deepEqual(got.map((l) => [l.line, l.cut, l.unterminated]), [[1, false, false], [2, true, false], [3, false, false], [4, false, true]]);
  }
  assert.deepEqual([...textLines(text, { maxLineChars: 100 })].map((l) => l.text), [...fileLines(file, { maxLineChars: 100 })].map((l) => l.text));
});
