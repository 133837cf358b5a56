// What a user sees: every committed notebook opened in JupyterLab 4 in headless Chromium, from a
// server started the way `npm run notebook` starts it. Run All, wait until every cell has run, and
// check each notebook: no error output, every chart drawn by plotly (its SVG in the output area),
// every table shown; save, check the saved file stays small (plotly.js is served, not stored), reopen
// and check the charts draw again from the saved outputs. Notebook 7 (`--classic`) does the same for
// the demo. The notebooks are copies under .jupyter/ (gitignored), so notebooks/ is never touched;
// screenshots of every chart and table go to a temp folder (printed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { chooseJupyter, jupyterName, jupyterUrl, launchChromium, startJupyter, type JupyterPython } from "../../src/viz";
import { chromiumOrSkip, committedNotebooks, readNotebook, outputsOf, requireTool, ROOT } from "./tools";

type Page = import("playwright-core").Page;

const lab = chooseJupyter({ root: ROOT }).chosen;
const nb7 = chooseJupyter({ root: ROOT, classic: true }).chosen;
const SETUP = "scripts/setup/python-venv.sh (JupyterLab 4 and Notebook 7 into .venv)";
const skipLab = chromiumOrSkip() ?? requireTool(lab?.ui === "lab", "JupyterLab (what npm run notebook starts)", SETUP);
const skipNb7 = skipLab ?? requireTool(!!nb7 && nb7.ui === "notebook" && nb7.version.startsWith("7"), "Notebook 7", SETUP);
const REFERENCE_LOGS = path.join(ROOT, "..", "shared", "reference-logs");
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-ui-"));
/** Saving a run notebook may add at most this much to it (the issue's limit: plotly.js must not be stored). */
const MAX_GROWTH = 100_000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** What the page shows for the open notebook (JupyterLab and Notebook 7 share these widgets). */
async function pageState(page: Page) {
  return page.evaluate(() => {
    const nb = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook") ?? document.querySelector(".jp-Notebook");
    if (!nb) return null;
    const outputs = Array.from(nb.querySelectorAll(".jp-OutputArea-output"));
    return {
      prompts: Array.from(nb.querySelectorAll(".jp-CodeCell .jp-InputPrompt")).map((e) => (e.textContent ?? "").trim()),
      charts: Array.from(nb.querySelectorAll(".jp-OutputArea-output .valemb-chart")).map((e) => e.querySelectorAll("svg.main-svg").length),
      tables: nb.querySelectorAll(".jp-OutputArea-output table").length,
      errors: outputs.filter((o) => /stderr|error/.test(o.getAttribute("data-mime-type") ?? "")).map((o) => (o.textContent ?? "").slice(0, 2000)),
      notDrawn: Array.from(nb.querySelectorAll(".valemb-chart")).filter((e) => (e.textContent ?? "").includes("chart not drawn")).map((e) => e.textContent),
      news: document.body.innerText.includes("official Jupyter news"),
    };
  });
}

async function runMenu(page: Page, menu: string, item: string): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: new RegExp(`^${menu}$`) }).first().click();
  await page.locator(".lm-Menu-itemLabel", { hasText: new RegExp(`^${item}$`) }).first().click();
}

