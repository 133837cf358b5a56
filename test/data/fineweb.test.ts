// `valemb data fineweb` against a local HTTP server on 127.0.0.1 that serves small shards written by
// the test (same file names as the Hugging Face dataset): a clean download, a dropped connection that
// resumes with a Range request, an interrupted .part, a corrupt file, a rerun that fetches nothing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { downloadFineweb, encodeShard, finewebFiles, openDataset } from "../../src/data";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-fineweb-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Small shards with the real names: val 0 and train 1..3, 3000..6000 tokens of GPT-2 ids. */
const shards = new Map(finewebFiles(3).map((name, i) => [name, encodeShard(Array.from({ length: 3000 + 1000 * i }, (_, j) => (j * 7 + i) % 50257))]));

interface Served {
  url: string;
  requests: { file: string; range: string | undefined }[];
  /** Per file: how to misbehave on its next request(s). */
  faults: Map<string, ("drop" | "corrupt")[]>;
  close(): Promise<void>;
}

async function serve(): Promise<Served> {
  const requests: Served["requests"] = [];
  const faults: Served["faults"] = new Map();
  const server = http.createServer((req, res) => {
    const file = decodeURIComponent((req.url ?? "").split("/").pop() ?? "");
    requests.push({ file, range: req.headers.range });
    const body = shards.get(file);
    if (!body) { res.writeHead(404).end(); return; }
    const fault = faults.get(file)?.shift();
    if (fault === "corrupt") {
      const bad = Buffer.from(body);
      bad.writeInt32LE(12345, 0); // wrong magic
      res.writeHead(200, { "content-length": bad.length }).end(bad);
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    const part = body.subarray(start);
    res.writeHead(range ? 206 : 200, { "content-length": part.length, ...(range ? { "content-range": `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (fault === "drop") {
      res.write(part.subarray(0, Math.floor(part.length / 2)), () => res.destroy()); // half the bytes, then the connection dies
      return;
    }
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/datasets/kjj0/fineweb10B-gpt2/resolve/main`, requests, faults, close: () => new Promise((r) => server.close(() => r())) };
}

test("downloads val + train shards with the dataset's names; checked files are not fetched again", async () => {
  const s = await serve();
  try {
    const out = path.join(tmp, "clean");
    const results = await downloadFineweb({ out, trainShards: 2, baseUrl: s.url, retryDelayMs: 1 });
    assert.deepEqual(results.map((r) => [path.basename(r.file), r.status]), [
      ["fineweb_val_000000.bin", "downloaded"], ["fineweb_train_000001.bin", "downloaded"], ["fineweb_train_000002.bin", "downloaded"],
    ]);
    for (const r of results) assert.deepEqual(fs.readFileSync(r.file), shards.get(path.basename(r.file)));
    assert.equal(results[1].tokens, 4000);
    const info = openDataset(out); // a folder the trainer takes as --data
    assert.deepEqual([info.tokenizer, info.trainFiles.length, info.valFiles.length, info.trainTokens], ["gpt2", 2, 1, 9000]);
    const before = s.requests.length;
    const again = await downloadFineweb({ out, trainShards: 3, baseUrl: s.url, retryDelayMs: 1 });
    assert.deepEqual(again.map((r) => r.status), ["present", "present", "present", "downloaded"]);
    assert.deepEqual(s.requests.slice(before).map((r) => r.file), ["fineweb_train_000003.bin"], "only the missing shard is requested");
  } finally {
    await s.close();
  }
});

test("a dropped connection resumes with a Range request; an interrupted .part resumes on the next run", async () => {
  const s = await serve();
  try {
    const out = path.join(tmp, "resume");
    s.faults.set("fineweb_train_000001.bin", ["drop", "drop"]);
    const events: string[] = [];
    const results = await downloadFineweb({ out, trainShards: 1, baseUrl: s.url, retryDelayMs: 1, onProgress: (p) => { if (p.event === "retry") events.push(p.file); } });
    assert.deepEqual(fs.readFileSync(results[1].file), shards.get("fineweb_train_000001.bin"));
    const ranges = s.requests.filter((r) => r.file === "fineweb_train_000001.bin").map((r) => r.range);
    assert.equal(ranges.length, 3);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1]!, /^bytes=\d+-$/, "the retry asks for the rest only");
    assert.deepEqual(events, ["fineweb_train_000001.bin", "fineweb_train_000001.bin"]);
    // a .part left by a killed run: the next run asks only for what is missing
    const name = "fineweb_train_000002.bin", body = shards.get(name)!;
    fs.writeFileSync(path.join(out, `${name}.part`), body.subarray(0, 2500));
    await downloadFineweb({ out, trainShards: 2, baseUrl: s.url, retryDelayMs: 1 });
    assert.deepEqual(s.requests.filter((r) => r.file === name).map((r) => r.range), ["bytes=2500-"]);
    assert.deepEqual(fs.readFileSync(path.join(out, name)), body);
    assert.equal(fs.existsSync(path.join(out, `${name}.part`)), false);
  } finally {
    await s.close();
  }
});

test("a corrupt file is fetched again; one that stays corrupt fails naming it, keeping the good shards", async () => {
  const s = await serve();
  try {
    const out = path.join(tmp, "corrupt");
    s.faults.set("fineweb_train_000001.bin", ["corrupt"]);
    const ok = await downloadFineweb({ out, trainShards: 1, baseUrl: s.url, retryDelayMs: 1 });
    assert.deepEqual(fs.readFileSync(ok[1].file), shards.get("fineweb_train_000001.bin"), "the second attempt's good copy");
    // a corrupt file already on disk (bad magic) is not trusted: it is downloaded again
    fs.writeFileSync(path.join(out, "fineweb_val_000000.bin"), Buffer.alloc(2048));
    const fixed = await downloadFineweb({ out, trainShards: 1, baseUrl: s.url, retryDelayMs: 1 });
    assert.equal(fixed[0].status, "downloaded");
    s.faults.set("fineweb_train_000002.bin", ["corrupt", "corrupt", "corrupt"]);
    await assert.rejects(downloadFineweb({ out, trainShards: 2, baseUrl: s.url, attempts: 3, retryDelayMs: 1 }),
      /fineweb_train_000002\.bin: failed after 3 attempts: .*fineweb_train_000002\.bin\.part: not a token shard: magic number 12345, expected 20240520/);
    assert.equal(fs.existsSync(path.join(out, "fineweb_train_000002.bin")), false, "no corrupt shard under its final name");
    assert.deepEqual(fs.readdirSync(out).sort(), ["fineweb_train_000001.bin", "fineweb_val_000000.bin"]);
    await assert.rejects(downloadFineweb({ out, trainShards: 4, baseUrl: s.url, retryDelayMs: 1 }), /fineweb_train_000004\.bin: HTTP 404/);
  } finally {
    await s.close();
  }
});

test("valemb data fineweb: the CLI downloads and reports; bad --train-shards is a usage error", async () => {
  const s = await serve();
  try {
    const out = path.join(tmp, "cli");
    const run = (...args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["bin/valemb.js", "data", "fineweb", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "", stderr = "";
      child.stdout.on("data", (d) => { stdout += d; });
      child.stderr.on("data", (d) => { stderr += d; });
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    const r = await run("--train-shards", "1", "--out", out, "--base-url", s.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 shards \(2 downloaded\), 7,000 tokens/);
    assert.match(r.stderr, /fineweb_train_000001\.bin: downloaded, 0\.0 MB, checked/);
    const bad = await run("--train-shards", "0", "--out", out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--train-shards: must be ≥ 1/);
  } finally {
    await s.close();
  }
});
