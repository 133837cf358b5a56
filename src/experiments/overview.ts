// What the overview notebook shows, as tested functions: layouts drawn as a 16-layer diagram, the
// presets with their parameter counts, the terminal twin of a notebook's run cell, and whether a
// section has results to show yet.
import * as fs from "node:fs";
import * as path from "node:path";
import { MODEL_PRESETS, paddedVocab, parseLayout, tableIds, type GPTConfig } from "../model";
import { TRAIN_PRESETS } from "../train";
import { PALETTE, type Figure } from "../viz";
import { defaultRoot, readRunMeta } from "./runner";
import { getSection } from "./sections";
import type { RunSectionOptions } from "./section";

const TABLE_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * Layouts as a grid: one row per layout, one column per layer, a cell colored by the table it uses
 * (same color = shared table), empty where the layer has none.
 */
export function layoutFigure(
  rows: { name: string; label?: string; layout: string }[],
  opts: { name?: string; title?: string; noAttention?: number[] } = {},
): Figure {
  if (rows.length === 0) throw new Error("layoutFigure: no layouts to draw");
  const layers = rows.map((r) => parseLayout(r.layout).layers);
  const nLayer = Math.max(...layers.map((l) => l.length));
  const nIds = Math.max(1, ...layers.flatMap((l) => l.map((id) => (id ?? -1) + 1)));
  // One flat color band per table id: z = id, bands centred on the integers.
  const colorscale: [number, string][] = [];
  for (let k = 0; k < nIds; k++) {
    const c = PALETTE[k % PALETTE.length];
    colorscale.push([k / nIds, c], [(k + 1) / nIds, c]);
  }
  const noAttn = new Set(opts.noAttention ?? MODEL_PRESETS.medium.noAttention);
  const x = Array.from({ length: nLayer }, (_, i) => i);
  const y = rows.map((r) => r.label ? `${r.label}` : r.name);
  return {
    name: opts.name ?? "layouts",
    data: [{
      type: "heatmap", x, y,
      z: layers.map((l) => x.map((i) => l[i] ?? null)),
      text: layers.map((l) => x.map((i) => (l[i] === null || l[i] === undefined ? "" : TABLE_CHARS[l[i] as number]))),
      texttemplate: "%{text}", textfont: { color: "white", size: 13 },
      hovertemplate: "layer %{x}: table %{text}<br>%{y}<extra></extra>",
      colorscale, zmin: -0.5, zmax: nIds - 0.5, showscale: false, xgap: 2, ygap: 2,
    }],
    layout: {
      title: opts.title ? { text: opts.title, x: 0.02, xanchor: "left" } : undefined,
      width: 900, height: 90 + 30 * rows.length,
      font: { family: "Helvetica, Arial, sans-serif", size: 13, color: "#222" },
      margin: { l: 300, r: 20, t: opts.title ? 50 : 20, b: 50 },
      paper_bgcolor: "white", plot_bgcolor: "#f4f4f4",
      xaxis: {
        title: { text: "layer" }, tickmode: "array", tickvals: x,
        ticktext: x.map((i) => (noAttn.has(i) ? `${i}*` : String(i))), side: "bottom", zeroline: false, showgrid: false,
      },
      yaxis: { autorange: "reversed", automargin: true, zeroline: false, showgrid: false },
    },
  };
}

/** The section's variants as a layout diagram (the post's order, baseline first). */
export function sectionLayoutFigure(section: string): Figure {
  const spec = getSection(section);
  return layoutFigure(spec.variants.map((v) => ({ name: v.name, label: `${v.label} (run ${v.postRun})`, layout: v.layout })),
    { name: `${spec.name}-layouts`, title: `${spec.title}: value-embedding layouts (* = block without attention)` });
}

/** Trainable values of a config, counted from its shapes (what GPT.numParams() reports, without building it). */
export function parameterCount(cfg: GPTConfig): { total: number; valueEmbeddings: number } {
  const D = cfg.dim, hdim = cfg.nHead * cfg.headDim, mlp = cfg.mlpRatio * D;
  const tables = tableIds(parseLayout(cfg.layout, { nLayer: cfg.nLayer })).length;
  const valueEmbeddings = tables * cfg.vocabSize * D;
  let blocks = 0;
  for (let i = 0; i < cfg.nLayer; i++) {
    if (!cfg.noAttention.includes(i)) blocks += 3 * hdim * D + D * hdim; // qkv + output projection
    blocks += 2 * mlp * D;
  }
  const total = cfg.vocabSize * D + valueEmbeddings + blocks + paddedVocab(cfg) * D + 5 * cfg.nLayer;
  return { total, valueEmbeddings };
}

