// Charts to files (PNG, SVG, standalone HTML) through headless Chromium: the system's Chromium
// driven by playwright-core (no browser download), one browser and one page for a whole batch.

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Figure, parseChartSpec, ChartSpec } from "./figure";
import { plotlyBundle, standaloneHtml } from "./plotly";

export type ExportFormat = "png" | "svg" | "html";
export const EXPORT_FORMATS: ExportFormat[] = ["png", "svg", "html"];

export interface ExportOptions {
  /** Default: png, svg and html. */
  formats?: ExportFormat[];
  /** PNG pixel density (default 2: sharp when shrunk into a document). */
  scale?: number;
  /** Chromium binary (default: $CHROMIUM, then the usual system paths). */
  chromium?: string;
  /** Called after each file is written. */
  onFile?: (file: string) => void;
}

const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

export const CHROMIUM_MISSING =
  "Chromium was not found (looked at $CHROMIUM if set, else " + CHROMIUM_PATHS.join(", ") + ").\n" +
  "Install it (Debian/Ubuntu): sudo apt-get install chromium\n" +
  "or point CHROMIUM at a Chrome/Chromium binary: CHROMIUM=/path/to/chrome";

/** The Chromium binary to use, or null. */
export function findChromium(explicit?: string): string | null {
  // an explicit choice (argument or $CHROMIUM) is the only candidate: no silent fallback
  const chosen = explicit ?? process.env.CHROMIUM;
  const candidates = chosen ? [chosen] : CHROMIUM_PATHS;
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return null;
}

// Flags that keep a headless Chromium quiet and offline (FINDINGS §2).
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

type PwContext = import("playwright-core").BrowserContext;
type PwPage = import("playwright-core").Page;

/** Launches Chromium with a fresh throw-away profile; `close()` removes the profile. */
export async function launchChromium(opts: { chromium?: string; viewport?: { width: number; height: number } } = {}):
  Promise<{ context: PwContext; close: () => Promise<void> }> {
  const exe = findChromium(opts.chromium);
  if (!exe) throw new Error(CHROMIUM_MISSING);
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: exe, headless: true, args: CHROMIUM_ARGS, viewport: opts.viewport ?? { width: 1280, height: 900 },
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        fs.rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw new Error(`could not start Chromium at ${exe}: ${(e as Error).message.split("\n")[0]}\n${CHROMIUM_MISSING}`);
  }
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Keeps one browser page with plotly.js loaded; each figure then takes a fraction of a second. */
export class FigureExporter {
  private constructor(private readonly page: PwPage, private readonly closeBrowser: () => Promise<void>, private readonly scale: number) {}

  static async open(opts: ExportOptions = {}): Promise<FigureExporter> {
    const browser = await launchChromium({ chromium: opts.chromium });
    try {
      const page = await browser.context.newPage();
      // everything is inlined: refuse any network request
      await page.route("**/*", (route) => (route.request().url().startsWith("data:") ? route.continue() : route.abort()));
      await page.setContent('<!doctype html><html><body><div id="chart"></div></body></html>');
      await page.addScriptTag({ content: plotlyBundle() });
      return new FigureExporter(page, browser.close, opts.scale ?? 2);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  /** Renders one figure and returns its image (PNG bytes or SVG text). */
  async render(fig: Figure, format: "png" | "svg"): Promise<Buffer | string> {
    const width = fig.layout.width ?? 900, height = fig.layout.height ?? 520;
    const url = await this.page.evaluate(async ([f, fmt, w, h, s]) => {
      const P = (globalThis as unknown as { Plotly: any }).Plotly; // runs in the page
      await P.newPlot("chart", f.data, f.layout, { ...(f.config ?? {}), staticPlot: true });
      return P.toImage("chart", { format: fmt, width: w, height: h, scale: fmt === "png" ? s : 1 }) as Promise<string>;
    }, [fig, format, width, height, this.scale] as const);
    const body = url.slice(url.indexOf(",") + 1);
    // PNG comes base64-encoded, SVG URI-encoded
    return format === "png" ? Buffer.from(body, "base64") : decodeURIComponent(body);
  }

  /** Writes `<outDir>/<fig.name>.<format>` for each format; returns the paths. */
  async write(fig: Figure, outDir: string, formats: ExportFormat[] = EXPORT_FORMATS): Promise<string[]> {
    if (!/^[\w.-]+$/.test(fig.name)) throw new Error(`figure name '${fig.name}' is not a safe file name (letters, digits, . _ -)`);
    fs.mkdirSync(outDir, { recursive: true });
    const files: string[] = [];
    for (const format of formats) {
      const file = path.join(outDir, `${fig.name}.${format}`);
      writeAtomic(file, format === "html" ? standaloneHtml(fig) : await this.render(fig, format));
      files.push(file);
    }
    return files;
  }

  async close(): Promise<void> {
    await this.closeBrowser();
  }
}

/** Exports a batch of figures into outDir with one browser; returns every file written. */
export async function exportFigures(figs: Figure[], outDir: string, opts: ExportOptions = {}): Promise<string[]> {
  const formats = opts.formats ?? EXPORT_FORMATS;
  const bad = formats.filter((f) => !EXPORT_FORMATS.includes(f));
  if (bad.length) throw new Error(`unknown export format(s): ${bad.join(", ")} (use ${EXPORT_FORMATS.join(", ")})`);
  const names = new Set<string>();
  for (const f of figs) {
    if (names.has(f.name)) throw new Error(`two figures are named '${f.name}': give each a distinct name`);
    names.add(f.name);
  }
  const needsBrowser = formats.some((f) => f !== "html");
  const exporter = needsBrowser ? await FigureExporter.open(opts) : null;
  const files: string[] = [];
  try {
    for (const fig of figs) {
      if (exporter) {
        for (const file of await exporter.write(fig, outDir, formats)) { files.push(file); opts.onFile?.(file); }
      } else {
        fs.mkdirSync(outDir, { recursive: true });
        const file = path.join(outDir, `${fig.name}.html`);
        writeAtomic(file, standaloneHtml(fig));
        files.push(file);
        opts.onFile?.(file);
      }
    }
  } finally {
    await exporter?.close();
  }
  return files;
}

/** Saves figures as a chart spec JSON (input of `valemb export --spec FILE`). */
export function saveChartSpec(figs: Figure[], file: string): string {
  const spec: ChartSpec = { valembCharts: 1, figures: figs };
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeAtomic(file, JSON.stringify(spec, null, 1) + "\n");
  return file;
}

/** Reads a chart spec (or one figure) written by saveChartSpec. */
export function readChartSpec(file: string): Figure[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not a readable JSON chart spec (${(e as Error).message})`);
  }
  return parseChartSpec(json, file);
}
