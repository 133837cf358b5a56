// valemb crossings: when each run first reaches the target loss, sorted by that time.
import { crossingRows, crossingTable, hasTime, loadAndSelect, toText, writeCsv } from "../../analysis";
import type { Command } from "../command";
import { parseOptions, UsageError } from "../options";

const usage = `usage: valemb crossings <path…> [--threshold 2.92] [--runs <names>] [--json] [--csv <file>] [--partial] [--attempts last|all]

  <path…>         raw modded-nanogpt logs, aggregated markdown files, run folders, or folders of these
  --threshold     target validation loss (default 2.92)
  --runs          comma-separated run names, '*' wildcards ("13,15,16", "25 *", "22-*")
  --json          print a JSON array: {run, crossingTimeS, crossingStep, finalLoss, finalStep, finalTimeS},
                  sorted by crossing time, never-crossed (null) last
  --csv <file>    also write the table as CSV
  --partial       keep runs that stop before their last step
  --attempts      last (default): of several runs in one log (its steps start again), read the last
                  complete one and say so; all: read each, named <log>#1, <log>#2, …`;

export const command: Command = {
  summary: "crossing time and step of a target loss, per run",
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      threshold: { default: 2.92 }, runs: {}, json: {}, csv: {}, partial: {}, attempts: { default: "last" },
    }, { positionals: true });
    const threshold = values.threshold;
    if (positionals.length === 0) throw new UsageError("no input paths");
    const loaded = loadAndSelect(positionals, { runs: values.runs, keepIncomplete: values.partial, attempts: values.attempts });
    for (const m of loaded.messages) process.stderr.write(`${m}\n`);
    if (loaded.runs.length === 0) {
      process.stderr.write("crossings: no usable runs in the input (see the messages above)\n");
      return 1;
    }
    const untimed = loaded.runs.filter((r) => !hasTime(r)).map((r) => `'${r.name}'`);
    if (untimed.length) process.stderr.write(`crossings: ${untimed.join(", ")}: no training time in the log (llm.c); crossing time null, crossing step given\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(crossingRows(loaded.runs, threshold), null, 2)}\n`);
    if (!values.json || values.csv) {
      const df = crossingTable(loaded.runs, threshold);
      if (!values.json) {
        const text = toText(df, { digits: { crossingTimeS: 2, crossingStep: 1, finalLoss: 6, finalTimeS: 3 }, missing: "never" });
        process.stdout.write(`crossing of val_loss ${threshold} (time in s of training)\n${text}\n`);
      }
      if (values.csv) {
        writeCsv(df, values.csv);
        process.stderr.write(`crossings: wrote ${values.csv}\n`);
      }
    }
    return 0;
  },
};
