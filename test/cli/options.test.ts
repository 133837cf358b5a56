// The shared option table: strict decimal values, empty refused, every command parses through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { convertOption, OPTIONS, parseOptions, UsageError } from "../../src/cli/options";

const ROOT = path.join(__dirname, "..", "..");

test("numbers: decimal notation only; empty, hex, octal, binary, Infinity and trailing junk are refused", () => {
  const spec = OPTIONS.threshold;
  for (const ok of ["2.92", "-1", "+3", ".5", "5.", "1e-3", "2E2", "0"]) assert.equal(convertOption("threshold", spec, ok), Number(ok));
  for (const bad of ["", " ", "0x10", "0o7", "0b1", "Infinity", "NaN", "2.92abc", "1_000", "1,5", " 2"]) {
    assert.throws(() => convertOption("threshold", spec, bad), (e: Error) => e instanceof UsageError && /^--threshold: expected a decimal number/.test(e.message), bad);
  }
  assert.throws(() => convertOption("threshold", spec, "1e999"), /--threshold: 1e999 is out of range/);
});

test("integers: digits only, bounds from the table", () => {
  assert.equal(convertOption("seed", OPTIONS.seed, "7"), 7);
  for (const bad of ["", "1.5", "1e3", "0x10", "-"]) assert.throws(() => convertOption("seed", OPTIONS.seed, bad), /--seed: expected a whole number/, bad);
  assert.throws(() => convertOption("seed", OPTIONS.seed, "-1"), /--seed: must be ≥ 0, got -1/);
  assert.throws(() => convertOption("port", OPTIONS.port, "70000"), /--port: must be ≤ 65535/);
  assert.throws(() => convertOption("steps", OPTIONS.steps, "99999999999999999999"), /--steps: 99999999999999999999 is too large/);
  assert.throws(() => convertOption("level", OPTIONS.level, "1"), /--level: must be < 1/);
});

test("parseOptions: defaults, required, choices, multiple, unknown options and stray arguments", () => {
  const { values, positionals } = parseOptions(["a.txt", "--threshold", "3", "--json", "--label", "x=1", "--label", "y=2"],
    { threshold: { default: 2.92 }, points: { default: 101 }, json: {}, partial: {}, runs: {}, label: {} }, { positionals: true });
  assert.deepEqual(positionals, ["a.txt"]);
  assert.deepEqual(values, { threshold: 3, points: 101, json: true, partial: false, runs: undefined, label: ["x=1", "y=2"] });
  assert.throws(() => parseOptions([], { from: { required: true } }), /--from is required/);
  assert.throws(() => parseOptions(["--axis", "epochs"], { axis: {} }), /--axis: expected time or step, got "epochs"/);
  assert.throws(() => parseOptions(["--runs", ""], { runs: {} }), /--runs: empty value/);
  assert.throws(() => parseOptions(["--treshold", "2"], { threshold: {} }), (e: Error) => e instanceof UsageError && /--treshold/.test(e.message));
  assert.throws(() => parseOptions(["stray"], { json: {} }), (e: Error) => e instanceof UsageError && /stray/.test(e.message));
  assert.throws(() => parseOptions(["--threshold"], { threshold: {} }), /--threshold/);
});

test("no command parses options by hand: each goes through parseOptions", () => {
  const dir = path.join(ROOT, "src", "cli", "commands");
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
    const src = fs.readFileSync(path.join(dir, f), "utf8");
    assert.doesNotMatch(src, /\bparseArgs\b/, `${f} calls parseArgs itself`);
    assert.doesNotMatch(src, /Number\(values/, `${f} converts an option with Number()`);
    if (/\bvalues\b/.test(src)) assert.match(src, /parseOptions\(/, `${f} reads options without parseOptions`);
  }
});

test("the CLI refuses the issue's malformed values with exit 2 and the option's name", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "valemb.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  const cases: [string[], RegExp][] = [
    [["crossings", "x.txt", "--threshold", ""], /valemb crossings: --threshold: expected a decimal number, got ""/],
    [["crossings", "x.txt", "--threshold", "0x10"], /valemb crossings: --threshold: expected a decimal number, got "0x10"/],
    [["run", "adding", "--target", ""], /valemb run: --target: expected a decimal number, got ""/],
    [["train", "--out", "never-written", "--seed", ""], /valemb train: --seed: expected a whole number in decimal digits, got ""/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(fs.existsSync(path.join(ROOT, "never-written")), false);
});
