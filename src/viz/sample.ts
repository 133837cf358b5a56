// A small deterministic set of runs shaped like the speedrun's curves, for the demo notebook and
// tests when no real logs are around. Made up here (a power law plus seeded noise), not real data.

import type { Run } from "./types";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

// variant → (loss offset reached by the end of training, seconds per step)
const VARIANTS: [string, number, number][] = [
  ["baseline", 0, 0.2415],
  ["+2 tables", -0.004, 0.2432],
  ["no value embeddings", 0.012, 0.2371],
];

/** 3 variants × `seeds` runs, 5960 steps, an eval every 125 steps; about 1440 s of training each. */
export function sampleRuns(seeds = 3): Run[] {
  const totalSteps = 5960;
  const runs: Run[] = [];
  VARIANTS.forEach(([variant, offset, secPerStep], v) => {
    for (let seed = 0; seed < seeds; seed++) {
      const rand = mulberry32(1000 * v + seed + 1);
      const runOffset = 0.0015 * gaussian(rand);
      const pace = secPerStep * (1 + 0.003 * gaussian(rand));
      const evals = [];
      for (let step = 0; step <= totalSteps; step = step === totalSteps ? step + 1 : Math.min(step + 125, totalSteps)) {
        const progress = step / totalSteps;
        const valLoss = 2.6 + 8.23 * (1 + step / 4) ** -0.45 + (offset + runOffset) * progress + 0.0004 * gaussian(rand);
        evals.push({ step, valLoss: Math.round(valLoss * 1e6) / 1e6, timeS: Math.round(step * pace * 1000) / 1000 });
      }
      runs.push({ name: `${variant}/seed-${seed}`, source: "sample", evals, totalSteps, meta: { variant, seed, sample: true } });
    }
  });
  return runs;
}
