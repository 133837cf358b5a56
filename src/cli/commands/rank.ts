// valemb rank: which run is ahead over a window of training (the post's "order before the crossing").
import { loadAndSelect, rankingTable, rankRuns, toText, writeCsv, type Axis } from "../../analysis";
import type { Command } from "../command";
import { parseOptions, UsageError } from "../options";

const usage = `usage: valemb rank <path…> --from <t> --to <t> [--axis time|step] [--runs <names>] [--ref <run>] [--points <n>] [--json] [--csv <file>] [--partial]

  --from, --to    the window, in seconds of training (or steps with --axis step); it is cut to
                  the part every run covers
  --ref           the run the loss gaps are measured to (default: the best-ranked run)
  --points        grid points in the window (default 101)
  --runs          comma-separated run names, '*' wildcards
  --json          print a JSON array, best first: {run, meanRank, meanLoss, meanGapToRef}
  --csv <file>    also write the table as CSV
  --partial       keep runs that stop before their last step
  --attempts      last (default): of several runs in one log (its steps start again), read the last
                  complete one and say so; all: read each, named <log>#1, <log>#2, …`;

export const command: Command = {
  summary: "rank runs by their loss over a window of training",
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      from: { required: true }, to: { required: true }, axis: { default: "time" }, runs: {}, ref: {},
      points: { default: 101 }, json: {}, csv: {}, partial: {}, attempts: { default: "last" },
    }, { positionals: true });
    const { from, to, points } = values;
    if (positionals.length === 0) throw new UsageError("no input paths");
    if (!(from <= to)) throw new UsageError(`--from ${from} is after --to ${to}`);
    const axis: Axis = values.axis;
    const loaded = loadAndSelect(positionals, { runs: values.runs, keepIncomplete: values.partial, attempts: values.attempts });
    for (const m of loaded.messages) process.stderr.write(`${m}\n`);
    if (loaded.runs.length === 0) {
      process.stderr.write("rank: no usable runs in the input (see the messages above)\n");
      return 1;
    }
    let ranking;
    try {
      ranking = rankRuns(loaded.runs, { from, to, axis, ref: values.ref, points });
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      return 1;
    }
    const unit = axis === "time" ? " s" : " steps";
    if (ranking.clipped) process.stderr.write(`rank: window cut to [${ranking.from}, ${ranking.to}]${unit}, the part every run covers\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(ranking.rows, null, 2)}\n`);
    if (!values.json || values.csv) {
      const df = rankingTable(ranking);
      if (!values.json) {
        process.stdout.write(`ranking over ${axis} ${ranking.from}–${ranking.to}${unit} (${ranking.points} points), gaps to '${ranking.ref}'\n`);
        process.stdout.write(`${toText(df, { digits: { meanRank: 2, meanLoss: 6, meanGapToRef: 6 } })}\n`);
      }
      if (values.csv) {
        writeCsv(df, values.csv);
        process.stderr.write(`rank: wrote ${values.csv}\n`);
      }
    }
    return 0;
  },
};
