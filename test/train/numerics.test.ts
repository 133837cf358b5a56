// Pins NUMERICS_VERSION to the arithmetic, per backend: if training numbers change on the backend under
// test (wasm by default; VALEMB_TEST_BACKEND=tensorflow for libtensorflow with 1 thread), finished runs
// must not be reused, so this fails until the version is bumped and the fingerprints re-recorded with
// `npm run fingerprint` (and `VALEMB_TEST_BACKEND=tensorflow npm run fingerprint`).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { NUMERICS_VERSION, numericsFingerprint } from "../../src/train";
import { backendUnderTest, useBackend } from "../engine/backends-here";

const FILE = path.join(__dirname, "numerics-fingerprint.json");
const BACKEND = backendUnderTest("wasm");

interface Recorded { numericsVersion: number; backends: Record<string, { fingerprint: string; losses: number[]; note?: string }> }

test(`the ${BACKEND} training numbers match the fingerprint recorded for NUMERICS_VERSION`, async () => {
  await useBackend(BACKEND);
  const { fingerprint, losses } = await numericsFingerprint();
  const recorded = JSON.parse(fs.readFileSync(FILE, "utf8")) as Recorded;
  if (process.env.VALEMB_RECORD_FINGERPRINT) {
    if (recorded.numericsVersion !== NUMERICS_VERSION) recorded.backends = {};
    recorded.numericsVersion = NUMERICS_VERSION;
    recorded.backends[BACKEND] = { fingerprint, losses, ...(BACKEND === "tensorflow" ? { note: "1 intra-op thread, oneDNN off; x86-64 CPU kernels may differ by ISA" } : {}) };
    fs.writeFileSync(FILE, JSON.stringify(recorded, null, 2) + "\n");
  }
  assert.equal(recorded.numericsVersion, NUMERICS_VERSION,
    `NUMERICS_VERSION is ${NUMERICS_VERSION} but the fingerprints were recorded for ${recorded.numericsVersion}: run \`npm run fingerprint\``);
  const mine = recorded.backends[BACKEND];
  assert.ok(mine, `no fingerprint recorded for ${BACKEND}: run \`VALEMB_TEST_BACKEND=${BACKEND} npm run fingerprint\``);
  assert.equal(fingerprint, mine.fingerprint,
    `${BACKEND} training numbers changed (losses ${losses.join(", ")} vs ${mine.losses.join(", ")}): bump NUMERICS_VERSION in src/train/numerics.ts, then run \`npm run fingerprint\` on every backend`);
});
