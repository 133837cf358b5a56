// Value-embedding layouts: which table (if any) each layer adds to its attention values.
// Compact text form, one character per layer: `.` = none, `0`-`9`, then `a`-`z`, then `A`-`Z` = table id.
// The post writes `012..........012` (baseline) and keeps the baseline's ids when a table is removed
// (`.12...........12`), so ids are names: the model allocates one table per distinct id, in id order.

/** Per layer: the id of the value-embedding table it uses, or null. */
export interface ValueEmbeddingLayout {
  readonly layers: readonly (number | null)[];
}

const ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Most tables the compact form can name (62). */
export const MAX_TABLES = ID_CHARS.length;
const NONE = ".";

export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayoutError";
  }
}

export interface ParseLayoutOptions {
  /** Required number of layers (the model's nLayer); a different length is an error. */
  nLayer?: number;
  /** Require table ids to be exactly 0..k-1 (no gaps). Off by default: the post's `.12...........12` has a gap. */
  denseTables?: boolean;
}

/** The character that names table `id` in the compact form. */
export function tableChar(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id >= MAX_TABLES) throw new LayoutError(`table id ${id} is not an integer in 0..${MAX_TABLES - 1}`);
  return ID_CHARS[id];
}

/** Parse the compact form, e.g. `012..........012`. */
export function parseLayout(text: string, opts: ParseLayoutOptions = {}): ValueEmbeddingLayout {
  if (typeof text !== "string" || text.length === 0) throw new LayoutError(`layout must be a non-empty string like "012..........012", got ${JSON.stringify(text)}`);
  const layers: (number | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === NONE) { layers.push(null); continue; }
    const id = ID_CHARS.indexOf(ch);
    if (id < 0) {
      throw new LayoutError(`layout "${text}": unknown character ${JSON.stringify(ch)} at position ${i} (layer ${i}); use "." for no value embedding, 0-9 then a-z, A-Z for tables`);
    }
    layers.push(id);
  }
  const layout = { layers };
  validateLayout(layout, opts, `layout "${text}"`);
  return layout;
}

/** Check a layout (from any source); throws a LayoutError that says what is wrong. */
export function validateLayout(layout: ValueEmbeddingLayout, opts: ParseLayoutOptions = {}, what = "layout"): void {
  const { layers } = layout;
  if (!Array.isArray(layers) || layers.length === 0) throw new LayoutError(`${what}: needs at least one layer`);
  if (opts.nLayer !== undefined && layers.length !== opts.nLayer) {
    throw new LayoutError(`${what} has ${layers.length} layers, but the model has ${opts.nLayer} (one character per layer)`);
  }
  layers.forEach((id, i) => {
    if (id !== null && (!Number.isInteger(id) || id < 0 || id >= MAX_TABLES)) {
      throw new LayoutError(`${what}: layer ${i} names table ${id}, not an integer in 0..${MAX_TABLES - 1}`);
    }
  });
  if (opts.denseTables) {
    const ids = tableIds(layout);
    const missing = [];
    for (let t = 0; t < ids.length; t++) if (!ids.includes(t)) missing.push(t);
    if (missing.length > 0) {
      throw new LayoutError(`${what}: table ids must be 0..${ids.length - 1} without gaps, but ${missing.map(tableChar).join(", ")} ${missing.length > 1 ? "are" : "is"} missing (ids used: ${ids.map(tableChar).join(", ")})`);
    }
  }
}

/** The compact form: `012..........012`. */
export function formatLayout(layout: ValueEmbeddingLayout): string {
  return layout.layers.map((id) => (id === null ? NONE : tableChar(id))).join("");
}

/** Distinct table ids, ascending. The model's table slot k holds id tableIds()[k]. */
export function tableIds(layout: ValueEmbeddingLayout): number[] {
  return [...new Set(layout.layers.filter((id): id is number => id !== null))].sort((a, b) => a - b);
}

/** How many tables the layout needs (distinct ids). */
export function numTables(layout: ValueEmbeddingLayout): number {
  return tableIds(layout).length;
}

/** Per layer: the model's table slot (0..numTables-1, ids mapped in ascending order), or null. */
export function tableSlots(layout: ValueEmbeddingLayout): (number | null)[] {
  const ids = tableIds(layout);
  return layout.layers.map((id) => (id === null ? null : ids.indexOf(id)));
}

/** Readable label, tables in id order: `0&13, 1&14, 2&15`; `none` when no layer has a table. */
export function layoutLabel(layout: ValueEmbeddingLayout): string {
  const ids = tableIds(layout);
  if (ids.length === 0) return "none";
  return ids.map((id) => layout.layers.flatMap((t, i) => (t === id ? [i] : [])).join("&")).join(", ");
}

