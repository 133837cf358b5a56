// Ownership of a folder by one live process: flock(2) on a lock file, which the kernel releases when
// the holder dies (kill -9 included), so a lock can never be left stale; the file's JSON line only
// names the holder for messages and is never trusted to decide anything.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { flockSync } from "fs-ext";

export interface LockHolder { pid: number; host: string; started: string; command: string }

/** The lock at `file` is held by a live process (`holder` is null while it is still writing its name). */
export class LockHeldError extends Error {
  constructor(readonly file: string, readonly holder: LockHolder | null, what = `${path.dirname(file)} is in use`) {
    super(`${what} (${describeHolder(holder)}); wait for it to finish or stop that process`);
    this.name = "LockHeldError";
  }
}

export function describeHolder(h: LockHolder | null): string {
  return h ? `pid ${h.pid} on ${h.host}, since ${h.started}: ${h.command}` : "a process that is starting";
}

/** A held lock; `release` is idempotent and also runs if the process exits normally. */
export interface HeldLock { file: string; release(): void }

function isBusy(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "EAGAIN" || code === "EWOULDBLOCK";
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
    return typeof h.pid === "number" ? h : null;
  } catch {
    return null;
  }
}

/**
 * Take the lock at `file` (creating its folder) or throw LockHeldError naming the holder. Never blocks.
 * The file is removed on release; a lock taken on a file that was removed meanwhile is retried, so
 * two processes can never both hold one path.
 */
export function acquireLock(file: string, command: string, what?: string): HeldLock {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 20; attempt++) {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      flockSync(fd, "exnb");
    } catch (err) {
      fs.closeSync(fd);
      if (isBusy(err)) throw new LockHeldError(file, readHolder(file), what);
      throw err;
    }
    // The previous holder may have removed the file between our open and our flock: then start over.
    let current: fs.Stats | null = null;
    try { current = fs.statSync(file); } catch { /* removed */ }
    if (!current || current.ino !== fs.fstatSync(fd).ino) { fs.closeSync(fd); continue; }
    const me: LockHolder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, JSON.stringify(me) + "\n", 0);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener("exit", release);
      try { fs.unlinkSync(file); } catch { /* already gone */ }
      fs.closeSync(fd); // closing drops the flock
    };
    process.on("exit", release);
    return { file, release };
  }
  throw new Error(`${file}: could not take the lock (it kept being replaced)`);
}

/**
 * Whether the lock at `file` is held now: null when free, else its holder (null while unnamed). Creates
 * nothing; it takes the lock for an instant, so call it only where no other process is about to.
 */
export function probeLock(file: string): { holder: LockHolder | null } | null {
  let fd: number;
  try { fd = fs.openSync(file, fs.constants.O_RDWR); } catch { return null; }
  try {
    flockSync(fd, "exnb");
    return null;
  } catch (err) {
    if (!isBusy(err)) throw err;
    return { holder: readHolder(file) };
  } finally {
    fs.closeSync(fd); // also drops the probe's own flock
  }
}
