// The demo notebook in the classic Notebook UI (6.x) in headless Chromium: open it, run all cells,
// check the charts are drawn (Plotly's SVG in the page), save, reopen, and check they are drawn
// again from the saved outputs. Served from a copy under .jupyter/ so autosave never touches notebooks/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { launchChromium, serverCommand } from "../../src/viz";
import { chromiumOrSkip, jupyterOrSkip, requireTool, ROOT } from "./tools";

const { jp, skip: noJupyter } = jupyterOrSkip();
const classic = !noJupyter && spawnSync(jp!.python, ["-c", "import notebook; assert notebook.__version__.startswith('6')"]).status === 0;
const skip = noJupyter ?? chromiumOrSkip() ?? requireTool(classic, "classic Notebook 6 (python3 -m notebook)", "sudo apt-get install jupyter-notebook");

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, ms: number, server: { exitCode: number | null }): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`Jupyter exited (status ${server.exitCode}) before answering`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > end) throw new Error(`Jupyter did not answer at ${url} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("classic Notebook: run all cells of the demo, charts drawn, and drawn again after reopening", { skip, timeout: 240_000 }, async () => {
  // inside the repo (.jupyter/ is gitignored): tslab resolves packages from the notebook's folder upwards
  fs.mkdirSync(path.join(ROOT, ".jupyter"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, ".jupyter", "ui-test-"));
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-ui-"));
  fs.copyFileSync(path.join(ROOT, "notebooks", "demo.ipynb"), path.join(dir, "demo.ipynb"));
  fs.symlinkSync(path.join(ROOT, "src"), path.join(dir, "src"));
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const cmd = serverCommand({ ...jp!, ui: "notebook" }, { port, token, notebookDir: dir, openBrowser: false, root: ROOT });
  const server = spawn(cmd.command, cmd.args, { env: { ...cmd.env, VALEMB_QUICK: "1" }, stdio: ["ignore", "ignore", "pipe"], detached: true });
  let serverLog = "";
  server.stderr!.on("data", (d) => { serverLog += d; });
  const browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
  try {
    await waitForServer(`http://127.0.0.1:${port}/api/status?token=${token}`, 60_000, server);
    const page = await browser.context.newPage();
    const external = new Set<string>();
    await page.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.protocol === "data:" || u.hostname === "127.0.0.1") return route.continue();
      external.add(u.origin);
      return route.abort();
    });
    await page.goto(`http://127.0.0.1:${port}/notebooks/demo.ipynb?token=${token}`);
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: 60_000 });
    await page.waitForSelector("#kernel_indicator_icon.kernel_idle_icon", { timeout: 60_000 });
    await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
    // done when every code cell has an execution number and the kernel is idle
    await page.waitForFunction(() => {
      const cells = (window as any).Jupyter.notebook.get_cells().filter((c: any) => c.cell_type === "code");
      return cells.every((c: any) => typeof c.input_prompt_number === "number") && !!document.querySelector("#kernel_indicator_icon.kernel_idle_icon");
    }, null, { timeout: 60_000, polling: 250 }).catch(async (e) => {
      const state = await page.evaluate(() => (window as any).Jupyter.notebook.get_cells()
        .filter((c: any) => c.cell_type === "code").map((c: any) => [c.input_prompt_number, JSON.stringify(c.output_area?.outputs ?? []).slice(0, 1500)]));
      throw new Error(`cells did not all run: ${JSON.stringify(state)}\n${e}`);
    });
    const drawn = async () => {
      await page.waitForFunction(() => document.querySelectorAll(".js-plotly-plot .main-svg").length >= 2, null, { timeout: 30_000 });
      return page.evaluate(() => ({
        charts: document.querySelectorAll(".valemb-chart.js-plotly-plot").length,
        traces: Array.from(document.querySelectorAll(".valemb-chart.js-plotly-plot")).map((el) => el.querySelectorAll(".scatterlayer .trace").length),
        stderr: document.querySelectorAll(".output_stderr").length,
        notLoaded: Array.from(document.querySelectorAll(".valemb-chart")).filter((e) => (e.textContent ?? "").includes("not loaded")).length,
        tableHeaders: Array.from(document.querySelectorAll(".output_html table.dataframe thead th")).map((e) => e.textContent),
      }));
    };
    const first = await drawn();
    assert.deepEqual(first.charts, 2, JSON.stringify(first));
    assert.deepEqual(first.traces, [9, 5]);
    assert.equal(first.stderr, 0);
    assert.equal(first.notLoaded, 0);
    assert.deepEqual(first.tableHeaders.slice(0, 3), ["variant", "n", "nCrossed"]);
    const shot = path.join(shots, "classic-demo.png");
    await page.screenshot({ path: shot, fullPage: true });
    await page.locator(".valemb-chart.js-plotly-plot").first().screenshot({ path: path.join(shots, "classic-chart.png") });
    assert.ok(fs.statSync(shot).size > 10_000);

    // Save (the notebook is signed, so trusted), reopen without running anything: charts come back.
    await page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
    await page.waitForFunction(() => !(window as any).Jupyter.notebook.dirty, null, { timeout: 30_000 });
    await page.reload();
    await page.waitForFunction(() => (window as any).Jupyter?.notebook?.trusted === true, null, { timeout: 60_000 });
    const reopened = await drawn();
    assert.deepEqual(reopened.traces, [9, 5]);
    assert.deepEqual([...external], [], "nothing fetched from outside 127.0.0.1");
    process.stderr.write(`screenshots: ${shot}, ${path.join(shots, "classic-chart.png")}\n`);
  } catch (e) {
    process.stderr.write(`--- Jupyter server log ---\n${serverLog.slice(-4000)}\n`);
    throw e;
  } finally {
    await browser.close();
    try { process.kill(-server.pid!, "SIGTERM"); } catch { /* already gone */ }
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
