// The sweep runner through the CLI, as CI and users run it: a whole smoke section, then a rerun that
// trains nothing, a resumed interruption, a changed config that is refused, and a held lock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SECTIONS, acquireLock, planSweep, sectionResults, selectVariants, type RunRequest } from "../../src/experiments";
import { runBackend, runIdentity } from "../../src/train";

const REPO = path.resolve(__dirname, "..", "..");
const valemb = (args: string[]) => spawnSync(process.execPath, [path.join(REPO, "bin", "valemb.js"), ...args], { cwd: REPO, encoding: "utf8" });
const finished = (dir: string) => fs.existsSync(path.join(dir, "meta.json")) && Boolean(JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8")).finished);

test("valemb run adding --preset smoke trains every variant × seed, then a rerun trains nothing", { timeout: 900_000 }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-sweep-"));
  const first = valemb(["run", "adding", "--preset", "smoke", "--root", root, "--json"]);
  assert.equal(first.status, 0, first.stderr);
  const spec = SECTIONS.adding;
  for (const v of spec.variants) for (let s = 0; s < spec.defaults.seeds; s++) assert.ok(finished(path.join(root, "adding", v.name, `seed-${s}`)), `${v.name}/seed-${s}`);
  const out = JSON.parse(first.stdout) as { target: { value: number }; variants: { name: string; n: number }[] };
  assert.equal(out.variants.length, spec.variants.length);
  assert.ok(out.variants.every((v) => v.n === spec.defaults.seeds));
  assert.ok(Number.isFinite(out.target.value));

  const again = valemb(["run", "adding", "--preset", "smoke", "--root", root, "--json"]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /0 trained, 18 already done/);
  // the baseline of another section is the same run: copied, not trained again
  const shifting = valemb(["run", "shifting", "--preset", "smoke", "--root", root, "--variants", "baseline", "--json"]);
  assert.equal(shifting.status, 0, shifting.stderr);
  assert.match(shifting.stderr, /3 copied from another section/);
  assert.deepEqual(fs.readFileSync(path.join(root, "shifting", "baseline", "seed-0", "evals.jsonl")), fs.readFileSync(path.join(root, "adding", "baseline", "seed-0", "evals.jsonl")));
});

test("an interrupted sweep resumes; a changed config is refused, then moved aside with --replace-stale", { timeout: 600_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-sweep-"));
  const args = [path.join(REPO, "bin", "valemb.js"), "run", "shifting", "--preset", "smoke", "--root", root, "--seeds", "1", "--variants", "baseline", "--steps", "30", "--jobs", "1"];
  const dir = path.join(root, "shifting", "baseline", "seed-0");
  // interrupt once the first checkpoint (step 10) is written
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: "ignore", detached: true });
    const timer = setInterval(() => {
      if (fs.existsSync(path.join(dir, "checkpoint.ckpt"))) { clearInterval(timer); process.kill(-child.pid!, "SIGKILL"); }
    }, 100);
    child.on("exit", () => { clearInterval(timer); resolve(); });
  });
  assert.ok(!finished(dir), "the run was interrupted before it finished");
  assert.ok(fs.existsSync(path.join(root, "shifting", ".sweep.lock")), "SIGKILL leaves the lock behind; the next sweep takes over a dead owner's lock");
  const list = valemb(["run", "shifting", "--preset", "smoke", "--root", root, "--seeds", "1", "--variants", "baseline", "--steps", "30", "--list"]);
  assert.match(list.stdout, /resume/);
  const resumed = spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8" });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(finished(dir));
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
  assert.equal(meta.resumes.length, 1, "resumed once from its checkpoint");
  const evals = fs.readFileSync(path.join(dir, "evals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step);
  assert.deepEqual(evals, [0, 10, 20, 30], "no eval lost or duplicated");

  // the same folder with another step count: a different run, never silently reused
  const changed = valemb(["run", "shifting", "--preset", "smoke", "--root", root, "--seeds", "1", "--variants", "baseline", "--steps", "20", "--jobs", "1"]);
  assert.notEqual(changed.status, 0);
  assert.match(changed.stderr, /no longer match their config or code version[\s\S]*--replace-stale/);
  const replaced = valemb(["run", "shifting", "--preset", "smoke", "--root", root, "--seeds", "1", "--variants", "baseline", "--steps", "20", "--jobs", "1", "--replace-stale"]);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.equal(fs.readdirSync(path.join(root, "shifting", "baseline")).filter((n) => n.startsWith("seed-0.stale-")).length, 1, "the old run is kept aside");
  assert.ok(finished(dir));
});

