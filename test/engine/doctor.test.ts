// `valemb doctor` as a user runs it: one JSON object with the agreed keys, forcing, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { defaultThreads } from "../../src/engine";

const ROOT = path.resolve(__dirname, "../..");

/** The real tfjs-node with its addon (not just any package in its slot). */
function tensorflowInstalled(): boolean {
  try { return require("@tensorflow/tfjs-node/package.json").name === "@tensorflow/tfjs-node"; } catch { return false; }
}

function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, "bin/valemb.js"), "doctor", ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, VALEMB_BACKEND: "", VALEMB_THREADS: "", ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
  });
}

test("doctor --json prints one object: the fastest backend here (tensorflow once scripts/setup/tfjs-node.sh ran, else wasm), one thread per core", async () => {
  const { code, stdout, stderr } = await doctor(["--json"]);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `exactly one line on stdout, got: ${stdout}`);
  const r = JSON.parse(lines[0]);
  for (const key of ["backend", "device", "library", "threads", "simd", "tfjs", "skipped"]) assert.ok(key in r, `key ${key}`);
  assert.equal(stderr, "", "nothing on stderr (libtensorflow's start-up lines are silenced)");
  assert.equal(r.tfjs, "4.22.0");
  assert.equal(typeof r.skipped, "object");
  assert.notEqual(r.backend, "cpu", `auto must never fall to the slow cpu backend: ${JSON.stringify(r.skipped)}`);
  if (r.backend === "wasm") {
    // This kind of machine: no tfjs-node, no real GPU.
    assert.equal(r.threads, defaultThreads());
    assert.equal(r.simd, true);
    assert.ok("tensorflow-gpu" in r.skipped && "webgpu" in r.skipped && "tensorflow" in r.skipped, JSON.stringify(r.skipped));
    for (const why of Object.values(r.skipped)) assert.ok(typeof why === "string" && why.length > 0);
    assert.equal(r.device, "cpu");
    assert.equal(r.library, "tfjs-backend-wasm 4.22.0");
  }
  if (r.backend === "tensorflow") {
    assert.equal(r.threads, defaultThreads());
    assert.match(r.device, /^(cpu|cuda:.+)$/);
    assert.match(r.library, /^libtensorflow 2\.\d+\.\d+$/);
  }
  // CI runs scripts/setup-tests.sh, which installs the native backend: auto must find it there.
  if (process.env.CI) assert.equal(r.backend, "tensorflow", JSON.stringify(r.skipped));
});

test("doctor --threads sets tensorflow's threads; the device and library are reported", { skip: !tensorflowInstalled() && !process.env.CI && "tfjs-node not installed (scripts/setup/tfjs-node.sh)" }, async () => {
  const { code, stdout, stderr } = await doctor(["--json", "--backend", "tensorflow", "--threads", "1"]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  const r = JSON.parse(stdout);
  assert.equal(r.backend, "tensorflow");
  assert.equal(r.threads, 1);
  assert.match(r.device, /^(cpu|cuda:.+)$/);
  assert.match(r.library, /^libtensorflow 2\.\d+\.\d+$/);
});

test("doctor --backend forces a backend; VALEMB_BACKEND too; the text report names it", async () => {
  const forced = JSON.parse((await doctor(["--json", "--backend", "cpu"])).stdout);
  assert.deepEqual(forced, { backend: "cpu", device: "cpu", library: "tfjs-backend-cpu 4.22.0", threads: 1, simd: null, tfjs: "4.22.0", skipped: {} });
  const env = JSON.parse((await doctor(["--json", "--threads", "1"], { VALEMB_BACKEND: "wasm" })).stdout);
  assert.equal(env.backend, "wasm");
  assert.equal(env.threads, 1);
  const text = await doctor(["--backend", "cpu"]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^backend\s+cpu$/m);
  assert.match(text.stdout, /^tfjs\s+4\.22\.0$/m);
});

test("doctor rejects an unknown backend with a clear error", async () => {
  const { code, stderr } = await doctor(["--backend", "gpu"]);
  assert.notEqual(code, 0);
  assert.match(stderr, /--backend: unknown backend 'gpu'/);
});
