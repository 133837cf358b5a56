import * as tf from "@tensorflow/tfjs";
import { initEngine } from "./src/engine";
import { GPT, modelConfig, paddedVocab } from "./src/model";
import { speedrunOptimizer } from "./src/train/optimizer";
(async () => {
  await initEngine({ backend: "wasm" });
  const cases: [any, number][] = [
    [{ seqLen: 32 }, 4], [{ seqLen: 32 }, 16], [{ seqLen: 32, dim: 64, headDim: 32 }, 8], [{ seqLen: 32, vocabSize: 2048, eotToken: 2047 }, 8],
    [{ seqLen: 128 }, 2], [{ seqLen: 256 }, 2], [{ seqLen: 1024 }, 1], [{ seqLen: 128, nHead: 4 }, 2],
  ];
  for (const [ov, B] of cases) {
    const cfg = modelConfig("smoke", ov);
    const m = new GPT(cfg, 0);
    const opt = speedrunOptimizer(m.params, { lrMult: 1, cooldownFrac: 0.7 });
    const T = cfg.seqLen;
    const x = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 7) % cfg.vocabSize), [B, T], "int32");
    const step = () => { const { loss, grads } = m.lossAndGrads(x, x); opt.step(grads, 0, 10); tf.dispose([loss, ...Object.values(grads)]); };
    step();
    const before = tf.memory().numBytes;
    const prof = await tf.profile(step);
    console.log(JSON.stringify({ N: B * T, B, T, D: cfg.dim, H: cfg.nHead, hd: cfg.headDim, Vp: paddedVocab(cfg), params: m.numParams(), resident: before, peak: prof.peakBytes }));
    opt.dispose(); m.dispose(); x.dispose();
  }
})();