test("a second sweep on the same section folder is refused while the first holds the lock", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-lock-"));
  const release = acquireLock(path.join(root, "adding", ".sweep.lock"), "test");
  try {
    const r = valemb(["run", "adding", "--preset", "smoke", "--root", root, "--seeds", "1", "--variants", "baseline"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /another sweep is running on .*adding \(pid \d+/);
  } finally { release(); }
  assert.ok(!fs.existsSync(path.join(root, "adding", ".sweep.lock")));
});

test("planSweep: seed-major order, and states from the run folders", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-plan-"));
  const spec = SECTIONS.shifting;
  const id = (r: RunRequest) => `${r.variant.layout}/${r.seed}`;
  const write = (variant: string, seed: number, meta: object) => {
    const dir = path.join(root, "shifting", variant, `seed-${seed}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta));
  };
  write("baseline", 0, { identity: "012..........012/0", finished: "2026-01-01" });
  write("shift-1-2-3", 0, { identity: ".012.........012/0", finished: null });
  write("shift-2-3-4", 0, { identity: "other", finished: "2026-01-01" });
  const plans = planSweep({ spec, variants: spec.variants, preset: "tiny", seeds: 2, root, jobs: 1 }, id);
  assert.deepEqual(plans.map((p) => `${p.variant.name}/${p.seed}:${p.state}`), [
    "baseline/0:done", "shift-1-2-3/0:resume", "shift-2-3-4/0:stale", "baseline/1:todo", "shift-1-2-3/1:todo", "shift-2-3-4/1:todo",
  ]);
});

test("sectionResults: the target is the baseline's mean final loss, rounded up, and stated", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-res-"));
  const write = (variant: string, seed: number, finalLoss: number) => {
    const dir = path.join(root, "adding", variant, `seed-${seed}`);
    fs.mkdirSync(dir, { recursive: true });
    const evals = [0, 50, 100].map((s) => ({ step: s, total_steps: 100, val_loss: s === 100 ? finalLoss : 5 - s / 50, train_time_ms: s * 1000, step_avg_ms: 1000 }));
    fs.writeFileSync(path.join(dir, "evals.jsonl"), evals.map((e) => JSON.stringify(e)).join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ finished: "2026-01-01" }));
  };
  write("baseline", 0, 2.90001); write("baseline", 1, 2.91001); write("add-2", 0, 2.8); write("add-2", 1, 2.81);
  const r = sectionResults(SECTIONS.adding, { root });
  assert.equal(r.target.value, 2.9051); // mean 2.90501 rounded up to 4 decimals
  assert.match(r.target.rule, /baseline mean final val loss over 2 seed/);
  assert.deepEqual(r.missing, ["add-1", "add-3", "add-4", "add-5"]);
  const add2 = r.variants.find((v) => v.variant.name === "add-2")!;
  assert.ok(add2.vsBaseline && add2.vsBaseline.diff < 0);
  assert.equal(add2.summary.nCrossed, 2);
  assert.equal(r.ranking!.rows[0].run, "add-2");
});

test("selectVariants: names, or 'headline' for the variants behind a section's headline claims", () => {
  assert.deepEqual(selectVariants(SECTIONS.adding, "headline").map((v) => v.name), ["baseline", "add-1", "add-2", "add-3"]);
  assert.deepEqual(selectVariants(SECTIONS.removing, "headline").map((v) => v.name), ["baseline", "remove-table-0-13", "remove-table-1-14", "remove-table-2-15"]);
  assert.deepEqual(selectVariants(SECTIONS.sharing, "headline").map((v) => v.name), ["baseline", "remove-table-0-13", "share-0-2-13-15", "share-01-1415"]);
  assert.throws(() => selectVariants(SECTIONS.shifting, "headline"), /section 'shifting' has no headline variants \(sections with some: adding, removing, sharing\)/);
  for (const spec of Object.values(SECTIONS)) for (const name of spec.headline) assert.ok(spec.variants.some((v) => v.name === name), `${spec.name}: ${name}`);
  assert.throws(() => selectVariants(SECTIONS.adding, "add-1,nope"), /section 'adding' has no variant 'nope'/);
});

test("run identities: the committed wasm runs keep theirs; tensorflow's names its device kind, so CPU and CUDA runs differ", () => {
  assert.equal(runBackend("wasm", "cpu"), "wasm");
  assert.equal(runBackend("tensorflow", "cpu"), "tensorflow-cpu");
  assert.equal(runBackend("tensorflow", "cuda:NVIDIA H100 80GB HBM3"), "tensorflow-cuda");
  const dir = path.join(REPO, "data", "runs", "adding", "baseline", "seed-0");
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
  const opts = { preset: meta.preset, layout: meta.layout, seed: meta.seed, steps: meta.steps, out: dir };
  assert.equal(meta.backend, "wasm");
  assert.equal(runIdentity(opts, runBackend("wasm", "cpu")), meta.identity);
  const onCpu = runIdentity(opts, runBackend("tensorflow", "cpu")), onCuda = runIdentity(opts, runBackend("tensorflow", "cuda:GPU"));
  assert.equal(new Set([meta.identity, onCpu, onCuda]).size, 3);
});
