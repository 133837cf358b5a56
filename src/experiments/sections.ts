// The post's four sections as data: each is a list of variants (a layout each) plus the charts and
// tables it produces. Nothing here knows how to train; the runner and the notebooks read these specs.

/** One configuration of the model, as the post names it. */
export interface Variant {
  /** Folder name under the section: stable, filesystem-safe. */
  name: string;
  /** Compact layout, layers 0 … 15 (`.` = no value embedding, digit = table). */
  layout: string;
  /** The label the post gives this run. */
  label: string;
  /** The author's run id in the post and its logs (value-embeddings-results.md). */
  postRun: string;
}

/** A chart of the post: which variants, which axis, which part of training. */
export interface ChartSpec {
  name: string;
  title: string;
  variants: string[];
  axis: "time" | "step";
  /** Part of training shown, as fractions of the baseline's final time/step (the post cuts to the late part). */
  window: { fromFrac: number; toFrac: number };
  /** The post's own figure this redoes (file in ../shared/seed/images). */
  postFigure?: string;
}

export interface SectionSpec {
  name: "adding" | "removing" | "shifting" | "sharing";
  title: string;
  /** What the post asks in this section, one line. */
  question: string;
  baseline: string;
  variants: Variant[];
  charts: ChartSpec[];
  /** "Order before the crossing": the window over which runs are ranked, as fractions of the run length. */
  rankWindow: { axis: "time" | "step"; fromFrac: number; toFrac: number };
  defaults: { preset: string; seeds: number };
  /** The variants behind the post's headline claims of this section, trained longer (`tiny-long`, `--variants headline`). */
  headline: string[];
}

const baseline: Variant = { name: "baseline", layout: "012..........012", label: "baseline: 0&13, 1&14, 2&15", postRun: "13" };

const added = (n: number, postRun: string, layout: string): Variant => ({
  name: `add-${n}`, layout, label: `${n} additional (${3 + n} tables)`, postRun,
});

const removed = (name: string, layout: string, label: string, postRun: string): Variant => ({ name, layout, label, postRun });

const late = { fromFrac: 0.75, toFrac: 1 } as const;
const defaults = { preset: "tiny", seeds: 3 } as const;
// Ranked on steps, not time: on a shared CPU the training clock measures the machine's load more than a layout's cost.
const beforeCrossing = { axis: "step", fromFrac: 0.5, toFrac: 0.9 } as const;

const removeTable0 = removed("remove-table-0-13", ".12...........12", "remove table 0&13", "8");
const add2 = added(2, "16", "01234......01234");

