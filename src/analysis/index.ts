// Analysis of training runs, ours and the PyTorch speedrun's: load logs, measure crossing times and
// rankings, compare groups of seeds, test significance, and tabulate. Nothing here trains or plots.
export type { Axis, EvalPoint, LayerScalars, LoadOptions, LoadProblem, LoadResult, Run } from "./types";
export { formatProblem, isRunFolder, loadAndSelect, loadRuns } from "./load";
export { DEFAULT_MAX_FILE_BYTES } from "./load";
export { fileLines, textLines } from "./lines";
export type { SourceLine } from "./lines";
export { parseEvalsRecord, parseLlmcLine, parseRawLog, parseRunLine, parseRunText, parseStepLine, RunReader } from "./parse";
export type { LogFormat, ReadOptions, RunReaderOptions, StepRecord } from "./parse";
export { matchesRunPattern, parseRunPatterns, selectRuns } from "./select";
export {
  commonWindow, crossing, crossingStep, crossingTime, finalEval, hasTime, linearGrid, lossAt, rankRuns, timeOf,
} from "./measure";
export type { Crossing, RankOptions, RankRow, Ranking } from "./measure";
export { groupCurve, groupRuns, seedGroupName, summarizeGroup, summarizeGroups } from "./groups";
export type { GroupCurve, GroupSummary, RunGroup } from "./groups";
export { mean, oneSampleTTest, pairedTTest, pooledStd, sampleStd, seedsForDifference, welchTTest } from "./stats";
export type { OneSampleTTest, PairedTTest, SampleSummary, WelchTTest } from "./stats";
export {
  crossingRows, crossingTable, escapeHtml, frame, formatRows, groupTable, rankingTable, toCsv, toHtml, toText, writeCsv,
} from "./tables";
export type { CrossingRow, HtmlOptions } from "./tables";
export { finalScalars, scalarGrid } from "./scalars";
export type { ScalarGrid } from "./scalars";
