// The GPT with the engine's fused ops (wasm: JS softcap cross-entropy and rotary, custom gradients)
// against the same GPT on the cpu backend (reference composites): same loss, same gradients.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { backendUnderTest, useBackend } from "./backends-here";
import { GPT, MODEL_PRESETS } from "../../src/model";

const FAST = backendUnderTest("wasm");

before(async () => { await useBackend(FAST); });

function lossAndGrads(backend: string): { loss: number; grads: Record<string, Float32Array> } {
  tf.setBackend(backend);
  try {
    const cfg = MODEL_PRESETS.smoke, B = 2, T = cfg.seqLen;
    const model = new GPT(cfg, 3);
    // the zero-initialised head and projections would give zero gradients: make every weight non-zero
    tf.tidy(() => model.params.forEach((p, i) => p.variable.assign(tf.randomNormal(p.variable.shape, p.group === "scalar" ? 0.7 : 0, 0.4, "float32", 100 + i))));
    const tokens = Array.from({ length: B * (T + 1) }, (_, i) => (i * 37 + 11) % cfg.vocabSize);
    tokens[5] = tokens[40] = cfg.eotToken!;
    const take = (off: number) => tf.tensor2d(Array.from({ length: B * T }, (_, i) => tokens[Math.floor(i / T) * (T + 1) + (i % T) + off]), [B, T], "int32");
    const x = take(0), y = take(1);
    const { loss, grads } = model.lossAndGrads(x, y);
    const out = { loss: loss.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float32Array.from(g.dataSync())])) };
    tf.dispose([x, y, loss, ...Object.values(grads)]);
    model.dispose();
    return out;
  } finally {
    tf.setBackend(FAST);
  }
}

test(`smoke GPT: ${FAST} with fused ops equals cpu with reference composites (loss and every gradient)`, () => {
  const fast = lossAndGrads(FAST), ref = lossAndGrads("cpu");
  assert.ok(Math.abs(fast.loss - ref.loss) <= 1e-5 * ref.loss, `loss ${fast.loss} vs ${ref.loss}`);
  for (const [name, g] of Object.entries(ref.grads)) {
    let scale = 0, worst = 0;
    for (let i = 0; i < g.length; i++) { scale = Math.max(scale, Math.abs(g[i])); worst = Math.max(worst, Math.abs(fast.grads[name][i] - g[i])); }
    assert.ok(scale > 0, `${name}: zero gradient, the test would prove nothing`);
    assert.ok(worst <= 2e-5 * scale, `${name}: max |${FAST} − cpu| = ${worst} vs max |grad| ${scale}`);
  }
});
