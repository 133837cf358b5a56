// Jupyter for this project: a Python that has it, the tslab kernel registered in a project-local
// prefix (.jupyter/, gitignored), and every bit of Jupyter state kept out of $HOME.

import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { plotlyBundle, plotlyStaticPath } from "./plotly";

/** Where a Python came from, in the order they are tried. */
export type JupyterSource = "VALEMB_PYTHON" | ".venv" | "PATH" | "Debian";

/** What one Python offers. */
export interface JupyterProbe {
  python: string;
  source: JupyterSource;
  /** JupyterLab's version, null when not importable (or jupyter_client is missing). */
  lab: string | null;
  /** The notebook package's version (6.x = classic Notebook, 7.x = Notebook 7), null when missing. */
  notebook: string | null;
  /** Can execute notebooks headlessly (nbclient + nbformat). */
  nbclient: boolean;
  /** Why it could not be asked (not found, not runnable). */
  error?: string;
}

export interface JupyterPython {
  python: string;
  source: JupyterSource;
  /** "lab": JupyterLab; "notebook": the notebook package (classic 6.x or Notebook 7). */
  ui: "lab" | "notebook";
  /** The started UI's version. */
  version: string;
  nbclient: boolean;
  /** One line: why this Python and this UI. */
  why: string;
}

const SETUP_HINT = "scripts/setup/python-venv.sh (installs JupyterLab into the project's .venv)";

export const JUPYTER_MISSING = [
  "Jupyter was not found in any Python (tried $VALEMB_PYTHON, the project's .venv, python3 and python on PATH, /usr/bin/python3).",
  "Install it:",
  `  this project:  ${SETUP_HINT}`,
  "  Debian/Ubuntu: sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel",
  "  elsewhere:     pip install jupyterlab",
  "or set VALEMB_PYTHON=/path/to/python with Jupyter installed.",
].join("\n");

/** The repository root (where package.json is), found from this file. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json")) || !fs.existsSync(path.join(dir, "node_modules", "tslab"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no project root (package.json with node_modules/tslab) above ${__dirname}: run npm ci first`);
    dir = up;
  }
  return dir;
}

const PROBE = `
import importlib.util as u, json
from importlib.metadata import version
def ver(m):
    if u.find_spec(m) is None: return None
    try: return version(m)
    except Exception: return "?"
client = u.find_spec("jupyter_client") is not None
print(json.dumps({"lab": ver("jupyterlab") if client else None, "notebook": ver("notebook") if client else None,
  "nbclient": u.find_spec("nbclient") is not None and u.find_spec("nbformat") is not None}))`;

/** A command's full path on PATH, or null. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return null;
}

/** The Pythons to try, in order: $VALEMB_PYTHON alone when set; else the project's .venv, PATH, Debian's. */
export function jupyterCandidates(root: string, env: NodeJS.ProcessEnv = process.env): { python: string; source: JupyterSource }[] {
  if (env.VALEMB_PYTHON) return [{ python: env.VALEMB_PYTHON, source: "VALEMB_PYTHON" }];
  const list: { python: string; source: JupyterSource }[] = [{ python: path.join(root, ".venv", "bin", "python"), source: ".venv" }];
  for (const name of ["python3", "python"]) {
    const found = onPath(name, env);
    if (found) list.push({ python: found, source: "PATH" });
  }
  list.push({ python: "/usr/bin/python3", source: "Debian" });
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.python) && !!seen.add(c.python));
}

/** Asks one Python which Jupyter it has. */
export function probeJupyter(python: string, source: JupyterSource): JupyterProbe {
  const none = { python, source, lab: null, notebook: null, nbclient: false };
  if (path.isAbsolute(python) && !fs.existsSync(python)) return { ...none, error: "not found" };
  const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) return { ...none, error: r.error ? r.error.message : `exit status ${r.status}` };
  try {
    const found = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { lab: string | null; notebook: string | null; nbclient: boolean };
    return { python, source, ...found };
  } catch {
    return { ...none, error: "unexpected probe output" };
  }
}

const uiName = (ui: "lab" | "notebook", version: string) =>
  ui === "lab" ? `JupyterLab ${version}` : version.startsWith("6") ? `classic Notebook ${version}` : `Notebook ${version}`;

/** What a probe found, for messages: `.venv (/x/.venv/bin/python): JupyterLab 4.6.4, Notebook 7.6.3`. */
export function describeProbe(p: JupyterProbe): string {
  const has = [p.lab && `JupyterLab ${p.lab}`, p.notebook && uiName("notebook", p.notebook)].filter(Boolean).join(", ");
  return `${p.source} (${p.python}): ${p.error ?? (has || "no Jupyter")}`;
}

/** The chosen Jupyter, every Python asked, and a problem to report when none fits. */
export interface JupyterChoice {
  chosen: JupyterPython | null;
  probes: JupyterProbe[];
  problem?: string;
}

