// One CLI for everything a notebook can do. Each command lives in its own file under commands/,
// loaded only when called so that `valemb doctor` does not pay for Plotly or Jupyter. Options are
// declared once for all commands in options.ts.
import type { Command } from "./command";
import { UsageError } from "./options";

export type { Command } from "./command";

const commands: Record<string, () => Command> = {
  doctor: () => require("./commands/doctor").command,
  train: () => require("./commands/train").command,
  plan: () => require("./commands/plan").command,
  data: () => require("./commands/data").command,
  crossings: () => require("./commands/crossings").command,
  rank: () => require("./commands/rank").command,
  ttest: () => require("./commands/ttest").command,
  run: () => require("./commands/run").command,
  export: () => require("./commands/export").command,
  notebook: () => require("./commands/notebook").command,
};

function help(): string {
  const lines = ["usage: valemb <command> [options]", "", "commands:"];
  for (const [name, load] of Object.entries(commands)) {
    let summary = "(not available)";
    try { summary = load().summary; } catch { /* command file not there yet */ }
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  lines.push("", "`valemb <command> --help` shows a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help() + "\n");
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`valemb: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  const cmd = load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`valemb ${name}: ${e.message}\n(\`valemb ${name} --help\` lists the options)\n`);
    return 2;
  }
}
