// Fault injection (issue 13): kill -9 at seeded random moments across `valemb train`, `valemb run`
// and `valemb data prepare`, each followed by a rerun; every finished run must equal an uninterrupted
// one line for line, no trainer may outlive its sweep, and the analysis must see no leftovers. Plus
// two trainers on one folder, many simultaneous lock takers, and Ctrl-C in a pseudo-terminal.
// VALEMB_FAULT_SEED=<n> replays another sequence of kill moments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadRuns } from "../../src/analysis";
import { openDataset } from "../../src/data";
import { mulberry32 } from "../../src/viz/sample";

const REPO = path.resolve(__dirname, "..", "..");
const BIN = path.join(REPO, "bin", "valemb.js");
const SEED = Number(process.env.VALEMB_FAULT_SEED ?? 13);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-faults-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

// mulberry32 (the notebooks' sample generator): the kill moments are a function of SEED alone.
const random = mulberry32(SEED);
const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const counts = { kills: 0, resumesIdentical: 0, resumesDiffering: 0, orphans: 0, prepareStatesValid: 0, lockRounds: 0, lockDoubleOwners: 0 };

// ---- processes ----
interface Running { child: ChildProcess; stderr: string[]; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function start(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  let buf = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (c: string) => {
    buf += c;
    for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) stderr.push(buf.slice(0, nl));
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return { child, stderr, exited };
}

const valemb = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8", timeout: 300_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));

/** Every process below `pid` (children, grandchildren), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const [c, pp] of parent) if (pp === p) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

/** Wait until none of `pids` runs (up to `ms`); the ones still running then are orphans (killed here, counted). */
async function orphansAfter(pids: number[], ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && pids.some(alive)) await sleep(100);
  const left = pids.filter(alive);
  for (const p of left) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
  return left.length;
}

/** Resolves once `cond` holds or the process exits (then false). */
async function when(r: Running, cond: () => boolean): Promise<boolean> {
  let done = false;
  void r.exited.then(() => { done = true; });
  while (!done) {
    if (cond()) return true;
    await sleep(20);
  }
  return cond();
}

// ---- run folders ----
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const finished = (dir: string) => fs.existsSync(path.join(dir, "meta.json")) && Boolean(JSON.parse(read(dir, "meta.json")).finished);
/** The log without clock times and the evals: equal for identical runs, and a doubled or lost line shows. */
const fingerprint = (dir: string) => ({
  log: read(dir, "log.txt").trimEnd().split("\n").map((l) => l.replace(/ train_time.*/, "")),
  evals: read(dir, "evals.jsonl").trimEnd().split("\n").map((l) => { const e = JSON.parse(l); return `${e.step} ${e.val_loss}`; }),
});
/** Files no reader should ever see after a rerun: temp files, half copies. */
function leftovers(root: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (/\.tmp-\d+$|\.copying-\d+$|\.preparing-\d+$|\.old-\d+$/.test(e.name)) found.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(root);
  return found;
}

function expectIdentical(dir: string, ref: string, what: string): void {
  assert.ok(finished(dir), `${what}: finished`);
  const a = fingerprint(dir), b = fingerprint(ref);
  const same = JSON.stringify(a) === JSON.stringify(b);
  if (same) counts.resumesIdentical++; else counts.resumesDiffering++;
  assert.deepEqual(a, b, `${what}: identical to the uninterrupted run, no line doubled or lost`);
}

// `train`: 8 steps, an evaluation and a checkpoint every 2.
const TRAIN = ["train", "--preset", "smoke", "--steps", "8", "--eval-every", "2", "--batch", "2", "--val-tokens", "64", "--json-progress"];
const trainRef = path.join(tmp, "train-ref");
// `run`: one smoke run of 12 steps (evaluations at 0, 10, 12; its children stop with a checkpoint when the sweep dies).
const SWEEP = (root: string) => ["run", "adding", "--preset", "smoke", "--seeds", "1", "--variants", "baseline", "--jobs", "1", "--steps", "12", "--root", root];
const sweepRun = (root: string) => path.join(root, "adding", "baseline", "seed-0");
let sweepRef = "";

test("reference: one uninterrupted `valemb train`", { timeout: 300_000 }, () => {
  const r = valemb([...TRAIN, "--out", trainRef]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fingerprint(trainRef).evals.map((e) => e.split(" ")[0]), ["0", "2", "4", "6", "8"]);
});

