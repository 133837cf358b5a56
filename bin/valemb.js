#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (tsx), so there is no build step to forget.
require("tsx/cjs");
require("../src/cli/main.ts")
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`valemb: ${err && err.message ? err.message : String(err)}\n`);
    if (process.env.VALEMB_DEBUG) process.stderr.write(`${err && err.stack}\n`);
    process.exitCode = 1;
  });