export const SECTIONS: Record<SectionSpec["name"], SectionSpec> = {
  adding: {
    name: "adding",
    title: "Adding value embeddings",
    question: "Does sharing n > 3 tables between the first n and the last n layers beat the baseline?",
    baseline: "baseline",
    variants: [
      baseline,
      added(1, "15", "0123........0123"),
      add2,
      added(3, "17", "012345....012345"),
      added(4, "18", "0123456..0123456"),
      added(5, "19", "0123456701234567"),
    ],
    charts: [
      { name: "adding-1-time", title: "One additional table vs baseline", variants: ["baseline", "add-1"], axis: "time", window: late, postFigure: "13-15-time-1100-1500.png" },
      { name: "adding-time", title: "Adding value embeddings (time)", variants: ["baseline", "add-1", "add-2", "add-3", "add-4", "add-5"], axis: "time", window: late, postFigure: "13-15-16-17-18-19-time-1200-1500.png" },
      { name: "adding-step", title: "Adding value embeddings (step)", variants: ["baseline", "add-1", "add-2", "add-3", "add-4", "add-5"], axis: "step", window: { fromFrac: 0.83, toFrac: 1 }, postFigure: "13-15-16-17-18-19-step-5000-6000.png" },
    ],
    rankWindow: beforeCrossing,
    defaults,
    headline: ["baseline", "add-1", "add-2", "add-3"],
  },
  removing: {
    name: "removing",
    title: "Removing value embeddings",
    question: "Which layers' value embeddings can go, and what does dropping a whole table cost?",
    baseline: "baseline",
    variants: [
      baseline,
      removed("remove-0", ".12..........012", "remove layer 0", "0"),
      removed("remove-1", "0.2..........012", "remove layer 1", "1"),
      removed("remove-2", "01...........012", "remove layer 2", "2"),
      removed("remove-13", "012...........12", "remove layer 13", "3"),
      removed("remove-14", "012..........0.2", "remove layer 14", "4"),
      removed("remove-15", "012..........01.", "remove layer 15", "5"),
      removed("remove-0-1", "..2..........012", "remove layers 0, 1", "6"),
      removed("remove-0-1-2", ".............012", "remove layers 0, 1, 2", "7"),
      removeTable0,
      removed("remove-table-1-14", "0.2..........0.2", "remove table 1&14", "9"),
      removed("remove-table-2-15", "01...........01.", "remove table 2&15", "10"),
    ],
    charts: [
      { name: "removing-single-time", title: "Removing one layer's value embedding", variants: ["baseline", "remove-0", "remove-1", "remove-2", "remove-13", "remove-14", "remove-15"], axis: "time", window: late, postFigure: "0-1-2-3-4-5-13-time-1250-1500.png" },
      { name: "removing-early-time", title: "Removing early layers", variants: ["baseline", "remove-1", "remove-0-1", "remove-0-1-2"], axis: "time", window: late, postFigure: "1-6-7-13-time-1200-1500.png" },
      { name: "removing-tables-time", title: "Removing whole tables", variants: ["baseline", "remove-0-1", "remove-table-0-13", "remove-table-1-14", "remove-table-2-15"], axis: "time", window: late, postFigure: "6-8-9-10-13-time-1200-1500.png" },
    ],
    rankWindow: beforeCrossing,
    defaults,
    headline: ["baseline", "remove-table-0-13", "remove-table-1-14", "remove-table-2-15"],
  },
  shifting: {
    name: "shifting",
    title: "Shifting the value embeddings",
    question: "Do the early tables work better one or two layers later?",
    baseline: "baseline",
    variants: [
      baseline,
      { name: "shift-1-2-3", layout: ".012.........012", label: "early tables on layers 1, 2, 3", postRun: "20" },
      { name: "shift-2-3-4", layout: "..012........012", label: "early tables on layers 2, 3, 4", postRun: "21" },
    ],
    charts: [
      { name: "shifting-step", title: "Shifting the early value embeddings", variants: ["baseline", "shift-1-2-3", "shift-2-3-4"], axis: "step", window: { fromFrac: 0.83, toFrac: 1 }, postFigure: "13-20-21-step-5000-6000.png" },
      { name: "shifting-time", title: "Shifting the early value embeddings (time)", variants: ["baseline", "shift-1-2-3", "shift-2-3-4"], axis: "time", window: late },
    ],
    rankWindow: { axis: "step", fromFrac: 0.5, toFrac: 0.9 },
    defaults,
    headline: [],
  },
  sharing: {
    name: "sharing",
    title: "Sharing value embeddings differently",
    question: "With two tables, is sharing early-with-late better than sharing neighbours? Does the order of sharing matter?",
    baseline: "baseline",
    variants: [
      baseline,
      removeTable0,
      { name: "share-0-2-13-15", layout: "000..........111", label: "layers 0-2 share one table, 13-15 another", postRun: "11" },
      { name: "share-01-1415", layout: "00............11", label: "layers 0&1 share one table, 14&15 another", postRun: "12" },
      { name: "mirrored-3", layout: "012..........210", label: "mirrored: 0&15, 1&14, 2&13", postRun: "27" },
      add2,
      { name: "mirrored-5", layout: "01234......43210", label: "mirrored, 5 tables: 0&15 … 4&11", postRun: "28" },
    ],
    charts: [
      { name: "sharing-two-tables-time", title: "Two tables, shared differently", variants: ["baseline", "remove-table-0-13", "share-0-2-13-15", "share-01-1415"], axis: "time", window: late, postFigure: "8-11-12-13-time-1200-1500.png" },
      { name: "sharing-mirrored-time", title: "Mirrored sharing order", variants: ["baseline", "mirrored-3", "add-2", "mirrored-5"], axis: "time", window: late },
    ],
    rankWindow: beforeCrossing,
    defaults,
    headline: ["baseline", "remove-table-0-13", "share-0-2-13-15", "share-01-1415"],
  },
};

export const SECTION_NAMES = Object.keys(SECTIONS) as SectionSpec["name"][];

/** The section spec by name, or a clear error listing the valid names. */
export function getSection(name: string): SectionSpec {
  const spec = (SECTIONS as Record<string, SectionSpec>)[name];
  if (!spec) throw new Error(`unknown section '${name}' (valid: ${SECTION_NAMES.join(", ")})`);
  return spec;
}

/** The word `--variants` takes for a section's headline variants. */
export const HEADLINE = "headline";

/** Variants of a section, optionally narrowed to a comma-separated list of names (or `headline`). */
export function selectVariants(spec: SectionSpec, names?: string): Variant[] {
  if (!names) return spec.variants;
  if (names.trim() === HEADLINE) {
    if (spec.headline.length === 0) throw new Error(`section '${spec.name}' has no headline variants (sections with some: ${SECTION_NAMES.filter((n) => SECTIONS[n].headline.length).join(", ")})`);
    return spec.variants.filter((v) => spec.headline.includes(v.name));
  }
  const wanted = names.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((n) => !spec.variants.some((v) => v.name === n));
  if (unknown.length) {
    throw new Error(`section '${spec.name}' has no variant ${unknown.map((u) => `'${u}'`).join(", ")} (valid: ${spec.variants.map((v) => v.name).join(", ")})`);
  }
  return spec.variants.filter((v) => wanted.includes(v.name));
}