test("train: kill -9 at random moments, each followed by a rerun; every finished run equals the reference", { timeout: 900_000 }, async () => {
  let trainKills = 0;
  for (let chain = 0; trainKills < 10 && chain < 8; chain++) {
    const out = path.join(tmp, `train-${chain}`);
    for (let kills = 0; kills < 4;) {
      const r = start([...TRAIN, "--out", out]);
      const events = pick(0, 5); // progress lines seen before the kill (13 in a whole run); early, so resumed runs still get killed
      const extraMs = pick(0, 400);
      const reached = await when(r, () => r.stderr.filter((l) => l.startsWith("{")).length > events);
      if (reached) {
        await sleep(extraMs);
        if (r.child.exitCode === null) { r.child.kill("SIGKILL"); kills++; trainKills++; counts.kills++; }
      }
      await r.exited;
      if (finished(out)) break;
    }
    // what a writer killed between its temp file and its rename leaves: the rerun must clean it (issue case 6)
    if (fs.existsSync(out) && !finished(out)) fs.writeFileSync(path.join(out, "checkpoint.ckpt.tmp-999999"), "half");
    const rerun = valemb([...TRAIN, "--out", out]);
    assert.equal(rerun.status, 0, rerun.stderr);
    expectIdentical(out, trainRef, `train chain ${chain}`);
    assert.deepEqual(leftovers(out), []);
  }
});

test("two trainers on one folder: the second is refused, naming the first; nothing is doubled", { timeout: 300_000 }, async () => {
  const out = path.join(tmp, "two-trainers");
  const first = start([...TRAIN, "--out", out]);
  assert.ok(await when(first, () => first.stderr.some((l) => l.startsWith("{"))), first.stderr.join("\n"));
  first.child.kill("SIGSTOP"); // frozen while it owns the folder
  try {
    const second = valemb([...TRAIN, "--out", out]);
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, new RegExp(`is being trained by another process \\(pid ${first.child.pid} on .*valemb train`));
  } finally {
    first.child.kill("SIGCONT");
  }
  assert.equal((await first.exited).code, 0);
  expectIdentical(out, trainRef, "first of two trainers");
});

