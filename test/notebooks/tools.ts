// What the notebook and browser tests need from the machine. Outside CI a missing tool skips them
// with a loud message; in CI (CI set) it fails them, so they are never skipped silently there.

import * as fs from "node:fs";
import * as path from "node:path";
import { findChromium, findJupyterPython, jupyterEnv, registerKernel, type JupyterPython } from "../../src/viz";

export const ROOT = path.resolve(__dirname, "..", "..");
const inCI = !!process.env.CI && process.env.CI !== "0" && process.env.CI !== "false";

/** undefined when `ok`; else a skip reason (printed loudly), or throws in CI. */
export function requireTool(ok: boolean, what: string, install: string): string | undefined {
  if (ok) return undefined;
  const msg = `${what} is missing: ${install}`;
  if (inCI) throw new Error(`${msg} (CI is set: these tests must run, not skip)`);
  process.stderr.write(`\n!!!!!!!! SKIPPING: ${msg}\n\n`);
  return msg;
}

const APT_JUPYTER = "sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel";

export function jupyterOrSkip(): { jp: JupyterPython | null; skip?: string; env: NodeJS.ProcessEnv } {
  const jp = findJupyterPython();
  const skip = requireTool(!!jp && jp.nbclient, "Jupyter with nbclient", APT_JUPYTER);
  if (jp && !skip) registerKernel(ROOT);
  return { jp, skip, env: jupyterEnv(ROOT) };
}

export function chromiumOrSkip(): string | undefined {
  return requireTool(!!findChromium(), "Chromium", "sudo apt-get install chromium (or set CHROMIUM=/path/to/chrome)");
}

/** The committed notebooks: notebooks/*.ipynb. */
export function committedNotebooks(): string[] {
  const dir = path.join(ROOT, "notebooks");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(dir, f));
}

export type Output = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, any>; metadata?: Record<string, any> };
export type Cell = { cell_type: string; source: string | string[]; outputs?: Output[] };

export function readNotebook(file: string): { cells: Cell[] } {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

export const outputsOf = (nb: { cells: Cell[] }): Output[] => nb.cells.flatMap((c) => c.outputs ?? []);
export const textOf = (o: Output): string => (Array.isArray(o.text) ? o.text.join("") : o.text ?? "");
export const htmlOf = (o: Output): string => { const v = o.data!["text/html"]; return Array.isArray(v) ? v.join("") : v; };
