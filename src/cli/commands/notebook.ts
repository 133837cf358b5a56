// `valemb notebook` (= `npm run notebook`): register the tslab kernel and the project's Jupyter config
// in .jupyter/, and serve notebooks/ with JupyterLab (or, with --classic, the notebook package's UI)
// on 127.0.0.1, saying which Jupyter it started and why.

import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { Command } from "../command";
import { parseOptions } from "../options";
import { chooseJupyter, describeProbe, jupyterName, jupyterUrl, prepareJupyter, projectRoot, startJupyter } from "../../viz";

const usage = `usage: valemb notebook [--classic] [--port N] [--browser|--no-browser] [--check]

Registers the TypeScript (tslab) kernel and the project's Jupyter config in .jupyter/ (nothing in
$HOME) and serves notebooks/ on 127.0.0.1 with a fresh token. Stop it with Ctrl-C.

Which Jupyter: JupyterLab from the first of $VALEMB_PYTHON (when set, only it), the project's .venv
(scripts/setup/python-venv.sh), python3/python on PATH, /usr/bin/python3; when none has JupyterLab,
the first with the notebook package (Notebook 7 or classic Notebook 6).

  --classic       the notebook package's UI instead of JupyterLab (Notebook 7, or classic Notebook 6)
  --port N        port to listen on (default: the first free one from 8888)
  --browser       open a web browser (default: only when a desktop session is detected)
  --no-browser    never open one
  --check         only register the kernel and config and print what was found, then exit`;

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
  summary: "serve the notebooks in JupyterLab (tslab kernel, local to this project)",
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, { classic: {}, port: {}, browser: {}, "no-browser": {}, check: {} });
    const root = projectRoot();
    const choice = chooseJupyter({ classic: values.classic, root });
    const tried = choice.probes.map((p) => `  ${describeProbe(p)}`).join("\n");
    const jp = choice.chosen;
    if (!jp) {
      process.stderr.write(`valemb notebook: ${choice.problem}\nPythons asked:\n${tried}\n`);
      return 1;
    }
    const { kernelDir, configDir } = prepareJupyter(root);
    const link = path.join(root, "notebooks", "src");
    const linkOk = fs.existsSync(path.join(link, "viz", "index.ts"));
    process.stderr.write(`jupyter: ${jupyterName(jp)} from ${jp.python} (${jp.source})\n` +
      `why:     ${jp.why}\nasked:\n${tried}\nkernel:  ${kernelDir}\nconfig:  ${configDir}\n`);
    if (!linkOk) {
      process.stderr.write(`warning: ${link} should be a symlink to ../src (notebooks import "./src/<folder>"); recreate it: ln -s ../src ${link}\n`);
    }
    if (values.check) return linkOk ? 0 : 1;

    const chosenPort = values.port ?? await pickPort();
    const desktop = process.platform === "darwin" || process.platform === "win32" || !!process.env.DISPLAY || !!process.env.WAYLAND_DISPLAY;
    const openBrowser = values["no-browser"] ? false : values.browser || desktop;
    const token = randomBytes(24).toString("hex");
    const url = jupyterUrl(jp, chosenPort, token);
    process.stderr.write(`\nstarting ${jupyterName(jp)} on ${url}\n\n`);
    const server = startJupyter(jp, { port: chosenPort, token, notebookDir: path.join(root, "notebooks"), openBrowser, root, stdio: "inherit" });
    const forward = (sig: NodeJS.Signals) => () => server.child.kill(sig);
    process.on("SIGINT", forward("SIGINT"));
    process.on("SIGTERM", forward("SIGTERM"));
    // Jupyter's own log scrolls the first URL away: say it again once the server answers
    server.ready(120_000).then(
      () => process.stderr.write(`\n${jupyterName(jp)} is running. Open:\n\n    ${url}\n\n(Ctrl-C stops it)\n\n`),
      () => undefined, // the exit handler below reports a failed start
    );
    return new Promise<number>((resolve) => {
      server.child.on("error", (e) => {
        process.stderr.write(`valemb notebook: could not start ${jp.python}: ${e.message}\n`);
        resolve(1);
      });
      server.child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 0 : 1)));
    });
  },
};
