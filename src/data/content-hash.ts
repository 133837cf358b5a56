// Content hashes of data files, so a run's identity comes from the bytes it trains on. Hashing a
// FineWeb shard takes a while, so each folder caches its hashes by file size and mtime in a
// `.valemb-hashes.json`; a file whose size or mtime changed is hashed again.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "./files";

export const HASH_CACHE_FILE = ".valemb-hashes.json";

interface CacheEntry { size: number; mtimeMs: number; sha256: string }

function readCache(dir: string): Record<string, CacheEntry> {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, HASH_CACHE_FILE), "utf8"));
    return c && typeof c === "object" ? c : {};
  } catch {
    return {};
  }
}

function hashFile(file: string): string {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 22);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** sha256 of a file's bytes, from the folder's cache when its size and mtime are unchanged. */
export function contentHash(file: string): string {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const st = fs.statSync(file);
  const cache = readCache(dir);
  const hit = cache[name];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && typeof hit.sha256 === "string") return hit.sha256;
  const sha256 = hashFile(file);
  cache[name] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  try {
    writeFileAtomic(path.join(dir, HASH_CACHE_FILE), JSON.stringify(cache, null, 1) + "\n");
  } catch { /* a read-only data folder: hash again next time */ }
  return sha256;
}
