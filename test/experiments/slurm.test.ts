// `valemb run --slurm`: the array script for the unfinished runs only, cluster settings checked, and a
// smoke sweep on a real one-node Slurm cluster (scripts/slurm-cluster.sh) with one task cancelled and
// requeued, which must end with the same losses as a local sweep and no run trained twice.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, LockHeldError, type HeldLock } from "../../src/data";

const REPO = path.resolve(__dirname, "..", "..");
const valemb = (args: string[]) => spawnSync(process.execPath, [path.join(REPO, "bin", "valemb.js"), ...args], { cwd: REPO, encoding: "utf8" });
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const finished = (dir: string) => fs.existsSync(path.join(dir, "meta.json")) && Boolean(readJson(path.join(dir, "meta.json")).finished);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Short runs: the checkpoint at step 10 of 20 leaves a window to cancel a task mid-run.
const SWEEP = ["adding", "--preset", "smoke", "--variants", "baseline,add-2", "--seeds", "2", "--steps", "20"];

test("--slurm --dry-run prints a valid array script for the unfinished runs only, and submits nothing", { timeout: 300_000 }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-slurm-dry-"));
  const local = valemb(["run", "adding", "--preset", "smoke", "--variants", "baseline", "--seeds", "1", "--steps", "10", "--root", root, "--jobs", "1"]);
  assert.equal(local.status, 0, local.stderr);
  const dry = valemb(["run", "adding", "--preset", "smoke", "--variants", "baseline,add-2", "--seeds", "1", "--steps", "10", "--root", root, "--slurm", "--dry-run",
    "--partition", "gpu", "--gpus-per-task", "1", "--cpus-per-task", "2", "--time", "01:30:00", "--max-parallel", "3"]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stderr, /1 done, 0 to copy from another section, 0 queued or running in earlier jobs, 1 to train/);
  const script = dry.stdout;
  for (const line of ["#SBATCH --array=0-0%3", "#SBATCH --requeue", "#SBATCH --partition=gpu", "#SBATCH --gpus-per-task=1", "#SBATCH --cpus-per-task=2", "#SBATCH --time=01:30:00"]) {
    assert.ok(script.split("\n").includes(line), `script has ${line}`);
  }
  assert.match(script, /^RUN_DIRS=\('[^']*\/adding\/add-2\/seed-0'\)$/m, "only the unfinished run");
  assert.doesNotMatch(script, /baseline\/seed-0/);
  assert.match(script, /'--steps' '10'/);
  const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
  assert.equal(syntax.status, 0, syntax.stderr);
  assert.ok(!fs.existsSync(path.join(root, "adding", ".slurm")), "a dry run writes nothing");
  assert.ok(!fs.existsSync(path.join(root, "adding", "add-2")));
});

