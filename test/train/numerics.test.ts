// Pins NUMERICS_VERSION to the arithmetic: if training numbers change on the wasm backend (the CPU
// default), finished runs must not be reused, so this fails until the version is bumped and the
// fingerprint re-recorded with `npm run fingerprint`.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { initEngine } from "../../src/engine";
import { NUMERICS_VERSION, numericsFingerprint } from "../../src/train";

const FILE = path.join(__dirname, "numerics-fingerprint.json");

test("the wasm training numbers match the fingerprint recorded for NUMERICS_VERSION", async () => {
  await initEngine({ backend: "wasm" });
  const { fingerprint, losses } = await numericsFingerprint();
  if (process.env.VALEMB_RECORD_FINGERPRINT) {
    fs.writeFileSync(FILE, JSON.stringify({ numericsVersion: NUMERICS_VERSION, backend: "wasm", fingerprint, losses }, null, 2) + "\n");
  }
  const recorded = JSON.parse(fs.readFileSync(FILE, "utf8")) as { numericsVersion: number; fingerprint: string; losses: number[] };
  assert.equal(recorded.numericsVersion, NUMERICS_VERSION,
    `NUMERICS_VERSION is ${NUMERICS_VERSION} but the fingerprint was recorded for ${recorded.numericsVersion}: run \`npm run fingerprint\``);
  assert.equal(fingerprint, recorded.fingerprint,
    `training numbers changed (losses ${losses.join(", ")} vs ${recorded.losses.join(", ")}): bump NUMERICS_VERSION in src/train/numerics.ts, then run \`npm run fingerprint\``);
});
