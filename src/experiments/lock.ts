// One sweep per section folder at a time: the process-bound lock (flock, src/data/lock.ts) on `.sweep.lock`.
import * as path from "node:path";
import { acquireLock as acquireFolderLock } from "../data";

export const SWEEP_LOCK_FILE = ".sweep.lock";

/** Take the sweep lock at `file` or throw a clear error naming the sweep that holds it; returns its release. */
export function acquireLock(file: string, command: string): () => void {
  return acquireFolderLock(file, command, `another sweep is running on ${path.dirname(file)}`).release;
}
