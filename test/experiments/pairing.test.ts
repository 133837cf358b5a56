// Paired comparisons rest on this: within a seed, every variant starts from the same values for every
// parameter it shares with the baseline and reads the same batches in the same order.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { SECTIONS } from "../../src/experiments";
import { GPT, modelConfig } from "../../src/model";
import { TokenLoader } from "../../src/data";
import { train } from "../../src/train";

const layouts = [...new Set(Object.values(SECTIONS).flatMap((s) => s.variants.map((v) => v.layout)))];
const baselineLayout = SECTIONS.adding.variants.find((v) => v.name === "baseline")!.layout;

test("a seed fixes the initial value of every parameter two variants share", async () => {
  await tf.setBackend("cpu");
  const weightsOf = (layout: string, seed: number) => {
    const m = new GPT(modelConfig("smoke", { layout }), seed);
    const w = m.getWeights();
    m.dispose();
    return w;
  };
  const base = weightsOf(baselineLayout, 3), otherSeed = weightsOf(baselineLayout, 4);
  for (const layout of layouts) {
    const w = weightsOf(layout, 3);
    const shared = Object.keys(w).filter((name) => name in base);
    assert.ok(shared.includes("embed") && shared.includes("scalars") && shared.includes("blocks.15.mlp.fc_w"), layout);
    for (const name of shared) assert.deepEqual(w[name].data, base[name].data, `${layout}: ${name} differs from the baseline's at the same seed`);
  }
  // and the seed matters: randomly initialised parameters change with it
  for (const name of ["embed", "value_embeds.0", "blocks.0.attn.qkv_w", "blocks.15.mlp.fc_w"]) assert.notDeepEqual(otherSeed[name].data, base[name].data, name);
});

test("every variant and seed reads the same batches in the same order", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-pairing-"));
  const next = TokenLoader.prototype.next;
  let seen: string[] = [];
  // record what the trainer's loader hands out (a hash-free fingerprint: first and last tokens of each batch)
  TokenLoader.prototype.next = function (this: TokenLoader) {
    const b = next.call(this);
    seen.push(`${b.inputs.slice(0, 8).join(",")}|${b.inputs.slice(-8).join(",")}`);
    return b;
  };
  try {
    const batchesOf = async (layout: string, seed: number) => {
      seen = [];
      await train({ preset: "smoke", layout, seed, steps: 3, evalEvery: 3, out: path.join(tmp, `${layout.replace(/\./g, "_")}-${seed}`) });
      return seen;
    };
    const ref = await batchesOf(baselineLayout, 0);
    assert.equal(ref.length, 3);
    assert.equal(new Set(ref).size, 3, "three different batches");
    for (const [layout, seed] of [["01234......01234", 0], [baselineLayout, 5]] as const) {
      assert.deepEqual(await batchesOf(layout, seed), ref, `${layout} seed ${seed}`);
    }
  } finally {
    TokenLoader.prototype.next = next;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