/**
 * Picks the Python and UI to serve the notebooks. JupyterLab first: $VALEMB_PYTHON when set (an
 * explicit choice: used, or reported, never skipped), else the first of the project's .venv, python3
 * and python on PATH, /usr/bin/python3 that has JupyterLab; when none has it, the first with the
 * notebook package. `classic` asks for the notebook package's UI instead (Notebook 7 or classic 6.x).
 */
export function chooseJupyter(opts: { classic?: boolean; root?: string; env?: NodeJS.ProcessEnv } = {}): JupyterChoice {
  const env = opts.env ?? process.env;
  const root = opts.root ?? projectRoot();
  const probes: JupyterProbe[] = [];
  const pick = (p: JupyterProbe, ui: "lab" | "notebook", why: string): JupyterChoice => ({
    chosen: { python: p.python, source: p.source, ui, version: (ui === "lab" ? p.lab : p.notebook) ?? "?", nbclient: p.nbclient, why }, probes,
  });
  const want = opts.classic ? "the notebook package (Notebook 7 or classic Notebook 6)" : "JupyterLab";
  for (const c of jupyterCandidates(root, env)) {
    const p = probeJupyter(c.python, c.source);
    probes.push(p);
    if (c.source === "VALEMB_PYTHON") {
      if (!opts.classic && p.lab) return pick(p, "lab", "VALEMB_PYTHON is set");
      if (p.notebook) return pick(p, "notebook", opts.classic ? "VALEMB_PYTHON is set; --classic asks for the notebook UI" : "VALEMB_PYTHON is set; it has no JupyterLab");
      return { chosen: null, probes, problem: `VALEMB_PYTHON=${c.python} has no Jupyter (${describeProbe(p)}): install jupyterlab into it, or unset VALEMB_PYTHON` };
    }
    if (!opts.classic && p.lab) return pick(p, "lab", `the first Python with JupyterLab, in the order .venv, PATH, /usr/bin/python3`);
  }
  const firstNotebook = probes.find((p) => p.notebook);
  if (firstNotebook) {
    return pick(firstNotebook, "notebook", opts.classic
      ? "--classic: the first Python with the notebook package, in the order .venv, PATH, /usr/bin/python3"
      : `no Python has JupyterLab (set it up: ${SETUP_HINT}); the first with the notebook package`);
  }
  return { chosen: null, probes, problem: `no Python has ${want}.\n${JUPYTER_MISSING}` };
}

/** The Jupyter the notebook command would start (JupyterLab first), or null. */
export function findJupyterPython(opts: { classic?: boolean; root?: string } = {}): JupyterPython | null {
  return chooseJupyter(opts).chosen;
}

/** A UI's name with its version, for messages: "JupyterLab 4.6.4", "classic Notebook 6.4.12". */
export function jupyterName(jp: JupyterPython): string {
  return uiName(jp.ui, jp.version);
}

/** Environment for Jupyter and its kernels: config, data, runtime and IPython dirs under .jupyter/. */
export function jupyterEnv(root = projectRoot(), base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dir = path.join(root, ".jupyter");
  return {
    ...base,
    JUPYTER_CONFIG_DIR: path.join(dir, "config"),
    JUPYTER_DATA_DIR: path.join(dir, "data"),
    JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
    IPYTHONDIR: path.join(dir, "ipython"),
    // kernelspecs installed under the project prefix are found first
    JUPYTER_PATH: [path.join(dir, "share", "jupyter"), base.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    JUPYTER_PLATFORM_DIRS: "1",
  };
}

/**
 * Writes the tslab kernelspec into .jupyter/share/jupyter/kernels/tslab: this Node, the project's
 * own tslab, and scripts/notebook-kernel.cjs preloaded (what `tslab install --prefix` writes, plus
 * the preload, without needing Python for it).
 * Returns the kernelspec folder.
 */
export function registerKernel(root = projectRoot()): string {
  const tslabBin = path.join(root, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(tslabBin)) throw new Error(`${tslabBin} is missing: run npm ci`);
  const hook = path.join(root, "scripts", "notebook-kernel.cjs"); // tsx + reload of edited src/
  const dir = path.join(root, ".jupyter", "share", "jupyter", "kernels", "tslab");
  fs.mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, "--require", hook, tslabBin, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (valemb)",
    language: "typescript",
    env: { VALEMB_ROOT: root },
  };
  const file = path.join(dir, "kernel.json");
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(spec, null, 1) + "\n");
  fs.renameSync(tmp, file);
  return dir;
}

/**
 * The project's Jupyter configuration, written into .jupyter/config (JUPYTER_CONFIG_DIR) before each
 * start: JupyterLab's news feed off (no "get notified about official Jupyter news?" popup over the
 * charts), and the same as a default in Lab's and Notebook 7's user settings (a user's own choice,
 * once made in Settings, is kept).
 */
export const JUPYTER_SERVER_CONFIG = { LabApp: { news_url: null } };
export const LAB_NOTIFICATION_SETTINGS = { fetchNews: "false", checkForUpdates: false };

