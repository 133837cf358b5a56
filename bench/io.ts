// Token batches on disk for the two sides of a benchmark: int32 little-endian, per batch B·T inputs then B·T targets.
import * as fs from "node:fs";
import type { TokenBatch } from "./data";

export function writeBatches(file: string, batches: TokenBatch[]): void {
  const parts = batches.flatMap((b) => [b.inputs, b.targets]);
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  fs.writeFileSync(file, new Uint8Array(out.buffer));
}

export function readBatches(file: string, B: number, T: number): TokenBatch[] {
  const buf = fs.readFileSync(file);
  const all = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const n = B * T, out: TokenBatch[] = [];
  for (let o = 0; o + 2 * n <= all.length; o += 2 * n) out.push({ inputs: all.slice(o, o + n), targets: all.slice(o + n, o + 2 * n) });
  return out;
}
