// A chart is a plain Plotly figure (JSON): the notebook, the exporter and `valemb export --spec`
// all take the same object, so any chart can be redrawn or re-exported from a saved file.

export type Trace = Record<string, unknown>;
export type Layout = Record<string, unknown> & { width?: number; height?: number };

export interface Figure {
  /** File name (without extension) when exported; also the chart's id in specs and tests. */
  name: string;
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

/** A saved set of charts (`saveChartSpec` writes one, `valemb export --spec` reads one). */
export interface ChartSpec {
  valembCharts: 1;
  figures: Figure[];
}

export const DEFAULT_WIDTH = 900;
export const DEFAULT_HEIGHT = 520;

// Fonts sized for a figure that is shrunk to a column width in a paper or post.
export const FONT = { family: "Helvetica, Arial, sans-serif", size: 15, color: "#222" };

export function axisStyle(title: string): Record<string, unknown> {
  return {
    title: { text: title, standoff: 8 },
    showline: true, mirror: true, linecolor: "#444", ticks: "outside",
    showgrid: true, gridcolor: "#e3e3e3", zeroline: false,
  };
}

/** Reads and checks a chart spec (or a single figure) from parsed JSON; `where` names the file. */
export function parseChartSpec(json: unknown, where: string): Figure[] {
  const figs = Array.isArray((json as ChartSpec)?.figures) ? (json as ChartSpec).figures : [json];
  figs.forEach((f, i) => {
    const at = `${where}: figure ${i}`;
    if (typeof f !== "object" || f === null) throw new Error(`${at}: not an object`);
    const fig = f as Partial<Figure>;
    if (!Array.isArray(fig.data)) throw new Error(`${at}: 'data' must be an array of traces`);
    if (typeof fig.layout !== "object" || fig.layout === null) throw new Error(`${at}: 'layout' must be an object`);
    if (typeof fig.name !== "string" || !/^[\w.-]+$/.test(fig.name)) {
      throw new Error(`${at}: 'name' must be a file-name-safe string (letters, digits, . _ -), got ${JSON.stringify(fig.name)}`);
    }
  });
  const seen = new Set<string>();
  for (const f of figs as Figure[]) {
    if (seen.has(f.name)) throw new Error(`${where}: two figures are named '${f.name}' (their files would overwrite each other)`);
    seen.add(f.name);
  }
  return figs as Figure[];
}