/** One row per preset: the model's shape and size (baseline layout) and how it trains. */
export function presetRows(): Record<string, string | number>[] {
  return (Object.keys(MODEL_PRESETS) as (keyof typeof MODEL_PRESETS)[]).map((name) => {
    const m = MODEL_PRESETS[name], t = TRAIN_PRESETS[name];
    const p = parameterCount(m);
    return {
      preset: name, layers: m.nLayer, dim: m.dim, heads: `${m.nHead} × ${m.headDim}`, vocab: m.vocabSize, seqLen: m.seqLen,
      params: p.total, "params (M)": +(p.total / 1e6).toFixed(2),
      "value-emb share": `${((100 * p.valueEmbeddings) / p.total).toFixed(1)}%`,
      "+1 table": `+${((100 * m.vocabSize * m.dim) / p.total).toFixed(1)}%`,
      batch: t.batchSize, "tokens/step": t.batchSize * m.seqLen, steps: t.steps, evalEvery: t.evalEvery, valTokens: t.valTokens, lrMult: t.lrMult,
    };
  });
}

/**
 * The presets side by side for a notebook: one row per property, one column per preset (three narrow
 * columns instead of sixteen wide ones); large counts with thousands separators.
 */
export function presetTable(): Record<string, string | number>[] {
  const presets = presetRows();
  const props = Object.keys(presets[0]).filter((k) => k !== "preset");
  const show = (v: string | number) => (typeof v === "number" && Number.isInteger(v) && Math.abs(v) >= 10_000 ? v.toLocaleString("en-US") : v);
  return props.map((p) => ({ preset: p, ...Object.fromEntries(presets.map((r) => [String(r.preset), show(r[p])])) }));
}

const sh = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The `valemb run` command that does what `runSection(section, opts)` does. */
export function runCommand(section: string, opts: RunSectionOptions = {}): string {
  getSection(section);
  const args = ["npx", "valemb", "run", section];
  const flag = (name: string, v: string | number | undefined) => { if (v !== undefined) args.push(`--${name}`, sh(String(v))); };
  flag("preset", opts.preset);
  flag("seeds", opts.seeds);
  flag("variants", opts.variants);
  flag("steps", opts.steps);
  flag("jobs", opts.jobs);
  flag("threads", opts.threads);
  flag("backend", opts.backend);
  flag("root", opts.root);
  flag("target", opts.target);
  if (opts.replaceStale) args.push("--replace-stale");
  if (opts.train === false) args.push("--no-train");
  return args.join(" ");
}

export interface SectionStatus {
  root: string;
  /** Finished runs per variant folder. */
  finished: Record<string, number>;
  /** Null when the section's tables can be made (its baseline has a finished run); else what to do. */
  message: string | null;
}

/** What is finished of a section under `root` (default: the preset's results folder), read from meta.json. */
export function sectionStatus(section: string, opts: { root?: string; preset?: string } = {}): SectionStatus {
  const spec = getSection(section);
  const root = opts.root ?? defaultRoot(opts.preset ?? spec.defaults.preset);
  const finished: Record<string, number> = {};
  for (const v of spec.variants) {
    const dir = path.join(root, spec.name, v.name);
    const seeds = fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => /^seed-\d+$/.test(d)) : [];
    const n = seeds.filter((s) => !!readRunMeta(path.join(dir, s))?.finished).length;
    if (n) finished[v.name] = n;
  }
  const where = path.join(root, spec.name);
  const message = finished[spec.baseline]
    ? null
    : `No finished ${spec.baseline} run of '${spec.name}' under ${where} yet, so there is nothing to measure against` +
      `${Object.keys(finished).length ? ` (finished so far: ${Object.entries(finished).map(([k, n]) => `${k} ×${n}`).join(", ")})` : ""}.\n` +
      `Train the section in a terminal:   ${runCommand(spec.name, opts.preset ? { preset: opts.preset } : {})}\n` +
      `or set train: true in this cell (training runs in child processes; progress shows below the cell).`;
  return { root, finished, message };
}
