// Learned scalars over training (src/analysis's ScalarGrid, mean over seeds): one line per layer, or a
// layer × step heat map. Early layers are drawn in blues, late ones in oranges, so the two ends of the
// U-net that share tables read apart at a glance.
import type { ScalarGrid } from "../analysis";
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, FONT, axisStyle, type Figure, type Trace } from "./figure";

export interface ScalarChartOptions {
  name?: string;
  title?: string;
  /** The y axis title (default: the family's name). */
  yTitle?: string;
  /** Layers below this count as early (default: half the layers recorded). */
  splitLayer?: number;
  width?: number;
  height?: number;
}

const FAMILY_TITLES: Record<string, string> = {
  lambda_ve: "value-embedding weight λb", lambda_v: "attention value weight λa", lambda_x: "block weight λ0 (x)",
  lambda_x0: "block weight λ1 (x0)", skip_w: "skip weight",
};

/** A blue (early) or orange (late) shade, darker towards the ends of the network. */
function layerColor(layer: number, split: number, nLayers: number): string {
  const early = layer < split;
  const depth = early ? 1 - layer / Math.max(1, split) : (layer - split + 1) / Math.max(1, nLayers - split); // 1 at the outermost layer
  const light = Math.round(70 - 40 * depth);
  return early ? `hsl(210, 70%, ${light}%)` : `hsl(28, 85%, ${light}%)`;
}

function emptyCheck(grid: ScalarGrid, what: string): void {
  if (grid.runs === 0 || grid.steps.length === 0) throw new Error(`${what}: no run recorded the '${grid.family}' scalars (runs trained before scalars were recorded have none)`);
}

const layoutFor = (title: string | undefined, width: number, height: number) => ({
  width, height, font: FONT,
  title: title ? { text: title, x: 0.02, xanchor: "left", font: { size: 18 } } : undefined,
  paper_bgcolor: "white", plot_bgcolor: "white", margin: { l: 80, r: 24, t: title ? 56 : 24, b: 64 }, hovermode: "closest",
});

/** Each layer's scalar over steps, one line per layer that uses it (mean over the grid's runs). */
export function scalarChart(grid: ScalarGrid, opts: ScalarChartOptions = {}): Figure {
  emptyCheck(grid, "scalarChart");
  const nLayers = Math.max(...grid.layers) + 1, split = opts.splitLayer ?? Math.ceil(nLayers / 2);
  const data: Trace[] = grid.layers.map((l) => ({
    type: "scatter", mode: "lines", name: `layer ${l}`, x: grid.steps, y: grid.values.map((row) => row[l]),
    line: { color: layerColor(l, split, nLayers), width: 2 }, hovertemplate: `layer ${l}, step %{x}: %{y:.3f}<extra></extra>`,
  }));
  const layout = layoutFor(opts.title, opts.width ?? DEFAULT_WIDTH, opts.height ?? DEFAULT_HEIGHT);
  Object.assign(layout, {
    xaxis: axisStyle("step"), yaxis: axisStyle(opts.yTitle ?? FAMILY_TITLES[grid.family] ?? grid.family),
    legend: { x: 1.01, xanchor: "left", y: 1, yanchor: "top" },
    meta: { valemb: { chart: "scalars", family: grid.family, runs: grid.runs, layers: grid.layers } },
  });
  return { name: opts.name ?? `scalars-${grid.family}`, data, layout, config: { displaylogo: false } };
}

/** The same as a heat map: layers (rows, layer 0 at the top) × steps (columns). */
export function scalarHeatmap(grid: ScalarGrid, opts: ScalarChartOptions = {}): Figure {
  emptyCheck(grid, "scalarHeatmap");
  const data: Trace[] = [{
    type: "heatmap", x: grid.steps, y: grid.layers.map((l) => `layer ${l}`), z: grid.layers.map((l) => grid.values.map((row) => row[l])),
    colorscale: "RdBu", reversescale: true, colorbar: { title: { text: opts.yTitle ?? FAMILY_TITLES[grid.family] ?? grid.family, side: "right" } },
    hovertemplate: "%{y}, step %{x}: %{z:.3f}<extra></extra>",
  }];
  const layout = layoutFor(opts.title, opts.width ?? DEFAULT_WIDTH, opts.height ?? DEFAULT_HEIGHT);
  Object.assign(layout, {
    xaxis: axisStyle("step"), yaxis: { ...axisStyle("layer"), autorange: "reversed", type: "category" },
    meta: { valemb: { chart: "scalars-heatmap", family: grid.family, runs: grid.runs, layers: grid.layers } },
  });
  return { name: opts.name ?? `scalars-${grid.family}-heatmap`, data, layout, config: { displaylogo: false } };
}