test("cluster settings: a wrong key or value is refused naming the file and the setting", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-cluster-"));
  const file = path.join(dir, "cluster.json");
  const dry = () => valemb(["run", "adding", "--preset", "smoke", "--root", dir, "--slurm", "--dry-run", "--cluster", file]);
  fs.writeFileSync(file, JSON.stringify({ partiton: "gpu" }));
  assert.match(dry().stderr, new RegExp(`cluster settings ${file}: unknown setting "partiton"`));
  fs.writeFileSync(file, JSON.stringify({ modules: "cuda" }));
  assert.match(dry().stderr, /"modules" must be a list of strings/);
  fs.writeFileSync(file, JSON.stringify({ time: "90" }));
  assert.match(dry().stderr, /"time" must be HH:MM:SS/);
  const badFlag = valemb(["run", "adding", "--preset", "smoke", "--root", dir, "--slurm", "--dry-run", "--cpus-per-task", "0"]);
  assert.notEqual(badFlag.status, 0);
  assert.match(badFlag.stderr, /--cpus-per-task: must be ≥ 1, got 0/);
  fs.writeFileSync(file, JSON.stringify({ modules: ["nodejs/20"], env: { VALEMB_X: "it's" }, setup: ["source ~/env.sh"], projectDir: "/shared/valemb", partition: "cpu" }));
  const ok = valemb(["run", "adding", "--preset", "smoke", "--root", dir, "--slurm", "--dry-run", "--cluster", file, "--partition", "debug"]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^module load 'nodejs\/20'$/m);
  assert.match(ok.stdout, /^export VALEMB_X='it'\\''s'$/m);
  assert.match(ok.stdout, /^source ~\/env.sh$/m);
  assert.match(ok.stdout, /^cd '\/shared\/valemb'$/m);
  assert.match(ok.stdout, /^#SBATCH --partition=debug$/m, "a flag wins over the file");
});

// A real cluster needs root and the packages of scripts/setup/slurm.sh; CI has both and must not skip.
const canStart = process.getuid?.() === 0 && fs.existsSync("/usr/sbin/slurmctld") && fs.existsSync("/usr/sbin/slurmd");
const skip = canStart || process.env.CI ? false : "needs root and Slurm (scripts/setup/slurm.sh)";

describe("on a real one-node Slurm cluster", { skip }, () => {
  const pids = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "valemb-slurm-pids-")), "started.pids");
  let turn: HeldLock | null = null;
  before(async () => {
    // One cluster per machine: a second checkout's test run waits for the first to stop its cluster.
    const deadline = Date.now() + 900_000;
    for (;;) {
      try { turn = acquireLock(path.join(os.tmpdir(), "valemb-slurm-test.lock"), "test/experiments/slurm.test.ts"); break; } catch (e) {
        if (!(e instanceof LockHeldError) || Date.now() > deadline) throw e;
        await sleep(2000);
      }
    }
    const r = spawnSync(path.join(REPO, "scripts", "slurm-cluster.sh"), ["start", pids], { encoding: "utf8" });
    assert.equal(r.status, 0, `slurm-cluster.sh start: ${r.stderr}`);
  }, { timeout: 960_000 });
  after(() => {
    // only the daemons this test started, by the PIDs the start wrote
    const r = spawnSync(path.join(REPO, "scripts", "slurm-cluster.sh"), ["stop", pids], { encoding: "utf8" });
    turn?.release();
    assert.equal(r.status, 0, r.stderr);
  });

  test("a smoke sweep through --slurm, one task cancelled and requeued, equals the local sweep and trains no run twice", { timeout: 600_000 }, async () => {
    const localRoot = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-local-"));
    const slurmRoot = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-slurm-"));
    const local = valemb(["run", ...SWEEP, "--root", localRoot, "--jobs", "2", "--threads", "1"]);
    assert.equal(local.status, 0, local.stderr);

    // Two tasks on one folder: the same one-run script submitted twice by hand starts twice at once
    // on the idle node's two CPUs; the run-folder lock lets one train and refuses the other.
    const dupRoot = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-slurm-dup-"));
    const dry = valemb(["run", "adding", "--preset", "smoke", "--variants", "baseline", "--seeds", "1", "--steps", "20", "--root", dupRoot, "--slurm", "--dry-run"]);
    assert.equal(dry.status, 0, dry.stderr);
    fs.mkdirSync(path.join(dupRoot, "adding", ".slurm"), { recursive: true }); // where Slurm's own output file goes
    const dupScript = path.join(dupRoot, "one-run.sbatch");
    fs.writeFileSync(dupScript, dry.stdout);
    const dupJobs = [0, 1].map(() => {
      const r = spawnSync("sbatch", ["--parsable", dupScript], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    });
    while (spawnSync("squeue", ["-h", "-j", dupJobs.join(","), "-o", "%i"], { encoding: "utf8" }).stdout.trim()) await sleep(500);
    const dupDir = path.join(dupRoot, "adding", "baseline", "seed-0");
    const outputs = dupJobs.map((j) => fs.readFileSync(path.join(dupDir, `slurm-${j}_0.out`), "utf8"));
    assert.equal(outputs.filter((o) => /^\{"step":1,/m.test(o)).length, 1, `exactly one task trained:\n${outputs.join("\n----\n")}`);
    assert.ok(outputs.some((o) => /is being trained by another process|already finished/.test(o)), outputs.join("\n----\n"));
    assert.ok(finished(dupDir));
    assert.equal(readJson(path.join(dupDir, "meta.json")).resumes.length, 0);

    const sub = valemb(["run", ...SWEEP, "--root", slurmRoot, "--slurm", "--max-parallel", "2", "--json"]);
    assert.equal(sub.status, 0, sub.stderr);
    const { job, runs } = JSON.parse(sub.stdout) as { job: string; runs: string[] };
    assert.match(job, /^\d+$/);
    assert.equal(runs.length, 4);

    type Status = { variant: string; seed: number; dir: string; state: string; task: string | null; step: number | null; tail: string[] };
    const status = (): Status[] => {
      const r = valemb(["run", ...SWEEP, "--root", slurmRoot, "--status", "--json"]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const squeue = (task: string) => spawnSync("squeue", ["-h", "-r", "-j", job, "-o", "%i %T"], { encoding: "utf8" }).stdout.split("\n").find((l) => l.startsWith(`${task} `))?.split(" ")[1];

    // The last task starts after two others (at most 2 at once): cancel it after its first checkpoint.
    const victim = runs[3];
    const task = `${job}_3`;
    const deadline = Date.now() + 300_000;
    while (!(fs.existsSync(path.join(victim, "checkpoint.ckpt")) && !finished(victim))) {
      assert.ok(Date.now() < deadline, `task ${task} never reached a checkpoint`);
      await sleep(100);
    }
    const cancel = spawnSync("scancel", [task], { encoding: "utf8" });
    assert.equal(cancel.status, 0, cancel.stderr);
    while (squeue(task) !== undefined && squeue(task) !== "CANCELLED") await sleep(200);
    const stopped = status().find((s) => s.dir === victim)!;
    assert.equal(stopped.state, "failed", "a cancelled task is shown as failed until it is requeued");
    assert.equal(stopped.task, task);
    assert.ok(!finished(victim), "cancelled before it finished");
    // SIGTERM from scancel: the trainer checkpoints at its current step and says so (shown by --status)
    const stopLine = stopped.tail.find((l) => /^stopped at step \d+; rerun to resume$/.test(l));
    assert.ok(stopLine, `the task's last lines: ${stopped.tail.join(" | ")}`);
    const stoppedAt = Number(/\d+/.exec(stopLine!)![0]);

    const requeue = spawnSync("scontrol", ["requeue", task], { encoding: "utf8" });
    assert.equal(requeue.status, 0, requeue.stderr);
    // A resubmission while the requeued task waits leaves it to that task: nothing new to train.
    const again = valemb(["run", ...SWEEP, "--root", slurmRoot, "--slurm", "--json"]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).job, null, again.stdout);

    while (!status().every((s) => s.state === "done")) {
      assert.ok(Date.now() < deadline + 120_000, `sweep not done: ${JSON.stringify(status())}`);
      await sleep(1000);
    }

    const losses = (dir: string) => fs.readFileSync(path.join(dir, "evals.jsonl"), "utf8").trim().split("\n").map((l) => {
      const e = JSON.parse(l) as { step: number; val_loss: number };
      return [e.step, e.val_loss];
    });
    assert.deepEqual(losses(dupDir), losses(path.join(localRoot, "adding", "baseline", "seed-0")), "the contested run has the local sweep's losses");
    for (const dir of runs) {
      const twin = path.join(localRoot, path.relative(slurmRoot, dir));
      assert.deepEqual(losses(dir), losses(twin), `${path.relative(slurmRoot, dir)}: same losses as the local sweep`);
      const meta = readJson(path.join(dir, "meta.json")) as { resumes: { fromStep: number }[] };
      const starts = fs.readFileSync(path.join(dir, `slurm-${job}_${runs.indexOf(dir)}.out`), "utf8").match(/^valemb: task /gm)!.length;
      if (dir === victim) {
        assert.equal(starts, 2, "the requeued task ran twice");
        assert.equal(meta.resumes.length, 1, "and resumed from its checkpoint once");
        assert.equal(meta.resumes[0].fromStep, stoppedAt, "resumed from the checkpoint written at SIGTERM");
      } else {
        assert.equal(starts, 1, `${dir} ran once`);
        assert.equal(meta.resumes.length, 0);
      }
      const logSteps = fs.readFileSync(path.join(dir, "log.txt"), "utf8").match(/^step:\d+\/\d+ [a-z_]+/gm)!;
      assert.equal(new Set(logSteps).size, logSteps.length, "no step logged twice");
    }
    const last = valemb(["run", ...SWEEP, "--root", slurmRoot, "--slurm"]);
    assert.equal(last.status, 0, last.stderr);
    assert.match(last.stdout, /4 done,.* 0 to train[\s\S]*nothing to submit/);
  });
});
