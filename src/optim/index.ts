// Optimizers: Adam + Muon as in the speedrun, and their schedules.
export type { TrainableParam, StateTensor } from "./types";
export { gradOf } from "./types";
export { lrFactor, muonMomentum } from "./schedule";
export { Adam } from "./adam";
export type { AdamOptions } from "./adam";
export { Muon, newtonSchulz5, NS5_COEFFICIENTS } from "./muon";
export type { MuonOptions } from "./muon";
export { SpeedrunOptimizer, SPEEDRUN_OPTIMIZER } from "./optimizer";
export type { OptimizerConfig } from "./optimizer";
