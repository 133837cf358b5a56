// npx tsx scripts/sweep-status.ts [root]   (default data/runs-tiny-long)
// What a sweep folder holds: per section and variant, the finished seeds (copies from another section
// marked), each run's wall time and ms/step from its meta.json, and the span from first start to last finish.
import * as fs from "node:fs";
import * as path from "node:path";

interface Meta { seed?: number; started?: string; finished?: string | null; copiedFrom?: string; backend?: string; threads?: number; framework?: string; result?: { stepAvgMs?: number } }

const root = path.resolve(process.argv[2] ?? "data/runs-tiny-long");
if (!fs.existsSync(root)) throw new Error(`${root}: no such folder`);
const dirs = (p: string) => fs.readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const minutes = (m: Meta) => (new Date(m.finished!).getTime() - new Date(m.started!).getTime()) / 60_000;
let first = Infinity, last = -Infinity;
const trained: number[] = [];
for (const section of dirs(root)) {
  for (const variant of dirs(path.join(root, section))) {
    const metas = dirs(path.join(root, section, variant)).filter((d) => /^seed-\d+$/.test(d)).map((d) => {
      const f = path.join(root, section, variant, d, "meta.json");
      return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as Meta) : null;
    }).filter((m): m is Meta => m !== null);
    const done = metas.filter((m) => m.finished);
    const own = done.filter((m) => !m.copiedFrom);
    for (const m of own) {
      first = Math.min(first, new Date(m.started!).getTime()); last = Math.max(last, new Date(m.finished!).getTime());
      trained.push(minutes(m));
    }
    const desc = own.map((m) => `seed-${m.seed} ${minutes(m).toFixed(1)} min, ${m.result?.stepAvgMs ?? "?"} ms/step`);
    const copied = done.filter((m) => m.copiedFrom).map((m) => `seed-${m.seed}`);
    console.log(`${section}/${variant}: ${done.length} finished${copied.length ? ` (${copied.join(", ")} copied from another section)` : ""}, ${metas.length - done.length} unfinished` +
      (desc.length ? `; ${desc.join("; ")}` : "") + (own[0] ? ` [${own[0].framework ?? own[0].backend}, ${own[0].threads} thread]` : ""));
  }
}
if (trained.length) {
  const s = [...trained].sort((a, b) => a - b);
  console.log(`${trained.length} runs trained here, ${new Date(first).toISOString()} → ${new Date(last).toISOString()} (${((last - first) / 60_000).toFixed(0)} min); ` +
    `per run ${s[0].toFixed(1)}–${s[s.length - 1].toFixed(1)} min, median ${s[Math.floor(s.length / 2)].toFixed(1)}`);
}
