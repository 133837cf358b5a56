// Checkpoint file: "VALEMBCK", uint32 header length, JSON header, then float32 tensors back to back.
// Written atomically (temp + rename), so a kill mid-write leaves the previous checkpoint intact.
import * as fs from "node:fs";
import { writeFileAtomic } from "../data";
import type { LoaderState } from "../data";

export const CHECKPOINT_FILE = "checkpoint.ckpt";
const MAGIC = "VALEMBCK";

export interface TensorEntry {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointState {
  /** Identity of the run that wrote it: a checkpoint never resumes another run. */
  identity: string;
  /** Training steps done. */
  step: number;
  trainTimeMs: number;
  /** Whether the evaluation due at this step (if any) is already in the log. */
  evalDone: boolean;
  loader: LoaderState;
  /** Training has no randomness beyond the init seed; kept so a future sampler can resume too. */
  rng: { seed: number };
  /** Sizes of log.txt and evals.jsonl at this step: resuming truncates them back to these. */
  logBytes: number;
  evalsBytes: number;
  weights: Record<string, TensorEntry>;
  optimizer: Record<string, TensorEntry>;
}

interface Header {
  version: 1;
  state: Omit<CheckpointState, "weights" | "optimizer">;
  tensors: { group: "weights" | "optimizer"; name: string; shape: number[]; offset: number; length: number }[];
}

export function writeCheckpoint(file: string, state: CheckpointState): void {
  const { weights, optimizer, ...rest } = state;
  const tensors: Header["tensors"] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [group, map] of [["weights", weights], ["optimizer", optimizer]] as const) {
    for (const name of Object.keys(map).sort()) {
      const { shape, data } = map[name];
      tensors.push({ group, name, shape: [...shape], offset, length: data.length });
      chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      offset += data.byteLength;
    }
  }
  const header = Buffer.from(JSON.stringify({ version: 1, state: rest, tensors } satisfies Header), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(header.length, 8);
  const pad = Buffer.alloc((4 - ((12 + header.length) % 4)) % 4); // keep float data 4-byte aligned
  writeFileAtomic(file, Buffer.concat([prefix, header, pad, ...chunks]));
}

export function readCheckpoint(file: string): CheckpointState {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 12 || bytes.toString("latin1", 0, 8) !== MAGIC) throw new Error(`${file}: not a valemb checkpoint`);
  const headerLen = bytes.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(bytes.toString("utf8", 12, 12 + headerLen));
  } catch {
    throw new Error(`${file}: corrupt checkpoint header`);
  }
  if (header.version !== 1) throw new Error(`${file}: unsupported checkpoint version ${header.version}`);
  const base = 12 + headerLen + ((4 - ((12 + headerLen) % 4)) % 4);
  const state: CheckpointState = { ...header.state, weights: {}, optimizer: {} };
  for (const t of header.tensors) {
    const start = base + t.offset;
    if (start + 4 * t.length > bytes.length) throw new Error(`${file}: truncated checkpoint (tensor ${t.name})`);
    const data = new Float32Array(t.length);
    new Uint8Array(data.buffer).set(bytes.subarray(start, start + 4 * t.length));
    state[t.group][t.name] = { shape: t.shape, data };
  }
  return state;
}
