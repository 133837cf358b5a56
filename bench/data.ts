// Token batches both sides of a benchmark train on: a fixed linear-congruential stream with an EOT
// every ~100 tokens on average (document masking stays exercised), as [B, T] inputs and targets.
export interface TokenBatch {
  inputs: Int32Array;
  targets: Int32Array;
}

export function syntheticBatches(vocabSize: number, eotToken: number | null, B: number, T: number, count: number, seed = 1): TokenBatch[] {
  let state = seed >>> 0;
  const next = () => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state; };
  const out: TokenBatch[] = [];
  for (let n = 0; n < count; n++) {
    const seq = new Int32Array(B * (T + 1));
    for (let i = 0; i < seq.length; i++) {
      const r = next();
      seq[i] = eotToken !== null && r % 100 === 0 ? eotToken : (r >>> 8) % vocabSize;
    }
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      inputs.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      targets.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
    }
    out.push({ inputs, targets });
  }
  return out;
}