test("two lock takers at the same moment, 30 times (half of them over an empty lock file left behind): exactly one owner each time", { timeout: 300_000 }, async () => {
  // Two processes go through the rounds together: each spins until the round's go file appears, so
  // both try within microseconds; the owner holds the lock until both have answered.
  const dir = path.join(tmp, "locks");
  const ROUNDS = 30;
  const script = `
    const fs = require("node:fs"), path = require("node:path");
    const { acquireLock } = require(${JSON.stringify(path.join(REPO, "src", "data", "lock.ts"))});
    const [dir, rounds] = process.argv.slice(-2);
    for (let r = 0; r < Number(rounds); r++) {
      while (!fs.existsSync(path.join(dir, "go-" + r))) {}
      let lock = null, outcome;
      try { lock = acquireLock(path.join(dir, "r" + r, ".sweep.lock"), "fault test"); outcome = "owner"; }
      catch (e) { outcome = /in use/.test(e.message) ? "refused" : "error " + e.message; }
      const res = path.join(dir, "res-" + r + "-" + process.pid);
      fs.writeFileSync(res + ".part", outcome);
      fs.renameSync(res + ".part", res);
      while (!fs.existsSync(path.join(dir, "release-" + r))) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      if (lock) lock.release();
    }`;
  fs.mkdirSync(dir, { recursive: true });
  for (let r = 0; r < ROUNDS; r++) {
    fs.mkdirSync(path.join(dir, `r${r}`));
    if (r % 2 === 0) fs.writeFileSync(path.join(dir, `r${r}`, ".sweep.lock"), ""); // the old lock counted an empty file as stale
  }
  const takers = Array.from({ length: 2 }, () => {
    const c = spawn(process.execPath, ["--import", "tsx", "-e", script, dir, String(ROUNDS)], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
    return new Promise<number | null>((resolve) => c.on("close", resolve));
  });
  try {
    for (let r = 0; r < ROUNDS; r++) {
      fs.writeFileSync(path.join(dir, `go-${r}`), "");
      const answers = () => fs.readdirSync(dir).filter((n) => new RegExp(`^res-${r}-\\d+$`).test(n));
      while (answers().length < 2) await sleep(10);
      const outcomes = answers().map((n) => fs.readFileSync(path.join(dir, n), "utf8"));
      fs.writeFileSync(path.join(dir, `release-${r}`), "");
      counts.lockRounds++;
      if (outcomes.filter((o) => o === "owner").length !== 1) counts.lockDoubleOwners++;
      assert.deepEqual([...outcomes].sort(), ["owner", "refused"], `round ${r}`);
    }
  } finally {
    for (let r = 0; r < ROUNDS; r++) for (const f of [`go-${r}`, `release-${r}`]) fs.writeFileSync(path.join(dir, f), ""); // let the takers finish
  }
  assert.deepEqual(await Promise.all(takers), [0, 0]);
});

test("two sweeps started at the same moment: the run is trained once", { timeout: 600_000 }, async () => {
  const root = path.join(tmp, "sweep-ref");
  const [a, b] = [start(SWEEP(root)), start(SWEEP(root))];
  const [ea, eb] = await Promise.all([a.exited, b.exited]);
  // the holder is named once it has written its record; in the instant before, "a process that is starting"
  const refused = [a, b].filter((r) => r.stderr.some((l) => /another sweep is running on .*adding \((pid \d+|a process that is starting\))/.test(l)));
  // Either one was refused by the section lock, or it started after the other had finished and found nothing to do.
  assert.ok(refused.length === 1 || [a, b].some((r) => r.stderr.some((l) => /0 trained, 1 already done/.test(l))), [...a.stderr, ...b.stderr].join("\n"));
  assert.ok([ea, eb].some((e) => e.code === 0));
  sweepRef = sweepRun(root);
  assert.ok(finished(sweepRef));
  assert.deepEqual(JSON.parse(read(sweepRef, "meta.json")).resumes, [], "trained once, from scratch");
  const log = fingerprint(sweepRef).log;
  assert.equal(new Set(log).size, log.length, "no line doubled");
  assert.deepEqual(fingerprint(sweepRef).evals.map((e) => e.split(" ")[0]), ["0", "10", "12"]);
});

test("run: kill -9 of the sweep at random moments; its trainer stops too, and the rerun finishes the same run", { timeout: 900_000 }, async () => {
  assert.ok(sweepRef, "needs the sweep reference");
  for (let chain = 0; chain < 2; chain++) {
    const root = path.join(tmp, `sweep-${chain}`);
    for (let kills = 0; kills < 2;) {
      const r = start(SWEEP(root));
      // mostly once its trainer writes, sometimes while the sweep is still planning
      const early = random() < 0.25;
      const started = early ? (await sleep(pick(500, 3000)), r.child.exitCode === null) : await when(r, () => fs.existsSync(path.join(sweepRun(root), "log.txt")));
      if (started) {
        if (!early) await sleep(pick(0, 2500));
        const below = descendants(r.child.pid!);
        if (r.child.exitCode === null) {
          r.child.kill("SIGKILL");
          kills++; counts.kills++;
          const orphans = await orphansAfter(below, 120_000);
          counts.orphans += orphans;
          assert.equal(orphans, 0, "no trainer outlives its sweep");
        }
      }
      await r.exited;
      if (finished(sweepRun(root))) break;
    }
    const rerun = valemb(SWEEP(root));
    assert.equal(rerun.status, 0, rerun.stderr);
    expectIdentical(sweepRun(root), sweepRef, `sweep chain ${chain}`);
    // the analysis of the whole root sees exactly the one run, and no leftovers
    const loaded = loadRuns([root]);
    assert.deepEqual(loaded.runs.map((x) => x.name), ["adding/baseline/seed-0"]);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(leftovers(root), []);
  }
});

test("data prepare: kill -9 at random moments leaves the old corpus or the new one; the rerun writes the new one", { timeout: 600_000 }, async () => {
  const src = path.join(tmp, "text");
  fs.mkdirSync(src);
  const para = (i: number) => `Paragraph ${i} is about ${["cats", "dogs", "the sea", "trains", "bread"][i % 5]} and ${i % 7} other things, twice ${i % 3}.`;
  fs.writeFileSync(path.join(src, "book.txt"), Array.from({ length: 3000 }, (_, i) => para(i)).join("\n\n"));
  const prep = (out: string, vocab: number) => ["data", "prepare", "--source", src, "--out", out, "--vocab", String(vocab)];
  const oldDir = path.join(tmp, "corpus-old"), newDir = path.join(tmp, "corpus-new");
  const t0 = Date.now();
  assert.equal(valemb(prep(newDir, 300)).status, 0);
  const prepareMs = Date.now() - t0;
  assert.equal(valemb(prep(oldDir, 280)).status, 0);
  const hashes = { old: openDataset(oldDir).hash, new: openDataset(newDir).hash };
  const target = path.join(tmp, "corpora", "c");
  for (let kills = 0, tries = 0; kills < 6 && tries < 15; tries++) {
    fs.rmSync(path.dirname(target), { recursive: true, force: true });
    fs.cpSync(oldDir, target, { recursive: true });
    const r = start(prep(target, 300));
    await sleep(pick(Math.round(prepareMs * 0.3), Math.round(prepareMs * 1.1)));
    if (r.child.exitCode !== null) continue; // finished first: not a kill
    r.child.kill("SIGKILL");
    await r.exited;
    kills++; counts.kills++;
    const now = openDataset(target).hash;
    assert.ok(now === hashes.old || now === hashes.new, "a killed prepare leaves the old corpus or the new one");
    counts.prepareStatesValid++;
    assert.equal(valemb(prep(target, 300)).status, 0);
    for (const f of ["meta.json", "tokenizer.json", "train.bin", "val.bin"]) {
      assert.ok(fs.readFileSync(path.join(target, f)).equals(fs.readFileSync(path.join(newDir, f))), `${f} as an uninterrupted prepare writes it`);
    }
    assert.deepEqual(fs.readdirSync(path.dirname(target)).filter((n) => n !== "c"), [], "no half-built folder or lock left beside it");
  }
});

/** Run `args` in a pseudo-terminal, press Ctrl-C once `ready` appears in its output; returns the output and exit status. */
function ctrlCInTerminal(args: string[], ready: string): { output: string; status: number } {
  const py = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, deadline = b"", False, time.time() + 600
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and READY in out:
        os.write(fd, b"\\x03")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf8", "replace"))
sys.stdout.write("\\nEXIT %d\\n" % (os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)))
`.replace("READY", JSON.stringify(ready) + ".encode()");
  const r = spawnSync("/usr/bin/python3", ["-c", py, process.execPath, BIN, ...args], { cwd: REPO, encoding: "utf8", timeout: 600_000 });
  const m = /\nEXIT (\d+)\n$/.exec(r.stdout);
  assert.ok(m, `python pty driver: ${r.stderr}`);
  return { output: r.stdout, status: Number(m![1]) };
}

test("Ctrl-C in a terminal stops `valemb train` (wasm) after the step: one line, exit 130, and the rerun resumes it", { timeout: 600_000 }, () => {
  const out = path.join(tmp, "ctrl-c-train");
  const { output, status } = ctrlCInTerminal([...TRAIN.filter((a) => a !== "--json-progress"), "--out", out], "step 1/8");
  assert.equal(status, 130, output);
  assert.match(output, /\nstopped at step [1-8]; rerun to resume\r?\n/);
  assert.equal(finished(out), false);
  counts.kills++;
  assert.equal(valemb([...TRAIN, "--out", out]).status, 0);
  expectIdentical(out, trainRef, "train after Ctrl-C");
});

test("Ctrl-C in a terminal stops `valemb run` and its trainer; the rerun finishes the same run", { timeout: 600_000 }, () => {
  assert.ok(sweepRef, "needs the sweep reference");
  const root = path.join(tmp, "ctrl-c-sweep");
  const { output, status } = ctrlCInTerminal(SWEEP(root), "baseline/seed-0 1/12");
  assert.equal(status, 130, output);
  assert.match(output, /stopped at step \d+ \(adding\/baseline\/seed-0\); rerun to resume/);
  counts.kills++;
  const rerun = valemb(SWEEP(root));
  assert.equal(rerun.status, 0, rerun.stderr);
  expectIdentical(sweepRun(root), sweepRef, "sweep after Ctrl-C");
});

test("fault-injection counts", (t) => {
  const line = `fault injection (seed ${SEED}): kills ${counts.kills}, resumes identical ${counts.resumesIdentical}, differing ${counts.resumesDiffering}, ` +
    `orphans ${counts.orphans}, prepare states valid ${counts.prepareStatesValid}, lock rounds ${counts.lockRounds} (double owners ${counts.lockDoubleOwners})`;
  t.diagnostic(line);
  process.stdout.write(`${line}\n`);
  assert.ok(counts.kills >= 20, `at least 20 kills (got ${counts.kills})`);
  assert.equal(counts.orphans, 0);
  assert.equal(counts.resumesDiffering, 0);
  assert.equal(counts.lockDoubleOwners, 0);
});
