// Training: presets, the trainer, the run-folder formats, checkpoints.
export { TRAIN_PRESETS } from "./presets";
export { NUMERICS_VERSION, numericsFingerprint } from "./numerics";
export type { TrainPreset } from "./presets";
export { train, runIdentity, codeVersion, TrainDivergedError, DEFAULT_DATA_DIR } from "./trainer";
export type { TrainOptions, TrainProgress, RunResult } from "./trainer";
export { LOG_LINE_RE, formatValLine, formatTrainLine, evalRecord } from "./log";
export type { EvalRecord } from "./log";
export { RUN_FILES, RUN_LOCK_FILE, TEMP_FILE_RE, runFiles, readMeta, readEvals, openRunFolder, lockRunFolder, runFolderOwner, removeLeftovers } from "./run-folder";
export type { RunMeta, RunFiles, OpenedFolder } from "./run-folder";
export { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint } from "./checkpoint";
export type { CheckpointState, TensorEntry } from "./checkpoint";
export { speedrunOptimizer } from "./optimizer";
export type { StepOptimizer, OptimizerFactory, OptimizerSettings } from "./optimizer";
export { startEngine } from "./engine";
export type { EngineSummary } from "./engine";
export { planTraining, parameterCounts, activationBytes, flopsPerStep, describePlan } from "./plan";
export type { Plan, PlanInput } from "./plan";
export { accumulatedLossAndGrads } from "./accumulate";
