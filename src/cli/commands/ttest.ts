// valemb ttest: is a group's mean final loss below the target (one-sided one-sample t-test), or do
// two groups differ in final loss and crossing time (Welch's t-test)?
import {
  crossingTime, finalEval, loadAndSelect, oneSampleTTest, selectRuns, welchTTest,
  type Run, type WelchTTest,
} from "../../analysis";
import type { Command } from "../command";
import { parseOptions, UsageError } from "../options";

const usage = `usage: valemb ttest <path…> --runs <names> [--threshold 2.92] [--vs <names>] [--level 0.95] [--json] [--partial]

  --runs          the group: comma-separated run names, '*' wildcards ("25 *")
  --threshold     target validation loss (default 2.92)
  --level         confidence level of the bounds (default 0.95)
  --json          print {n, mean, std, t, p, upperBound, threshold, …}: one-sided test that the mean
                  final loss is below the threshold, upperBound its one-sided upper confidence bound
  --vs <names>    a second group: Welch's t-test between the two groups (first minus second)
                  for final loss and for crossing time of the threshold (runs that cross)
  --partial       keep runs that stop before their last step
  --attempts      last (default): of several runs in one log (its steps start again), read the last
                  complete one and say so; all: read each, named <log>#1, <log>#2, …`;

const fmt = (x: number, d = 6) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const fmtP = (p: number) => (p < 1e-4 ? p.toExponential(3) : p.toFixed(4));

function welchText(title: string, w: WelchTTest, d: number): string {
  return [
    `${title}:`,
    `  first:  n ${w.a.n}, mean ${fmt(w.a.mean, d)}, std ${fmt(w.a.std, d)}`,
    `  second: n ${w.b.n}, mean ${fmt(w.b.mean, d)}, std ${fmt(w.b.std, d)}`,
    `  difference ${fmt(w.diff, d)}, ${Math.round(w.level * 100)}% CI [${fmt(w.ciLow, d)}, ${fmt(w.ciHigh, d)}]`,
    `  t ${fmt(w.t, 3)}, df ${fmt(w.df, 1)}, p two-sided ${fmtP(w.p)}, p(first < second) ${fmtP(w.pLess)}`,
  ].join("\n");
}

export const command: Command = {
  summary: "t-tests of final losses (vs the target, or between two groups)",
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      runs: { required: true }, vs: {}, threshold: { default: 2.92 }, level: { default: 0.95 }, json: {}, partial: {}, attempts: { default: "last" },
    }, { positionals: true });
    const { threshold, level } = values;
    if (positionals.length === 0) throw new UsageError("no input paths");
    const loaded = loadAndSelect(positionals, { keepIncomplete: values.partial, attempts: values.attempts });
    const a = selectRuns(loaded.runs, values.runs);
    const b = values.vs === undefined ? null : selectRuns(loaded.runs, values.vs);
    for (const m of loaded.messages) process.stderr.write(`${m}\n`);
    for (const [flag, sel] of [["--runs", a], ["--vs", b]] as const) {
      for (const p of sel?.unmatched ?? []) process.stderr.write(`${flag}: no run named like '${p}' (${loaded.runs.length} runs loaded)\n`);
    }
    const tooFew = (flag: string, runs: Run[]) => {
      process.stderr.write(`ttest: ${flag} selects ${runs.length} usable run${runs.length === 1 ? "" : "s"}; a t-test needs at least 2\n`);
      return 1;
    };
    if (a.runs.length < 2) return tooFew("--runs", a.runs);
    const finals = (runs: Run[]) => runs.map((r) => finalEval(r)!.valLoss);

    if (!b) {
      const test = oneSampleTTest(finals(a.runs), threshold, { level });
      if (values.json) {
        const { n, mean, std, t, p, upperBound } = test;
        process.stdout.write(`${JSON.stringify({ n, mean, std, t, p, upperBound, threshold, df: test.df, level, lowerBound: test.lowerBound }, null, 2)}\n`);
      } else {
        process.stdout.write([
          `final val_loss of ${test.n} runs (${values.runs}) vs ${threshold}, one-sided (mean < ${threshold}):`,
          `  mean ${fmt(test.mean)}, std ${fmt(test.std)}, t ${fmt(test.t, 3)} (df ${test.df}), p ${fmtP(test.p)}`,
          `  ${Math.round(level * 100)}% upper confidence bound of the mean: ${fmt(test.upperBound)}`,
        ].join("\n") + "\n");
      }
      return 0;
    }

    if (b.runs.length < 2) return tooFew("--vs", b.runs);
    const both = a.runs.filter((r) => b.runs.includes(r));
    if (both.length) {
      process.stderr.write(`ttest: runs in both groups: ${both.map((r) => `'${r.name}'`).join(", ")}; make --runs and --vs disjoint\n`);
      return 2;
    }
    const finalLoss = welchTTest(finals(a.runs), finals(b.runs), { level });
    const crossed = (runs: Run[]) => runs.map((r) => crossingTime(r, threshold)).filter((t): t is number => t !== null);
    const notCrossed = (runs: Run[]) => runs.filter((r) => crossingTime(r, threshold) === null).map((r) => r.name);
    const ta = crossed(a.runs);
    const tb = crossed(b.runs);
    let crossingTimeS: (WelchTTest & { notCrossed: { first: string[]; second: string[] } }) | null = null;
    if (ta.length >= 2 && tb.length >= 2) {
      crossingTimeS = { ...welchTTest(ta, tb, { level }), notCrossed: { first: notCrossed(a.runs), second: notCrossed(b.runs) } };
    } else {
      process.stderr.write(`ttest: crossing time not tested: ${ta.length} and ${tb.length} runs cross ${threshold}; each group needs 2\n`);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ threshold, level, first: values.runs, second: values.vs, finalLoss, crossingTimeS }, null, 2)}\n`);
    } else {
      const lines = [`Welch's t-test, first = ${values.runs}, second = ${values.vs}`, welchText("final val_loss", finalLoss, 6)];
      if (crossingTimeS) {
        lines.push(welchText(`time to reach ${threshold} (s; runs that reach it)`, crossingTimeS, 2));
        const nc = crossingTimeS.notCrossed;
        if (nc.first.length || nc.second.length) lines.push(`  never reach it: first ${nc.first.length}, second ${nc.second.length} (left out of this test)`);
      }
      process.stdout.write(lines.join("\n") + "\n");
    }
    return 0;
  },
};
