// One label and one color per variant, the same in every chart: section notebooks, the published
// runs, the t-test charts and `valemb export`. The baseline is always PALETTE[0] (blue, as in the post).
import { seedGroupName } from "../analysis";
import { ColorMap, PALETTE, PALETTE_EXTRA, variantOf, type Run } from "../viz";
import { SECTIONS, type SectionSpec, type Variant } from "./sections";

export const BASELINE_COLOR = PALETTE[0];

// Colors are handed out section by section; sections whose variants reappear elsewhere go first, so
// those shared variants (add-2, remove-table-0-13) get strong colors that stay free in each section.
const COLOR_ORDER: SectionSpec["name"][] = ["adding", "sharing", "shifting", "removing"];

let table: Map<string, string> | null = null;

/** variant name → color: distinct within every section, identical wherever a variant reappears. */
export function variantColorTable(): Map<string, string> {
  if (table) return table;
  const colors = new Map<string, string>();
  const candidates = [...PALETTE.slice(1), ...PALETTE_EXTRA];
  for (const name of COLOR_ORDER) {
    const spec = SECTIONS[name];
    const used = new Set(spec.variants.map((v) => colors.get(v.name)).filter(Boolean));
    for (const v of spec.variants) {
      if (colors.has(v.name)) continue;
      const c = v.name === spec.baseline ? BASELINE_COLOR : candidates.find((x) => !used.has(x));
      if (!c) throw new Error(`section ${name}: more variants than colors`);
      colors.set(v.name, c);
      used.add(c);
    }
  }
  return (table = colors);
}

/** Every variant of every section, once (first section it appears in). */
function allVariants(): Variant[] {
  const seen = new Map<string, Variant>();
  for (const spec of Object.values(SECTIONS)) for (const v of spec.variants) if (!seen.has(v.name)) seen.set(v.name, v);
  return [...seen.values()];
}

/** The post's run ids of the t-test file: 25 = the baseline's 28 seeds, 26 = two additional tables' 37. */
export const TTEST_RUN_VARIANTS: Record<string, string> = { "25": "baseline", "26": "add-2" };

/**
 * The variant a run is, if it is one of the post's: by its layout (meta.layout, our run folders), by
 * its folder name (`…/add-1/seed-0`), or by the post's run id (`13`, `25 7`).
 */
export function variantForRun(run: Run): { variant: Variant; postId?: string } | undefined {
  const variants = allVariants();
  const group = seedGroupName(run.name);
  const folder = group.split("/").pop() ?? group;
  const byName = variants.find((v) => v.name === variantOf(run) || v.name === folder);
  if (byName) return { variant: byName };
  const layout = run.meta?.layout;
  const byLayout = typeof layout === "string" ? variants.find((v) => v.layout === layout) : undefined;
  if (byLayout) return { variant: byLayout };
  const id = /^\d+$/.test(group) ? group : undefined;
  const byPost = id && (TTEST_RUN_VARIANTS[id] ? variants.find((v) => v.name === TTEST_RUN_VARIANTS[id]) : variants.find((v) => v.postRun === id));
  return byPost ? { variant: byPost, postId: id } : undefined;
}

/**
 * Legend labels and colors for these runs, for lossChart / crossingChart: the variant's label and
 * color for each group key (variantOf) and, per run, the label with its seed. Runs that are no
 * variant of the post keep their names and get colors the usual way.
 */
export function chartStyle(runs: Run[]): { labels: Record<string, string>; colors: ColorMap } {
  const fixed: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const colors = variantColorTable();
  for (const r of runs) {
    const found = variantForRun(r);
    if (!found) continue;
    const key = variantOf(r);
    const label = found.postId ? `${found.postId}: ${found.variant.label}` : found.variant.label;
    fixed[key] = colors.get(found.variant.name)!;
    labels[key] = label;
    const seed = typeof r.meta?.seed === "number" ? r.meta.seed : /(\d+)$/.exec(r.name.slice(seedGroupName(r.name).length))?.[1];
    if (r.name !== key) labels[r.name] = seed !== undefined && seed !== "" ? `${label}, seed ${seed}` : `${label} (${r.name})`;
  }
  return { labels, colors: new ColorMap(fixed) };
}

/** A ColorMap with every section variant's color under its name (for charts keyed by variant name). */
export function sectionColors(): ColorMap {
  return new ColorMap(Object.fromEntries(variantColorTable()));
}
