// The post's sections as data, the sweep that trains them, and their results measured like the post.
export { HEADLINE, SECTIONS, SECTION_NAMES, getSection, selectVariants } from "./sections";
export type { ChartSpec, SectionSpec, Variant } from "./sections";
export { copyRun, defaultRoot, planSweep, prepareSweep, readRunMeta, removeCopyLeftovers, runDir, runSweep } from "./runner";
export type { PlannedRun, RunRequest, RunState, SweepEvent, SweepOptions, SweepResult } from "./runner";
export { SweepProgress } from "./progress";
export { acquireLock } from "./lock";
export {
  caption, finalsBySeed, pairedDiff, rankingByVariant, rankingCaption, rankingTableRows, rankVariants, runSeed, sectionResults, sectionTableCaption, sectionTableRows, targetLoss,
  variantLabels, variantTable, variantsByCrossing, windowText,
} from "./results";
export type { PairedDiff, SectionResults, TargetLoss, VariantResult } from "./results";
export { scalarFigures, sectionFigures } from "./figures";
export { SweepStoppedError, childBackend, identityResolver, runSection } from "./section";
export { arrayScript, checkClusterSettings, readClusterSettings, sectionSlurmStatus, submitSlurm } from "./slurm";
export type { ArrayScript, ClusterSettings, RunStatus, SubmitOptions, SubmitResult, TaskState } from "./slurm";
export type { RunSectionOptions } from "./section";
export { layoutFigure, parameterCount, presetRows, presetTable, runCommand, sectionLayoutFigure, sectionStatus } from "./overview";
export type { SectionStatus } from "./overview";
export { POST_FINDINGS, checkClaim, conclusionHtml, runScale, sectionConclusion, seedSummaryRows, speedrunScale } from "./conclusion";
export type { ClaimCheck, Conclusion, ConclusionOptions, PostClaim, PostFinding, RunScale } from "./conclusion";
export {
  POST_ADDING_CROSSINGS, SPEEDRUN_TARGET, parsePostFigure, postCrossingTable, postFigures, postRankingTable, postRanking, postRunLabels, postRuns,
  tTestFigures, tTestGroups, tTestTable, tTestWelch,
} from "./published";
export {
  HEADLINE_PRESET, finalScalarTable, frameworkComparison, frameworkTable, headlineResults, pairedComparison, pairedFindings, pairedSummaryHtml, pairedTable, powerEstimate, variantScalarGrids,
} from "./paired";
export type { FrameworkRow, PairedRow, PowerEstimate } from "./paired";
export { BASELINE_COLOR, TTEST_RUN_VARIANTS, chartStyle, sectionColors, variantColorTable, variantForRun } from "./styles";
