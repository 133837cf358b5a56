// valemb's charts and notebook display: chart builders (runs → Plotly figure), inline display in
// tslab notebooks, export to PNG/SVG/HTML through headless Chromium, and the Jupyter set-up.

export type { Figure, Trace, Layout, ChartSpec } from "./figure";
export { parseChartSpec } from "./figure";
export type { Run, EvalPoint } from "./types";
export { ColorMap, variantColors, PALETTE } from "./colors";
export type { Axis, XWindow, GroupBy, LossChartOptions, CrossingChartOptions } from "./charts";
export { lossChart, crossingChart, variantOf, resolveWindow, fitYRange, meanCurve } from "./charts";
export { figureHtml, standaloneHtml, plotlyLoaderHtml, plotlyBundle, plotlyVersion } from "./plotly";
export type { DisplayData, DisplaySink, TableInput, TableOptions, FrameLike } from "./notebook";
export { loadPlotly, showChart, showTable, showHtml, rowsToHtml, setDisplaySink } from "./notebook";
export type { ExportFormat, ExportOptions } from "./export";
export { exportFigures, FigureExporter, saveChartSpec, readChartSpec, findChromium, launchChromium, CHROMIUM_MISSING, CHROMIUM_ARGS, EXPORT_FORMATS } from "./export";
export type { JupyterPython, ServerOptions } from "./jupyter";
export { findJupyterPython, jupyterEnv, registerKernel, serverCommand, projectRoot, JUPYTER_MISSING } from "./jupyter";
export { sampleRuns } from "./sample";
export type { ScalarChartOptions } from "./scalars";
export { scalarChart, scalarHeatmap } from "./scalars";
