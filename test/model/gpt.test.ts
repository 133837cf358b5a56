import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { GPT, attentionBias, modelConfig, paddedVocab } from "../../src/model";
import { backendUnderTest, useBackend } from "../engine/backends-here";

const allowed = (bias: tf.Tensor, b: number, q: number, k: number) => (bias.arraySync() as number[][][][])[b][0][q][k] === 0;

test("attention bias: causal, documents start at EOT, sliding window", async () => {
  await useBackend(backendUnderTest("cpu"));
  const EOT = 9, T = 8;
  const tokens = [1, 2, 3, EOT, 4, 5, 6, 7, /* row 1 */ 1, 2, 3, 4, 5, 6, 7, 8];
  const full = attentionBias(tokens, 2, T, T, EOT);
  assert.deepEqual(full.shape, [2, 1, T, T]);
  for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) {
    assert.equal(allowed(full, 1, q, k), k <= q, `row 1 causal ${q},${k}`);
    assert.equal(allowed(full, 0, q, k), k <= q && (k >= 3) === (q >= 3), `row 0 documents ${q},${k}`);
  }
  const win = attentionBias(tokens, 2, T, 3, EOT);
  for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) assert.equal(allowed(win, 1, q, k), k <= q && q - k < 3, `window ${q},${k}`);
  const noDocs = attentionBias(tokens, 2, T, T, null);
  assert.ok(allowed(noDocs, 0, 5, 1));
  tf.dispose([full, win, noDocs]);
});

test("parameters follow the config and the layout", async () => {
  await useBackend(backendUnderTest("cpu"));
  const cfg = modelConfig("smoke");
  const m = new GPT(cfg, 0);
  const shapes = Object.fromEntries(m.params.map((p) => [p.name, p.variable.shape]));
  const D = cfg.dim, hdim = cfg.nHead * cfg.headDim, Vp = paddedVocab(cfg);
  assert.deepEqual(shapes["embed"], [cfg.vocabSize, D]);
  assert.deepEqual(shapes["lm_head_w"], [Vp, D]);
  assert.deepEqual(shapes["blocks.0.attn.qkv_w"], [3, hdim, D]);
  assert.deepEqual(shapes["blocks.0.attn.o_w"], [D, hdim]);
  assert.deepEqual(shapes["blocks.0.mlp.fc_w"], [4 * D, D]);
  assert.equal(shapes["blocks.7.attn.qkv_w"], undefined, "no attention in block 7");
  assert.deepEqual(shapes["scalars"], [5 * 16]);
  assert.equal(m.params.filter((p) => p.name.startsWith("value_embeds")).length, 3);
  const groups = Object.fromEntries(m.params.map((p) => [p.name, `${p.group}${p.mlp ? "+mlp" : ""}`]));
  assert.equal(groups["embed"], "embed");
  assert.equal(groups["value_embeds.2"], "embed");
  assert.equal(groups["lm_head_w"], "head");
  assert.equal(groups["scalars"], "scalar");
  assert.equal(groups["blocks.3.attn.qkv_w"], "hidden");
  assert.equal(groups["blocks.3.mlp.proj_w"], "hidden+mlp");
  const perTable = cfg.vocabSize * D;
  const blocks = 15 * 4 * hdim * D + 16 * 2 * 4 * D * D;
  assert.equal(m.numParams(), perTable * 4 + Vp * D + blocks + 80);
  for (const [layout, tables] of [["01234......01234", 5], ["................", 0], [".12...........12", 2]] as const) {
    const g = new GPT(modelConfig("smoke", { layout }), 0);
    assert.equal(g.params.filter((p) => p.name.startsWith("value_embeds")).length, tables, layout);
    assert.equal(g.numParams(), m.numParams() + (tables - 3) * perTable);
    g.dispose();
  }
  m.dispose();
});