/** Same layout with ids renumbered 0..k-1 in ascending order (`.12...........12` → `.01...........01`). */
export function denseLayout(layout: ValueEmbeddingLayout): ValueEmbeddingLayout {
  return { layers: tableSlots(layout) };
}

// ---------------------------------------------------------------------------------------------
// Builders for the post's section variants.

function checkLayer(i: number, nLayer: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= nLayer) throw new LayoutError(`${what}: layer ${i} is not in 0..${nLayer - 1}`);
}

/** n tables shared between the first n and the last n layers, in order: addSharedTables(3, 16) = `012..........012`. */
export function addSharedTables(n: number, nLayer: number): ValueEmbeddingLayout {
  if (!Number.isInteger(n) || n < 0 || 2 * n > nLayer) throw new LayoutError(`addSharedTables: n = ${n} tables need 2n ≤ ${nLayer} layers`);
  if (n > MAX_TABLES) throw new LayoutError(`addSharedTables: at most ${MAX_TABLES} tables`);
  const layers: (number | null)[] = new Array(nLayer).fill(null);
  for (let t = 0; t < n; t++) { layers[t] = t; layers[nLayer - n + t] = t; }
  return { layers };
}

/** Like addSharedTables but the last n layers in reverse order: mirroredTables(3, 16) = `012..........210`. */
export function mirroredTables(n: number, nLayer: number): ValueEmbeddingLayout {
  const layers = [...addSharedTables(n, nLayer).layers];
  for (let t = 0; t < n; t++) layers[nLayer - 1 - t] = t;
  return { layers };
}

/** The same layout with the given layers set to none (ids kept): removeLayers(baseline, [0]) = `.12..........012`. */
export function removeLayers(layout: ValueEmbeddingLayout, remove: number[]): ValueEmbeddingLayout {
  const layers = [...layout.layers];
  for (const i of remove) {
    checkLayer(i, layers.length, "removeLayers");
    if (layers[i] === null) throw new LayoutError(`removeLayers: layer ${i} of "${formatLayout(layout)}" has no value embedding to remove`);
    layers[i] = null;
  }
  return { layers };
}

/** Remove a whole table (every layer that uses it; ids of the others kept): removeTable(baseline, 0) = `.12...........12`. */
export function removeTable(layout: ValueEmbeddingLayout, id: number): ValueEmbeddingLayout {
  if (!layout.layers.includes(id)) throw new LayoutError(`removeTable: "${formatLayout(layout)}" has no table ${id}`);
  return { layers: layout.layers.map((t) => (t === id ? null : t)) };
}

/**
 * Move the value embeddings of the early half (layers < nLayer/2) later by `by` layers:
 * shiftEarly(baseline, 1) = `.012.........012`. The shifted ones must stay in the early half.
 */
export function shiftEarly(layout: ValueEmbeddingLayout, by: number): ValueEmbeddingLayout {
  const n = layout.layers.length, half = Math.floor(n / 2);
  if (!Number.isInteger(by)) throw new LayoutError(`shiftEarly: shift ${by} is not an integer`);
  const layers = [...layout.layers];
  for (let i = 0; i < half; i++) layers[i] = null;
  for (let i = 0; i < half; i++) {
    const id = layout.layers[i];
    if (id === null) continue;
    const j = i + by;
    if (j < 0 || j >= half) throw new LayoutError(`shiftEarly: layer ${i} shifted by ${by} leaves the early half 0..${half - 1}`);
    layers[j] = id;
  }
  return { layers };
}

/** Each group of layers shares one table (group k → table k): reshare([[0,1,2],[13,14,15]], 16) = `000..........111`. */
export function reshare(groups: number[][], nLayer: number): ValueEmbeddingLayout {
  if (groups.length > MAX_TABLES) throw new LayoutError(`reshare: at most ${MAX_TABLES} groups`);
  const layers: (number | null)[] = new Array(nLayer).fill(null);
  groups.forEach((group, t) => {
    if (group.length === 0) throw new LayoutError(`reshare: group ${t} is empty`);
    for (const i of group) {
      checkLayer(i, nLayer, "reshare");
      if (layers[i] !== null) throw new LayoutError(`reshare: layer ${i} is in group ${layers[i]} and group ${t}`);
      layers[i] = t;
    }
  });
  return { layers };
}

/** The layout with no value embeddings at all. */
export function noTables(nLayer: number): ValueEmbeddingLayout {
  return { layers: new Array(nLayer).fill(null) };
}
