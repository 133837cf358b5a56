// Jupyter for this project: a Python that has it, the tslab kernel registered in a project-local
// prefix (.jupyter/, gitignored), and every bit of Jupyter state kept out of $HOME.

import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface JupyterPython {
  python: string;
  /** "lab" when JupyterLab is importable, else "notebook" (classic 6.x or notebook 7). */
  ui: "lab" | "notebook";
  /** Can execute notebooks headlessly (nbclient + nbformat). */
  nbclient: boolean;
}

export const JUPYTER_MISSING = [
  "Jupyter was not found in any Python (tried $VALEMB_PYTHON, /usr/bin/python3, python3, python).",
  "Install it:",
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
has = lambda m: u.find_spec(m) is not None
print(json.dumps({"jupyter": has("jupyter_client") and (has("notebook") or has("jupyterlab")),
  "lab": has("jupyterlab"), "nbclient": has("nbclient") and has("nbformat")}))`;

/**
 * The first Python with Jupyter: $VALEMB_PYTHON, then Debian's /usr/bin/python3 (a pyenv python3
 * earlier on PATH often lacks Jupyter), then python3 and python on PATH.
 */
export function findJupyterPython(): JupyterPython | null {
  const candidates = [process.env.VALEMB_PYTHON, "/usr/bin/python3", "python3", "python"].filter((p): p is string => !!p);
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) continue;
    try {
      const found = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { jupyter: boolean; lab: boolean; nbclient: boolean };
      if (found.jupyter) return { python, ui: found.lab ? "lab" : "notebook", nbclient: found.nbclient };
    } catch { /* not our JSON: try the next one */ }
  }
  return null;
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

export interface ServerOptions {
  port: number;
  token: string;
  notebookDir: string;
  openBrowser?: boolean;
  root?: string;
}

/**
 * How to start the Jupyter server: JupyterLab when installed, else classic Notebook, on 127.0.0.1
 * with a token (JUPYTER_TOKEN: read by Notebook 6 and jupyter_server alike).
 */
export function serverCommand(jp: JupyterPython, opts: ServerOptions): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const args = [
    "-m", jp.ui === "lab" ? "jupyterlab" : "notebook",
    "--ip=127.0.0.1", `--port=${opts.port}`, "--port-retries=0", `--notebook-dir=${opts.notebookDir}`,
  ];
  if (!opts.openBrowser) args.push("--no-browser");
  if (process.getuid?.() === 0) args.push("--allow-root"); // containers and CI run as root; Jupyter refuses without it
  return { command: jp.python, args, env: { ...jupyterEnv(opts.root), JUPYTER_TOKEN: opts.token } };
}