test("init: deterministic from the seed, speedrun values, loss = ln(padded vocab)", async () => {
  await useBackend(backendUnderTest("cpu"));
  const cfg = modelConfig("smoke");
  const a = new GPT(cfg, 7), b = new GPT(cfg, 7), c = new GPT(cfg, 8);
  const wa = a.getWeights(), wb = b.getWeights(), wc = c.getWeights();
  assert.deepEqual(wa["blocks.2.mlp.fc_w"].data, wb["blocks.2.mlp.fc_w"].data);
  assert.notDeepEqual(wa["blocks.2.mlp.fc_w"].data, wc["blocks.2.mlp.fc_w"].data);
  const bound = Math.sqrt(3) * 0.5 / Math.sqrt(cfg.dim);
  const fc = wa["blocks.2.mlp.fc_w"].data;
  assert.ok(fc.every((x) => Math.abs(x) <= bound) && Math.max(...fc) > 0.95 * bound, "uniform ±sqrt(3)·0.5·fan_in^-0.5");
  const emb = wa["embed"].data, mean = emb.reduce((s, x) => s + x, 0) / emb.length;
  const std = Math.sqrt(emb.reduce((s, x) => s + (x - mean) ** 2, 0) / emb.length);
  assert.ok(Math.abs(mean) < 0.02 && Math.abs(std - 1) < 0.02, `embeddings ~ N(0, 1): mean ${mean}, std ${std}`);
  for (const zero of ["lm_head_w", "blocks.0.attn.o_w", "blocks.0.mlp.proj_w"]) assert.ok(wa[zero].data.every((x) => x === 0), `${zero} is zero`);
  const s = wa["scalars"].data;
  assert.deepEqual([s[0], s[16], s[17], s[48], s[49]], [1, 1, 0, 0.5, 0.5]);
  // a layout with more tables keeps the shared parameters' init (one stream per parameter name)
  const d = new GPT(modelConfig("smoke", { layout: "01234......01234" }), 7);
  assert.deepEqual(d.getWeights()["value_embeds.1"].data, wa["value_embeds.1"].data);

  const x = tf.tensor2d(Array.from({ length: 2 * cfg.seqLen }, (_, i) => (i * 37) % cfg.vocabSize), [2, cfg.seqLen], "int32");
  const loss = a.loss(x, x);
  assert.ok(Math.abs(loss.dataSync()[0] - Math.log(paddedVocab(cfg))) < 1e-5, "zero head: uniform over the padded vocabulary");
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) a.loss(x, x).dispose();
  assert.equal(tf.memory().numTensors, before, "loss leaks no tensors");
  tf.dispose([loss, x]);
  for (const m of [a, b, c, d]) m.dispose();
});

test("logits respect causality and document boundaries", async () => {
  await useBackend(backendUnderTest("cpu"));
  const cfg = modelConfig("smoke");
  const m = new GPT(cfg, 1);
  // non-zero output projections so that every path carries signal
  const w = m.getWeights(), rand = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + k) * 0.2);
  m.setWeights(Object.fromEntries(Object.entries(w).filter(([n]) => /lm_head|o_w|proj_w/.test(n)).map(([n, t], k) => [n, { data: rand(t.data.length, k) }])), true);
  const T = cfg.seqLen, EOT = cfg.eotToken!;
  const base = Array.from({ length: T }, (_, i) => (i * 11 + 3) % 500);
  base[12] = EOT; // document 2 starts at position 12
  const logitsOf = (tokens: number[]) => tf.tidy(() => m.logits(tf.tensor2d(tokens, [1, T], "int32")).arraySync() as number[][]);
  const ref = logitsOf(base);
  const changed = (a: number[][], b: number[][], t: number) => a[t].some((x, j) => Math.abs(x - b[t][j]) > 1e-6);
  const early = [...base]; early[5] = 77; // in document 1
  const e = logitsOf(early);
  for (let t = 0; t < 5; t++) assert.ok(!changed(ref, e, t), `position ${t} cannot see the future`);
  assert.ok(changed(ref, e, 5) && changed(ref, e, 11), "document 1 sees the change");
  for (let t = 12; t < T; t++) assert.ok(!changed(ref, e, t), `position ${t} (document 2) cannot see document 1`);
  m.dispose();
});
