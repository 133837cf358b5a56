import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, MODEL_PRESETS, modelConfig, paddedVocab, speedrunWindowsAt, validateConfig, windowsAt } from "../../src/model";

test("presets: medium is the speedrun's model; tiny and smoke keep its 16 blocks and indices", () => {
  const m = MODEL_PRESETS.medium;
  assert.deepEqual([m.nLayer, m.dim, m.nHead, m.headDim, m.vocabSize, paddedVocab(m)], [16, 1024, 8, 128, 50257, 50304]);
  assert.deepEqual(m.noAttention, [7]);
  assert.deepEqual(m.skips, [{ to: 9, from: 6 }, { to: 10, from: 4 }, { to: 11, from: 2 }]);
  assert.deepEqual([m.softcap, m.attnScale, m.eotToken], [15, 0.12, 50256]);
  for (const name of ["medium", "one-gpu", "tiny", "smoke"] as const) {
    const c = MODEL_PRESETS[name];
    assert.doesNotThrow(() => validateConfig(c), name);
    assert.equal(c.nLayer, 16);
    assert.deepEqual(c.windows.longBlocks, [0, 4, 11, 15]);
    assert.equal(c.windows.short * 2, c.windows.long);
    assert.equal(c.layout, "012..........012");
  }
  assert.deepEqual([MODEL_PRESETS.tiny.vocabSize, MODEL_PRESETS.tiny.dim, MODEL_PRESETS.tiny.nHead, MODEL_PRESETS.tiny.headDim, MODEL_PRESETS.tiny.seqLen], [2048, 64, 2, 32, 128]);
});

test("modelConfig copies, overrides and validates", () => {
  const c = modelConfig("tiny", { layout: "01234......01234" });
  assert.equal(c.layout, "01234......01234");
  c.noAttention.push(3);
  assert.deepEqual(MODEL_PRESETS.tiny.noAttention, [7], "presets are not mutated");
  assert.throws(() => modelConfig("huge"), /unknown model preset "huge" \(known: medium, one-gpu, tiny, smoke\)/);
  assert.throws(() => modelConfig("tiny", { layout: "012" }), (e: Error) => e instanceof ConfigError && /GPTConfig.layout: .*has 3 layers, but the model has 16/.test(e.message));
  // block 7 has no attention: naming a table there is harmless (the post's add-5), but a table only it names is never read
  assert.equal(modelConfig("tiny", { layout: "0123456701234567" }).layout, "0123456701234567");
  assert.throws(() => modelConfig("tiny", { layout: ".......0........" }),
    (e: Error) => e instanceof ConfigError && /"\.\.\.\.\.\.\.0\.\.\.\.\.\.\.\.": table 0 is named only by block 7, which has no attention \(noAttention \[7\]\), so it would never be read/.test(e.message));
  assert.throws(() => modelConfig("tiny", { layout: "01.....2.......0", noAttention: [6, 7] }), /table 2 is named only by block 7/);
  assert.throws(() => modelConfig("tiny", { layout: "01....22.......0", noAttention: [6, 7] }), /table 2 is named only by blocks 6, 7, which have no attention/);
});

test("validation names the bad field", () => {
  const bad = (o: object, re: RegExp) => assert.throws(() => validateConfig({ ...MODEL_PRESETS.smoke, ...o }), re);
  bad({ dim: 0 }, /GPTConfig.dim must be a positive integer, got 0/);
  bad({ headDim: 18 }, /GPTConfig.headDim must be a multiple of 4/);
  bad({ attnScale: -1 }, /GPTConfig.attnScale must be a positive number/);
  bad({ noAttention: [16] }, /GPTConfig.noAttention: 16 is not a block index in 0\.\.15/);
  bad({ skips: [{ to: 4, from: 9 }] }, /skips\[0\]: from \(9\) must be an earlier block than to \(4\)/);
  bad({ skips: [{ to: 9, from: 6 }, { to: 9, from: 2 }] }, /block 9 already has a skip/);
  bad({ windows: { long: 32, short: 0, longBlocks: [] } }, /windows.short must be a positive integer/);
  bad({ eotToken: 512 }, /eotToken must be null or a token id in 0\.\.511/);
  bad({ layout: "012.....#....012" }, /unknown character "#" at position 8/);
  assert.doesNotThrow(() => validateConfig({ ...MODEL_PRESETS.smoke, eotToken: null }));
});

test("speedrun window schedule: 128 tokens at the start, 3456 at the end, short = half", () => {
  assert.deepEqual(speedrunWindowsAt(0, 5960), { long: 128, short: 128 });
  assert.deepEqual(speedrunWindowsAt(5960, 5960), { long: 3456, short: 1664 });
  const mid = speedrunWindowsAt(2980, 5960);
  assert.equal(mid.long % 128, 0);
  assert.ok(mid.long > 128 && mid.long < 3456);
});

test("windowsAt: medium's schedule in 128-token blocks follows the record; tiny and smoke keep fixed token windows", () => {
  const medium = MODEL_PRESETS.medium.windows;
  assert.deepEqual(medium.schedule, { blockSize: 128, finalLong: 3456 });
  for (const [step, total] of [[0, 5960], [1000, 5960], [2980, 5960], [5960, 5960]]) {
    const w = windowsAt(medium, step, total), tokens = speedrunWindowsAt(step, total);
    assert.deepEqual([w.long.unit, w.long.size * 128, w.short.size * 128], ["blocks", tokens.long, tokens.short], `step ${step}`);
  }
  assert.equal(windowsAt(medium).long.size, 27, "no step: the final 3456-token window");
  for (const preset of ["tiny", "smoke"] as const) {
    const w = windowsAt(MODEL_PRESETS[preset].windows, 3, 10);
    assert.deepEqual([w.long.unit, w.long.size, w.short.size], ["tokens", MODEL_PRESETS[preset].windows.long, MODEL_PRESETS[preset].windows.short]);
    assert.equal(MODEL_PRESETS[preset].windows.schedule, undefined, "tiny/smoke configs (and so their run identities) are unchanged");
  }
  assert.throws(() => validateConfig({ ...MODEL_PRESETS.smoke, windows: { ...MODEL_PRESETS.smoke.windows, schedule: { blockSize: 128, finalLong: 100 } } }),
    /windows.schedule.finalLong must be a positive multiple of blockSize 128/);
});

test("one-gpu: medium's 16 blocks, skips, layout and growing block windows at half the width and 8K tokens", () => {
  const g = MODEL_PRESETS["one-gpu"], m = MODEL_PRESETS.medium;
  for (const k of ["nLayer", "noAttention", "skips", "layout", "vocabSize", "eotToken", "headDim", "softcap", "attnScale"] as const) assert.deepEqual(g[k], m[k], k);
  assert.deepEqual([g.dim, g.nHead, g.seqLen], [512, 4, 8192]);
  assert.deepEqual(g.windows.longBlocks, m.windows.longBlocks);
  assert.equal(windowsAt(g.windows).long.size, 14, "1792 tokens = 14 blocks at the end");
});
