// Preloaded into the tslab kernel (kernel.json: node --require this tslab kernel …).
//
// tslab type-checks a notebook's imports itself, but at run time it only finds files, not folders:
// `import … from "./src/viz"` falls through to Node's require. Registering tsx makes that require
// load the project's TypeScript (folder index.ts included), one copy per module, as the CLI does.
// And so that edits to src/ show up without restarting the kernel: when a notebook cell imports
// from src/ and any loaded src/ file changed on disk since, all of src/ is dropped from the module
// cache and loads afresh (re-run the import cell after an edit).
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

const root = process.env.VALEMB_ROOT || path.resolve(__dirname, "..");
require(require.resolve("tsx/cjs", { paths: [root] }));

const srcDir = fs.realpathSync(path.join(root, "src")) + path.sep;
const loaded = new Map(); // file under src/ → mtime when loaded

function mtime(file) {
  try { return fs.statSync(file).mtimeMs; } catch { return -1; }
}

function dropStaleSrc() {
  let stale = false;
  for (const [file, t] of loaded) if (mtime(file) !== t) { stale = true; break; }
  if (!stale) return;
  for (const file of Object.keys(require.cache)) if (file.startsWith(srcDir)) delete require.cache[file];
  loaded.clear();
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  const from = (parent && parent.filename) || "";
  const fromNotebook = !from.startsWith(srcDir) && !from.includes(`${path.sep}node_modules${path.sep}`);
  if (fromNotebook && request.startsWith(".")) dropStaleSrc();
  const result = load.call(this, request, parent, isMain);
  if (fromNotebook) {
    for (const file of Object.keys(require.cache)) if (file.startsWith(srcDir) && !loaded.has(file)) loaded.set(file, mtime(file));
  }
  return result;
};
