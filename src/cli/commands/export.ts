// `valemb export`: the terminal twin of the notebook charts. Draws a chart from run logs with the
// same options as lossChart / crossingChart, or re-exports charts a notebook saved with
// saveChartSpec, and writes each as PNG, SVG and standalone HTML through headless Chromium.

import type { Command } from "../command";
import { parseOptions, UsageError } from "../options";
import { loadAndSelect, selectRuns } from "../../analysis";
import { chartStyle, windowText } from "../../experiments";
import {
  crossingChart, EXPORT_FORMATS, ExportFormat, exportFigures, Figure, lossChart, readChartSpec, Run, sampleRuns, XWindow,
} from "../../viz";

const usage = `usage: valemb export [RUN_PATH…] [options]
       valemb export --spec CHARTS.json [--out DIR]

Writes charts as PNG, SVG and standalone HTML (offline) into --out, one browser for the batch.
RUN_PATH: run folders, raw modded-nanogpt logs or markdown files of logs (as valemb crossings reads).

  --spec FILE           charts saved in a notebook with saveChartSpec(figs, FILE) (repeatable)
  --chart loss|crossing loss curves (default) or time-to-target dots
  --axis time|step      x axis: training time in seconds (default) or step
  --from X, --to X      cut the x axis to [X, X]; the y axis is fitted to what is inside
  --last F              cut the x axis to the last fraction F of training (0.25 = last 25%)
  --group run|variant   one line per run (default for loss), or mean ± std per variant
                        (default for crossing); variant = meta.variant, meta.layout, or the
                        run name without its seed suffix
  --target LOSS         dashed line at LOSS (loss chart); the threshold (crossing chart, required)
  --runs A,B,…          only these runs (names, * wildcards: "13,15,16", "25 *")
  --label KEY=TEXT      legend label for a run or variant (repeatable); the post's variants (run
                        folders of a section, the post's run ids) are labelled and colored as in
                        the notebooks without it
  --title TEXT          chart title (default: what the chart shows, e.g. "Validation loss vs
                        training time, 1,200–1,500 s")
  --name NAME           file name without extension (default: from the options, e.g. loss-time-1200-1500)
  --width W, --height H size in CSS pixels (default 900 × 520)
  --out DIR             output folder (default: figs)
  --formats LIST        comma-separated: png,svg,html (default: all three)
  --scale N             PNG pixel density (default 2)
  --sample              use the built-in sample runs instead of RUN_PATHs (a demo)

Example (the post's 1200–1500 s figure):
  valemb export ../shared/reference-logs/value-embeddings-results.md --runs 13,15,16 \\
      --from 1200 --to 1500 --target 2.92 --out figs`;

export const command: Command = {
  summary: "write charts as PNG/SVG/HTML (from run logs or a notebook's chart spec)",
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      spec: {}, chart: { default: "loss" }, axis: { default: "time" }, from: {}, to: {}, last: {}, group: {}, target: {},
      runs: {}, label: {}, title: {}, name: {}, width: {}, height: {}, out: { default: "figs" },
      formats: { default: EXPORT_FORMATS.join(",") }, scale: {}, sample: {},
    }, { positionals: true });
    const formats = values.formats.split(",").map((f) => f.trim()) as ExportFormat[];
    const badFormat = formats.find((f) => !EXPORT_FORMATS.includes(f));
    if (badFormat) throw new UsageError(`--formats: unknown format '${badFormat}' (use ${EXPORT_FORMATS.join(", ")})`);

    const figs: Figure[] = [];
    for (const file of values.spec) figs.push(...readChartSpec(file));
    if (positionals.length > 0 || values.sample) {
      // same loading and --runs selection as `valemb crossings`
      const picked = values.sample ? { ...selectRuns(sampleRuns(), values.runs), messages: [] as string[] } : loadAndSelect(positionals, { runs: values.runs });
      for (const m of picked.messages) process.stderr.write(`warning: ${m}\n`);
      if (picked.unmatched.length) throw new Error(`--runs: nothing matches ${picked.unmatched.map((p) => `'${p}'`).join(", ")}`);
      const runs = picked.runs;
      if (runs.length === 0) throw new Error(`no runs found in ${positionals.join(" ") || "the sample"}`);
      const axis = values.axis;
      const labels: Record<string, string> = {};
      for (const l of values.label) {
        const eq = l.indexOf("=");
        if (eq <= 0) throw new UsageError(`--label: expected KEY=TEXT, got '${l}'`);
        labels[l.slice(0, eq)] = l.slice(eq + 1);
      }
      const group = values.group;
      // the notebooks' labels and colors for the post's variants; --label overrides a label
      const style = chartStyle(runs);
      const common = { axis, name: values.name, labels: { ...style.labels, ...labels }, colors: style.colors, width: values.width, height: values.height };
      const target = values.target;
      if (values.chart === "loss") {
        const last = values.last;
        if (last !== undefined && (values.from !== undefined || values.to !== undefined)) throw new UsageError("--last cannot be combined with --from/--to");
        const window: XWindow | undefined = last !== undefined ? { last }
          : values.from !== undefined || values.to !== undefined ? { from: values.from, to: values.to } : undefined;
        const shown = window === undefined ? "" : "last" in window ? `, last ${Math.round(window.last * 100)}% of training`
          : window.from !== undefined && window.to !== undefined ? `, ${windowText({ axis, from: window.from, to: window.to })}` : "";
        const title = values.title ?? `Validation loss vs ${axis === "time" ? "training time" : "step"}${shown}`;
        figs.push(lossChart(runs, { ...common, title, window, groupBy: group ?? "run", target }));
      } else {
        if (target === undefined) throw new UsageError("--chart crossing needs --target LOSS");
        const title = values.title ?? `${axis === "time" ? "Training time" : "Steps"} to reach val loss ${target}`;
        figs.push(crossingChart(runs, { ...common, title, target, groupBy: group ?? "variant" }));
      }
    }
    if (figs.length === 0) {
      process.stderr.write(`valemb export: nothing to export: give RUN_PATHs, --sample or --spec FILE\n\n${usage}\n`);
      return 2;
    }
    const files = await exportFigures(figs, values.out, {
      formats, scale: values.scale,
      onFile: (f) => process.stderr.write(`wrote ${f}\n`),
    });
    for (const f of files) process.stdout.write(`${f}\n`);
    return 0;
  },
};