function writeIfChanged(file: string, text: string | Buffer): void {
  if (fs.existsSync(file) && fs.readFileSync(file).equals(Buffer.from(text))) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * Writes the project's Jupyter config (see JUPYTER_SERVER_CONFIG) and the static folder the server
 * serves plotly.js from (so no notebook has to carry the 4.8 MB library). Returns that folder.
 */
export function writeJupyterConfig(root = projectRoot()): { configDir: string; staticDir: string } {
  const configDir = path.join(root, ".jupyter", "config");
  writeIfChanged(path.join(configDir, "jupyter_server_config.json"), JSON.stringify(JUPYTER_SERVER_CONFIG, null, 1) + "\n");
  const settings = path.join(configDir, "lab", "user-settings", "@jupyterlab", "apputils-extension", "notification.jupyterlab-settings");
  if (!fs.existsSync(settings)) writeIfChanged(settings, JSON.stringify(LAB_NOTIFICATION_SETTINGS, null, 1) + "\n");
  const staticDir = path.join(root, ".jupyter", "static");
  const asset = path.join(staticDir, plotlyStaticPath());
  if (!fs.existsSync(asset)) writeIfChanged(asset, plotlyBundle());
  return { configDir, staticDir };
}

/** Everything a Jupyter start needs from the project: the tslab kernelspec and the project's config. */
export function prepareJupyter(root = projectRoot()): { kernelDir: string; configDir: string; staticDir: string } {
  return { kernelDir: registerKernel(root), ...writeJupyterConfig(root) };
}

export interface ServerOptions {
  port: number;
  token: string;
  notebookDir: string;
  openBrowser?: boolean;
  root?: string;
}

/**
 * How to start the Jupyter server: JupyterLab or the notebook package's UI, on 127.0.0.1 with a token
 * (JUPYTER_TOKEN: read by Notebook 6 and jupyter_server alike), serving .jupyter/static (plotly.js).
 */
export function serverCommand(jp: JupyterPython, opts: ServerOptions): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const root = opts.root ?? projectRoot();
  const classic6 = jp.ui === "notebook" && jp.version.startsWith("6");
  const args = [
    "-m", jp.ui === "lab" ? "jupyterlab" : "notebook",
    "--ip=127.0.0.1", `--port=${opts.port}`, "--port-retries=0", `--notebook-dir=${opts.notebookDir}`,
    // classic Notebook 6 is its own server; Lab and Notebook 7 run on jupyter_server
    `--${classic6 ? "NotebookApp" : "ServerApp"}.extra_static_paths=${JSON.stringify([path.join(root, ".jupyter", "static")])}`,
  ];
  if (!opts.openBrowser) args.push("--no-browser");
  if (process.getuid?.() === 0) args.push("--allow-root"); // containers and CI run as root; Jupyter refuses without it
  return { command: jp.python, args, env: { ...jupyterEnv(root), JUPYTER_TOKEN: opts.token } };
}

/** The page to open: Lab's, Notebook 7's file tree, or classic Notebook's. */
export function jupyterUrl(jp: JupyterPython, port: number, token: string, notebook?: string): string {
  const page = notebook ? (jp.ui === "lab" ? `lab/tree/${notebook}` : `notebooks/${notebook}`) : (jp.ui === "lab" ? "lab" : "tree");
  return `http://127.0.0.1:${port}/${page}?token=${token}`;
}

export interface RunningJupyter {
  child: ChildProcess;
  /** Resolves once the server answers /api/status; rejects when it exits first or takes longer than `ms`. */
  ready: (ms?: number) => Promise<void>;
  /** Stops the server and everything it started (kernels). */
  stop: () => Promise<void>;
}

/**
 * Starts the server as `valemb notebook` does (prepareJupyter, then serverCommand), in its own process
 * group so stop() also ends its kernels.
 */
export function startJupyter(jp: JupyterPython, opts: ServerOptions & { env?: NodeJS.ProcessEnv; stdio?: "inherit" | "pipe" }): RunningJupyter {
  const root = opts.root ?? projectRoot();
  prepareJupyter(root);
  const cmd = serverCommand(jp, { ...opts, root });
  const child = spawn(cmd.command, cmd.args, {
    env: { ...cmd.env, ...(opts.env ?? {}) }, stdio: opts.stdio === "pipe" ? ["ignore", "pipe", "pipe"] : "inherit", detached: opts.stdio === "pipe",
  });
  const ready = async (ms = 60_000) => {
    const end = Date.now() + ms;
    const url = `http://127.0.0.1:${opts.port}/api/status?token=${opts.token}`;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${cmd.command} -m ${cmd.args[1]} exited (status ${child.exitCode ?? child.signalCode}) before answering`);
      try {
        if ((await fetch(url)).ok) return;
      } catch { /* not up yet */ }
      if (Date.now() > end) throw new Error(`Jupyter did not answer at ${url} within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      if (opts.stdio === "pipe") process.kill(-child.pid!, "SIGTERM"); else child.kill("SIGTERM");
    } catch { /* already gone */ }
    await exited;
  };
  return { child, ready, stop };
}