/** Opens, runs, checks, saves, reopens and checks one notebook; returns what it measured. */
async function checkNotebook(page: Page, jp: JupyterPython, port: number, token: string, dir: string, name: string, tag: string) {
  const file = path.join(dir, name);
  const before = fs.statSync(file).size;
  // JupyterLab restores the last workspace (every notebook opened before); `reset` opens this one alone
  const url = jupyterUrl(jp, port, token, name) + (jp.ui === "lab" ? "&reset" : "");
  await page.goto(url);
  await page.waitForSelector(".jp-Notebook .jp-CodeCell", { timeout: 120_000 });
  const t0 = Date.now();
  // Run All needs the notebook to be the active widget and a kernel; until then the command does
  // nothing, so click into the notebook, run, and retry until a cell is queued or has run.
  const started = () => page.waitForFunction(() => Array.from(document.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputPrompt"))
    .some((e) => /\[(\*|\d+)\]/.test(e.textContent ?? "")), null, { timeout: 20_000 }).then(() => true, () => false);
  for (let attempt = 1; ; attempt++) {
    const dialog = await page.locator(".jp-Dialog").first().textContent({ timeout: 1000 }).catch(() => null);
    if (dialog) throw new Error(`${name}: a dialog is open: ${dialog}`);
    await page.waitForSelector(".jp-Spinner", { state: "detached", timeout: 120_000 }).catch(() => undefined);
    const clicked = await page.locator(".jp-Notebook .jp-Cell").first().click({ position: { x: 5, y: 5 }, timeout: 15_000 })
      .then(() => runMenu(page, "Run", "Run All Cells")).then(() => true, () => false);
    if (clicked && await started()) break;
    await page.keyboard.press("Escape");
    if (attempt === 6) throw new Error(`${name}: Run All did not start any cell after ${attempt} tries: ${JSON.stringify(await pageState(page))}`);
  }
  // done when every code cell shows an execution count and none is queued or running
  await page.waitForFunction(() => {
    const prompts = Array.from(document.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputPrompt")).map((e) => (e.textContent ?? "").trim());
    return prompts.length > 0 && prompts.every((p) => /^\[\d+\]:?$/.test(p));
  }, null, { timeout: 600_000, polling: 500 }).catch(async (e) => {
    throw new Error(`${name}: cells did not all run: ${JSON.stringify(await pageState(page))}\n${e}`);
  });
  const runS = (Date.now() - t0) / 1000;
  // every chart drawn (plotly.js is fetched from the server once per page); `count`: how many to wait for
  const drawn = async (count?: number) => {
    await page.waitForFunction((n) => {
      const charts = Array.from(document.querySelectorAll(".jp-OutputArea-output .valemb-chart"));
      return (n === undefined || charts.length >= n) && charts.every((e) => e.querySelector("svg.main-svg"));
    }, count, { timeout: 90_000 }).catch(() => undefined);
    return (await pageState(page))!;
  };
  const ran = await drawn();
  assert.deepEqual(ran.errors, [], `${tag} ${name}: error outputs`);
  assert.deepEqual(ran.notDrawn, [], `${tag} ${name}: charts not drawn`);
  assert.equal(ran.news, false, `${tag} ${name}: the Jupyter news popup is off (project config)`);
  const outputs = page.locator(".jp-OutputArea-output:has(.valemb-chart), .jp-OutputArea-output:has(table)");
  for (let i = 0; i < await outputs.count(); i++) {
    await outputs.nth(i).screenshot({ path: path.join(SHOTS, `${tag}-${name.replace(/\.ipynb$/, "")}-${String(i).padStart(2, "0")}.png`) }).catch(() => undefined);
  }

  await page.keyboard.press("Control+s");
  // saved when the file on disk has as many chart outputs as the page shows
  const savedChartCount = () => outputsOf(readNotebook(file)).filter((o) => o.metadata?.valemb?.kind === "chart").length;
  for (const end = Date.now() + 60_000; savedChartCount() !== ran.charts.length && Date.now() < end;) await new Promise((r) => setTimeout(r, 500));
  await page.waitForFunction(() => !document.querySelector(".jp-mod-dirty"), null, { timeout: 30_000 }).catch(() => undefined);
  const savedOutputs = outputsOf(readNotebook(file));
  const savedCharts = savedOutputs.filter((o) => o.metadata?.valemb?.kind === "chart").length;
  const savedTables = savedOutputs.filter((o) => o.metadata?.valemb?.kind === "table").length;
  assert.equal(ran.charts.length, savedCharts, `${tag} ${name}: a chart in the page per chart output`);
  assert.ok(ran.charts.every((n) => n > 0), `${tag} ${name}: every chart has plotly's SVG: ${ran.charts}`);
  assert.ok(ran.tables >= savedTables, `${tag} ${name}: every table output shown (${ran.tables} < ${savedTables})`);
  const after = fs.statSync(file).size;
  assert.ok(after - before < MAX_GROWTH, `${tag} ${name}: saving after Run All grew the file by ${after - before} bytes`);

  // reopen the saved notebook without running anything: the charts draw from the stored outputs
  await page.goto("about:blank");
  await page.goto(url);
  await page.waitForSelector(".jp-Notebook .jp-CodeCell", { timeout: 120_000 });
  const reopened = await drawn(savedCharts);
  if (reopened.charts.length !== savedCharts) {
    await page.screenshot({ path: path.join(SHOTS, `${tag}-${name}-reopened-FAILED.png`) });
    const dialog = await page.locator(".jp-Dialog").first().textContent({ timeout: 1000 }).catch(() => null);
    assert.fail(`${tag} ${name}: ${reopened.charts.length} of ${savedCharts} charts after reopening${dialog ? `; a dialog is open: ${dialog}` : ""} (screenshot in ${SHOTS})`);
  }
  assert.ok(reopened.charts.every((n) => n > 0), `${tag} ${name}: every chart drawn again after reopening: ${JSON.stringify(reopened.notDrawn)}`);
  return { name, charts: savedCharts, tables: savedTables, growth: after - before, runS };
}

/** Serves copies of `names` with `jp` and checks each in one browser; returns per-notebook results. */
async function checkInBrowser(jp: JupyterPython, names: string[], tag: string) {
  // inside the repo (.jupyter/ is gitignored): tslab resolves packages from the notebook's folder upwards
  fs.mkdirSync(path.join(ROOT, ".jupyter"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, ".jupyter", "ui-test-"));
  for (const n of names) fs.copyFileSync(path.join(ROOT, "notebooks", n), path.join(dir, n));
  fs.symlinkSync(path.join(ROOT, "src"), path.join(dir, "src"));
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  // the notebooks find the published logs where they would from notebooks/
  const server = startJupyter(jp, { port, token, notebookDir: dir, openBrowser: false, root: ROOT, stdio: "pipe", env: { VALEMB_QUICK: "1", VALEMB_REFERENCE_LOGS: REFERENCE_LOGS } });
  let serverLog = "";
  server.child.stderr!.on("data", (d) => { serverLog += d; });
  const browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
  try {
    await server.ready(120_000);
    const page = await browser.context.newPage();
    const external = new Set<string>();
    await page.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.protocol === "data:" || u.hostname === "127.0.0.1" || u.protocol === "about:") return route.continue();
      external.add(u.origin);
      return route.abort();
    });
    const results = [];
    for (const n of names) {
      const r = await checkNotebook(page, jp, port, token, dir, n, tag);
      process.stderr.write(`${tag} ${n}: ${r.charts} charts, ${r.tables} tables drawn after Run All and after reopening; run ${r.runS.toFixed(0)} s; saved file +${(r.growth / 1000).toFixed(1)} kB\n`);
      results.push(r);
    }
    assert.deepEqual([...external], [], "nothing fetched from outside 127.0.0.1");
    process.stderr.write(`${tag}: ${jupyterName(jp)}; screenshots in ${SHOTS}\n`);
    return results;
  } catch (e) {
    process.stderr.write(`--- Jupyter server log (last 4000 characters) ---\n${serverLog.slice(-4000)}\n`);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Charts and tables each notebook must show in quick mode (05 needs the published logs). */
function expected(name: string): { charts: number; tables: number } | undefined {
  const logs = fs.existsSync(REFERENCE_LOGS);
  return ({
    "00-overview.ipynb": { charts: 4, tables: 2 },
    "05-published-runs.ipynb": logs ? { charts: 10, tables: 3 } : { charts: 0, tables: 0 },
    "demo.ipynb": { charts: 2, tables: 1 },
  } as Record<string, { charts: number; tables: number }>)[name];
}

test("JupyterLab: every committed notebook runs, draws its charts and tables, saves small and draws again when reopened", { skip: skipLab, timeout: 1_500_000 }, async () => {
  // VALEMB_UI_NOTEBOOKS=a.ipynb,b.ipynb checks only those (when working on one notebook)
  const only = process.env.VALEMB_UI_NOTEBOOKS?.split(",");
  const names = committedNotebooks().map((f) => path.basename(f)).filter((n) => !only || only.includes(n));
  const results = await checkInBrowser(lab!, names, "lab");
  for (const r of results) {
    const want = expected(r.name);
    if (want) assert.deepEqual({ charts: r.charts, tables: r.tables }, want, r.name);
    else assert.ok(r.charts >= 3 && r.tables >= 3, `${r.name}: a section notebook shows its layouts, loss and crossing charts and 3 tables (${r.charts}, ${r.tables})`);
  }
});

test("Notebook 7 (npm run notebook -- --classic): the demo runs, draws, saves small and draws again", { skip: skipNb7, timeout: 600_000 }, async () => {
  const results = await checkInBrowser(nb7!, ["demo.ipynb"], "nb7");
  for (const r of results) assert.deepEqual({ charts: r.charts, tables: r.tables }, expected(r.name), r.name);
});
