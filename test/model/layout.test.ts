import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LayoutError, addSharedTables, denseLayout, formatLayout, layoutLabel, mirroredTables, noTables, numTables,
  parseLayout, removeLayers, removeTable, reshare, shiftEarly, tableChar, tableSlots, validateLayout,
} from "../../src/model";

const base = addSharedTables(3, 16);

// Every layout of EXPERIMENTS.md's table, from the builders: [compact form, built, tables].
const POST_LAYOUTS: [string, ReturnType<typeof parseLayout>, number][] = [
  ["012..........012", base, 3],
  ["0123........0123", addSharedTables(4, 16), 4],
  ["01234......01234", addSharedTables(5, 16), 5],
  ["012345....012345", addSharedTables(6, 16), 6],
  ["0123456..0123456", addSharedTables(7, 16), 7],
  ["0123456701234567", addSharedTables(8, 16), 8],
  [".12..........012", removeLayers(base, [0]), 3],
  ["0.2..........012", removeLayers(base, [1]), 3],
  ["01...........012", removeLayers(base, [2]), 3],
  ["012...........12", removeLayers(base, [13]), 3],
  ["012..........0.2", removeLayers(base, [14]), 3],
  ["012..........01.", removeLayers(base, [15]), 3],
  ["..2..........012", removeLayers(base, [0, 1]), 3],
  [".............012", removeLayers(base, [0, 1, 2]), 3],
  [".12...........12", removeTable(base, 0), 2],
  ["0.2..........0.2", removeTable(base, 1), 2],
  ["01...........01.", removeTable(base, 2), 2],
  [".012.........012", shiftEarly(base, 1), 3],
  ["..012........012", shiftEarly(base, 2), 3],
  ["000..........111", reshare([[0, 1, 2], [13, 14, 15]], 16), 2],
  ["00............11", reshare([[0, 1], [14, 15]], 16), 2],
  ["012..........210", mirroredTables(3, 16), 3],
  ["01234......43210", mirroredTables(5, 16), 5],
];

test("builders produce every layout of the post, and each round-trips", () => {
  for (const [text, built, tables] of POST_LAYOUTS) {
    assert.equal(formatLayout(built), text);
    const parsed = parseLayout(text, { nLayer: 16 });
    assert.deepEqual(parsed, built, text);
    assert.equal(formatLayout(parsed), text);
    assert.equal(numTables(parsed), tables, `${text} tables`);
  }
});

test("labels read like the post", () => {
  assert.equal(layoutLabel(base), "0&13, 1&14, 2&15");
  assert.equal(layoutLabel(parseLayout(".12...........12")), "1&14, 2&15");
  assert.equal(layoutLabel(parseLayout("000..........111")), "0&1&2, 13&14&15");
  assert.equal(layoutLabel(parseLayout("012..........210")), "0&15, 1&14, 2&13");
  assert.equal(layoutLabel(noTables(16)), "none");
});

test("ids beyond 9 use letters, any layer count works", () => {
  const wide = addSharedTables(12, 24);
  assert.equal(formatLayout(wide), "0123456789ab0123456789ab");
  assert.equal(numTables(wide), 12);
  assert.deepEqual(parseLayout("0123456789ab0123456789ab"), wide);
  assert.equal(tableChar(35), "z");
  assert.equal(tableChar(36), "A");
  assert.equal(formatLayout(parseLayout("0.Z", { nLayer: 3 })), "0.Z");
  assert.deepEqual(parseLayout("0.0").layers, [0, null, 0]);
  assert.throws(() => tableChar(62), LayoutError);
});

test("slots map ids to dense table indices", () => {
  const l = parseLayout(".12...........12");
  assert.deepEqual(tableSlots(l), [null, 0, 1, null, null, null, null, null, null, null, null, null, null, null, 0, 1]);
  assert.equal(formatLayout(denseLayout(l)), ".01...........01");
});

test("parse errors say what and where", () => {
  assert.throws(() => parseLayout("012..........01", { nLayer: 16 }), /has 15 layers, but the model has 16/);
  assert.throws(() => parseLayout("012..._......012"), (e: Error) => e instanceof LayoutError && /unknown character "_" at position 6/.test(e.message));
  assert.throws(() => parseLayout("012.. .......012"), /unknown character " " at position 5/);
  assert.throws(() => parseLayout("012-.........012"), /"-" at position 3/);
  assert.throws(() => parseLayout(""), /non-empty/);
  assert.throws(() => parseLayout(".12...........12", { denseTables: true }), /0\.\.1 without gaps, but 0 is missing/);
  assert.throws(() => parseLayout("035", { denseTables: true }), /0\.\.2 without gaps, but 1, 2 are missing/);
  assert.doesNotThrow(() => parseLayout("012..........012", { denseTables: true, nLayer: 16 }));
  assert.throws(() => validateLayout({ layers: [0, 1.5] }), /layer 1 names table 1.5/);
});

test("builder errors", () => {
  assert.throws(() => addSharedTables(9, 16), /2n ≤ 16/);
  assert.throws(() => removeLayers(base, [5]), /layer 5 .* has no value embedding/);
  assert.throws(() => removeLayers(base, [16]), /layer 16 is not in 0\.\.15/);
  assert.throws(() => removeTable(base, 3), /has no table 3/);
  assert.throws(() => shiftEarly(base, 6), /leaves the early half/);
  assert.throws(() => reshare([[0, 1], [1, 2]], 16), /layer 1 is in group 0 and group 1/);
  assert.throws(() => reshare([[]], 16), /group 0 is empty/);
});
