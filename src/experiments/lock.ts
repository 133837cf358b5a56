// One sweep per section folder at a time: a lock file created with O_EXCL, naming its owner.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface LockOwner { pid: number; host: string; started: string; command: string }

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

/**
 * Take the lock at `file` or throw a clear error naming who holds it. A lock left by a dead process
 * on this host is taken over (a crashed sweep must not block the next one forever).
 */
export function acquireLock(file: string, command: string): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, JSON.stringify(me) + "\n");
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          const owner = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
          if (owner.pid === me.pid && owner.host === me.host) fs.unlinkSync(file);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner: LockOwner | null = null;
      try { owner = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner; } catch { /* unreadable: treat as stale */ }
      const stale = !owner || (owner.host === os.hostname() && !alive(owner.pid));
      if (!stale) {
        throw new Error(
          `another sweep is running on ${path.dirname(file)} (pid ${owner!.pid} on ${owner!.host}, since ${owner!.started}: ${owner!.command}); ` +
          `wait for it to finish, or remove ${file} if that process is gone`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
