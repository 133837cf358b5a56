// `valemb notebook` (= `npm run notebook`): register the tslab kernel in the project's .jupyter/ and
// serve notebooks/ with JupyterLab (classic Notebook when Lab is not installed) on 127.0.0.1.

import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { Command } from "../main";
import { parseOptions } from "../options";
import { findJupyterPython, JUPYTER_MISSING, projectRoot, registerKernel, serverCommand } from "../../viz";

const usage = `usage: valemb notebook [--port N] [--browser|--no-browser] [--check]

Registers the TypeScript (tslab) kernel in .jupyter/ (project-local; nothing in $HOME) and starts
JupyterLab, or classic Notebook when JupyterLab is not installed, on 127.0.0.1 with a fresh token,
serving notebooks/. Stop it with Ctrl-C.

  --port N        port to listen on (default: the first free one from 8888)
  --browser       open a web browser (default: only when a desktop session is detected)
  --no-browser    never open one
  --check         only register the kernel and print what was found, then exit`;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer().once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function pickPort(): Promise<number> {
  for (let p = 8888; p < 8900; p++) if (await portIsFree(p)) return p;
  throw new Error("ports 8888-8899 are all taken: pass --port N");
}

export const command: Command = {
  summary: "serve the notebooks in Jupyter (tslab kernel, local to this project)",
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { port: {}, browser: {}, "no-browser": {}, check: {} });
    const root = projectRoot();
    const jp = findJupyterPython();
    if (!jp) {
      process.stderr.write(`valemb notebook: ${JUPYTER_MISSING}\n`);
      return 1;
    }
    const kernelDir = registerKernel(root);
    const link = path.join(root, "notebooks", "src");
    const linkOk = fs.existsSync(path.join(link, "viz", "index.ts"));
    process.stderr.write(`jupyter: ${jp.python} (${jp.ui === "lab" ? "JupyterLab" : "classic Notebook"})\nkernel:  ${kernelDir}\n`);
    if (!linkOk) {
      process.stderr.write(`warning: ${link} should be a symlink to ../src (notebooks import "./src/<folder>"); recreate it: ln -s ../src ${link}\n`);
    }
    if (values.check) return linkOk ? 0 : 1;

    const port = values.port ?? await pickPort();
    const desktop = process.platform === "darwin" || process.platform === "win32" || !!process.env.DISPLAY || !!process.env.WAYLAND_DISPLAY;
    const openBrowser = values["no-browser"] ? false : values.browser || desktop;
    const token = randomBytes(24).toString("hex");
    const cmd = serverCommand(jp, { port, token, notebookDir: path.join(root, "notebooks"), openBrowser, root });
    process.stderr.write(`\nOpen: http://127.0.0.1:${port}/?token=${token}\n\n`);
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: "inherit" });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    process.on("SIGINT", forward("SIGINT"));
    process.on("SIGTERM", forward("SIGTERM"));
    return new Promise<number>((resolve) => {
      child.on("error", (e) => {
        process.stderr.write(`valemb notebook: could not start ${cmd.command}: ${e.message}\n`);
        resolve(1);
      });
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 0 : 1)));
    });
  },
};
