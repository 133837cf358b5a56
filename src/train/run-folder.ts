// A run folder (log.txt, evals.jsonl, meta.json, checkpoint.ckpt): its files, its meta.json, and the
// check that it holds this run or none before training touches it.
import * as fs from "node:fs";
import * as path from "node:path";
import type { GPTConfig } from "../model";
import { CHECKPOINT_FILE } from "./checkpoint";
import { acquireLock, probeLock } from "../data";
import type { HeldLock, LockHolder } from "../data";
import type { EvalRecord } from "./log";

/** The lock file that makes one trainer at a time the owner of a run folder. */
export const RUN_LOCK_FILE = ".lock";

/** Own the run folder (creating it) or throw LockHeldError naming the trainer that does. */
export function lockRunFolder(out: string, command: string): HeldLock {
  return acquireLock(path.join(out, RUN_LOCK_FILE), command, `${out} is being trained by another process`);
}

/** The live trainer owning a run folder (holder null while unnamed), or null when none does. */
export function runFolderOwner(out: string): { holder: LockHolder | null } | null {
  return probeLock(path.join(out, RUN_LOCK_FILE));
}

/** Temp files of atomic writes (`<file>.tmp-<pid>`) that a killed writer left behind. */
export const TEMP_FILE_RE = /\.tmp-\d+$/;

/** Remove leftovers of killed writers from a run folder; call only while owning it. */
export function removeLeftovers(out: string): string[] {
  if (!fs.existsSync(out)) return [];
  const gone = fs.readdirSync(out).filter((n) => TEMP_FILE_RE.test(n));
  for (const n of gone) fs.rmSync(path.join(out, n), { force: true });
  return gone;
}

/** meta.json of a run folder: what was trained, on what, and how it ended. */
export interface RunMeta {
  run: string;
  preset: string;
  layout: string;
  seed: number;
  steps: number;
  config: GPTConfig;
  train: Record<string, unknown>;
  data: Record<string, unknown>;
  backend: string;
  threads: number | null;
  engine: Record<string, unknown>;
  versions: Record<string, string>;
  git: { rev: string | null; dirty: boolean | null };
  identity: string;
  started: string;
  finished: string | null;
  resumes: { at: string; fromStep: number }[];
  result?: { finalValLoss: number; trainTimeMs: number; stepAvgMs: number; tokensPerS: number };
  failure?: { step: number; value: number; checkpointStep: number | null; at: string };
}

/** Files a run writes (--force removes them). */
export const RUN_FILES = ["log.txt", "evals.jsonl", "meta.json", CHECKPOINT_FILE];

/** A run's meta.json, or a clear error when it cannot be read. */
export function readMeta(file: string): RunMeta {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: unreadable run metadata (${(err as Error).message}); use --force to start over`);
  }
}

/** evals.jsonl as records (none when the file is missing). */
export function readEvals(file: string): EvalRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** The run folder's files. */
export interface RunFiles { log: string; evals: string; meta: string; ckpt: string }

export function runFiles(out: string): RunFiles {
  return { log: path.join(out, "log.txt"), evals: path.join(out, "evals.jsonl"), meta: path.join(out, "meta.json"), ckpt: path.join(out, CHECKPOINT_FILE) };
}

/** What the run folder holds for this identity: nothing yet, or the run's meta (finished or not). */
export interface OpenedFolder { out: string; files: RunFiles; identity: string; existing: RunMeta | null }

/** Check that the folder holds this run or none (refuse anything else unless --force, which empties it). */
export function openRunFolder(out: string, identity: string, force = false): OpenedFolder {
  const files = runFiles(out);
  let existing: RunMeta | null = fs.existsSync(files.meta) ? readMeta(files.meta) : null;
  if (existing && existing.identity !== identity && !force) {
    throw new Error(
      `${out} already holds ${existing.finished ? "a finished" : "an unfinished"} run with another identity (${existing.identity}: preset ${existing.preset}, layout ${existing.layout}, seed ${existing.seed}, ${existing.steps} steps, backend ${existing.backend}); this run is ${identity}. Use a new --out, or --force to overwrite`,
    );
  }
  if (!existing && !force && fs.existsSync(files.log)) {
    throw new Error(`${out} has a log.txt but no meta.json: not a valemb run folder; use a new --out, or --force to overwrite`);
  }
  if (force) {
    for (const f of RUN_FILES) fs.rmSync(path.join(out, f), { force: true });
    existing = null;
  }
  return { out, files, identity, existing };
}

/** Where `valemb train` writes when no --out is given: runs/<preset>/<layout, or "baseline">/seed-<seed>. */
export function defaultRunFolder(preset: string, layout: string | undefined, seed: number): string {
  return path.join("runs", preset, layout ?? "baseline", `seed-${seed}`);
}
