// Section results written as run folders (evals.jsonl + meta.json), without training anything.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Writes `<root>/<section>/<variant>/seed-<n>/` with a loss curve per seed: loss(step) = base + 1/(1+step) + offset. */
export function writeSection(section: string, variants: Record<string, number[]>, opts: { steps?: number; preset?: string } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-exp-"));
  const steps = opts.steps ?? 100;
  for (const [variant, offsets] of Object.entries(variants)) {
    offsets.forEach((off, seed) => {
      const dir = path.join(root, section, variant, `seed-${seed}`);
      fs.mkdirSync(dir, { recursive: true });
      const lines: string[] = [];
      for (let s = 0; s <= steps; s += 10) {
        const loss = 3 + 10 / (1 + s) + off;
        lines.push(JSON.stringify({ step: s, total_steps: steps, val_loss: +loss.toFixed(6), train_time_ms: s * 100, step_avg_ms: 100 }));
      }
      fs.writeFileSync(path.join(dir, "evals.jsonl"), lines.join("\n") + "\n");
      fs.writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ run: `${variant}/seed-${seed}`, preset: opts.preset ?? "tiny", seed, steps, finished: "2025-01-01T00:00:00Z" }));
    });
  }
  return root;
}
