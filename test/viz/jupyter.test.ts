// Which Jupyter `valemb notebook` starts, and the project config it writes: fake Pythons (scripts that
// print what the probe asks) stand in for real ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chooseJupyter, jupyterUrl, JUPYTER_SERVER_CONFIG, serverCommand, writeJupyterConfig } from "../../src/viz";

/** An executable that answers the probe with `found` (JSON), whatever it is asked. */
function fakePython(file: string, found: { lab: string | null; notebook: string | null; nbclient?: boolean }): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho '${JSON.stringify({ nbclient: true, ...found })}'\n`, { mode: 0o755 });
  return file;
}

function world() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "valemb-jp-"));
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  return { root, bin, env: { PATH: bin } as NodeJS.ProcessEnv };
}

test("JupyterLab from the project's .venv first, even when PATH has only classic Notebook", () => {
  const w = world();
  fakePython(path.join(w.root, ".venv", "bin", "python"), { lab: "4.6.4", notebook: "7.6.3" });
  fakePython(path.join(w.bin, "python3"), { lab: null, notebook: "6.4.12" });
  const c = chooseJupyter({ root: w.root, env: w.env });
  assert.equal(c.chosen?.source, ".venv");
  assert.equal(c.chosen?.ui, "lab");
  assert.equal(c.chosen?.version, "4.6.4");
  assert.match(c.chosen!.why, /first Python with JupyterLab/);
});

test("PATH's JupyterLab when there is no .venv; --classic picks the notebook package's UI", () => {
  const w = world();
  fakePython(path.join(w.bin, "python3"), { lab: "4.6.4", notebook: "7.6.3" });
  assert.equal(chooseJupyter({ root: w.root, env: w.env }).chosen?.source, "PATH");
  const classic = chooseJupyter({ root: w.root, env: w.env, classic: true }).chosen!;
  assert.deepEqual([classic.ui, classic.version, classic.source], ["notebook", "7.6.3", "PATH"]);
  assert.match(classic.why, /--classic/);
});

test("VALEMB_PYTHON is the only candidate when set: used as it is, or reported, never skipped", () => {
  const w = world();
  fakePython(path.join(w.root, ".venv", "bin", "python"), { lab: "4.6.4", notebook: "7.6.3" });
  const old = fakePython(path.join(w.root, "old", "python"), { lab: null, notebook: "6.4.12" });
  const c = chooseJupyter({ root: w.root, env: { ...w.env, VALEMB_PYTHON: old } });
  assert.deepEqual([c.chosen?.source, c.chosen?.ui, c.chosen?.version], ["VALEMB_PYTHON", "notebook", "6.4.12"]);
  assert.match(c.chosen!.why, /VALEMB_PYTHON is set; it has no JupyterLab/);
  const bare = fakePython(path.join(w.root, "bare", "python"), { lab: null, notebook: null });
  const none = chooseJupyter({ root: w.root, env: { ...w.env, VALEMB_PYTHON: bare } });
  assert.equal(none.chosen, null);
  assert.match(none.problem!, /VALEMB_PYTHON=.*has no Jupyter.*unset VALEMB_PYTHON/);
});

test("the server serves .jupyter/static (plotly.js), Lab's URL is /lab, the config turns the news popup off", () => {
  const w = world();
  const lab = { python: "/x/python", source: ".venv" as const, ui: "lab" as const, version: "4.6.4", nbclient: true, why: "" };
  const cmd = serverCommand(lab, { port: 8899, token: "t", notebookDir: "/nb", root: w.root });
  assert.deepEqual(cmd.args.slice(0, 2), ["-m", "jupyterlab"]);
  assert.ok(cmd.args.includes(`--ServerApp.extra_static_paths=${JSON.stringify([path.join(w.root, ".jupyter", "static")])}`));
  const classic = serverCommand({ ...lab, ui: "notebook", version: "6.4.12" }, { port: 8899, token: "t", notebookDir: "/nb", root: w.root });
  assert.ok(classic.args.some((a) => a.startsWith("--NotebookApp.extra_static_paths=")), "classic Notebook 6 is configured as NotebookApp");
  assert.equal(jupyterUrl(lab, 8899, "t"), "http://127.0.0.1:8899/lab?token=t");
  assert.equal(jupyterUrl({ ...lab, ui: "notebook", version: "7.6.3" }, 8899, "t", "a.ipynb"), "http://127.0.0.1:8899/notebooks/a.ipynb?token=t");

  fs.mkdirSync(path.join(w.root, "node_modules"), { recursive: true });
  const { configDir, staticDir } = writeJupyterConfig(w.root);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(configDir, "jupyter_server_config.json"), "utf8")), JUPYTER_SERVER_CONFIG);
  assert.equal(JUPYTER_SERVER_CONFIG.LabApp.news_url, null);
  const settings = path.join(configDir, "lab", "user-settings", "@jupyterlab", "apputils-extension", "notification.jupyterlab-settings");
  assert.equal(JSON.parse(fs.readFileSync(settings, "utf8")).fetchNews, "false");
  // a user's own choice is kept on the next start
  fs.writeFileSync(settings, JSON.stringify({ fetchNews: "true" }));
  writeJupyterConfig(w.root);
  assert.equal(JSON.parse(fs.readFileSync(settings, "utf8")).fetchNews, "true");
  const asset = fs.readdirSync(path.join(staticDir, "valemb"));
  assert.equal(asset.length, 1);
  assert.ok(fs.statSync(path.join(staticDir, "valemb", asset[0])).size > 1e6, "plotly.js written for the server to serve");
});
