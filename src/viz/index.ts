// valemb's charts and notebook display: chart builders (runs → Plotly figure), inline display in
// tslab notebooks, export to PNG/SVG/HTML through headless Chromium, and the Jupyter set-up.

export type { Figure, Trace, Layout, ChartSpec } from "./figure";
export { parseChartSpec } from "./figure";
export type { Run, EvalPoint } from "./types";
export { ColorMap, variantColors, PALETTE, PALETTE_EXTRA } from "./colors";
export type { Axis, XWindow, GroupBy, LossChartOptions, CrossingChartOptions } from "./charts";
export { lossChart, crossingChart, variantOf, resolveWindow, fitYRange, meanCurve, seedMean, BANDS_FOR_ALL } from "./charts";
export { figureHtml, figureOfHtml, standaloneHtml, plotlyLoaderHtml, plotlyInlineScript, plotlyStaticPath, plotlyBundle, plotlyVersion } from "./plotly";
export type { DisplayData, DisplaySink, TableInput, TableOptions, FrameLike } from "./notebook";
export { loadPlotly, showChart, showTable, showHtml, rowsToHtml, styleTable, setDisplaySink } from "./notebook";
export type { ExportFormat, ExportOptions } from "./export";
export { exportFigures, FigureExporter, saveChartSpec, readChartSpec, findChromium, launchChromium, CHROMIUM_MISSING, CHROMIUM_ARGS, EXPORT_FORMATS } from "./export";
export type { JupyterPython, JupyterProbe, JupyterSource, JupyterChoice, ServerOptions, RunningJupyter } from "./jupyter";
export {
  findJupyterPython, chooseJupyter, jupyterCandidates, probeJupyter, describeProbe, jupyterName, jupyterEnv, registerKernel, writeJupyterConfig,
  prepareJupyter, serverCommand, startJupyter, jupyterUrl, projectRoot, JUPYTER_MISSING, JUPYTER_SERVER_CONFIG, LAB_NOTIFICATION_SETTINGS,
} from "./jupyter";
export { sampleRuns } from "./sample";
export type { ScalarChartOptions } from "./scalars";
export { scalarChart, scalarHeatmap } from "./scalars";
