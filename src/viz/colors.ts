// One color per variant, the same in every chart of a session: a variant's color comes from a hash of
// its name (so it is also stable across sessions), moved to the next free palette slot on a clash.

// matplotlib's tab10, the palette of the post's figures
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
// used once all ten are taken: darker shades from tab20b/tab20c (tab20's pale ones vanish next to a ±std band)
export const PALETTE_EXTRA = [
  "#637939", "#7b4173", "#8c6d31", "#393b79", "#843c39",
  "#31a354", "#e6550d", "#756bb1", "#636363", "#3182bd",
];
const EXTRA = PALETTE_EXTRA;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class ColorMap {
  private readonly byName = new Map<string, string>();

  constructor(fixed: Record<string, string> = {}) {
    for (const [name, color] of Object.entries(fixed)) this.byName.set(name, color);
  }

  /** The color of `name`, assigned on first use and kept for the life of this map; `label` only helps spot the baseline. */
  colorOf(name: string, label = name): string {
    const known = this.byName.get(name);
    if (known) return known;
    const taken = new Set(this.byName.values());
    // the baseline gets blue, as in the post
    const start = /baseline/i.test(name) || /baseline/i.test(label) ? 0 : fnv1a(name) % PALETTE.length;
    const all = [...PALETTE, ...EXTRA];
    let color = all[(start + this.byName.size) % all.length]; // everything taken: cycle
    for (let i = 0; i < all.length; i++) {
      const c = i < PALETTE.length ? PALETTE[(start + i) % PALETTE.length] : EXTRA[(start + i) % EXTRA.length];
      if (!taken.has(c)) { color = c; break; }
    }
    this.byName.set(name, color);
    return color;
  }

  /** name → color for every name seen so far (e.g. to pin them in a later session). */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.byName);
  }
}

/** The map every chart uses unless given another: one per kernel / process. */
export const variantColors = new ColorMap();

/** `#rrggbb` → `rgba(r,g,b,alpha)` (for the ±std bands). */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  const [r, g, b] = m.slice(1).map((h) => parseInt(h, 16));
  return `rgba(${r},${g},${b},${alpha})`;
}
