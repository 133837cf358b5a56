// The shapes every analysis function shares: a run is a named list of evaluations.

/**
 * One validation evaluation. `timeS` is training time in seconds (the clock stops during validation);
 * null when the log does not say (llm.c's `s:N tel:X` lines): such a run has a crossing step, no crossing time.
 */
export interface EvalPoint {
  step: number;
  valLoss: number;
  timeS: number | null;
  /** The model's learned scalars at this evaluation, family → value per layer (null: unused there); our runs only. */
  scalars?: LayerScalars;
}

/** Learned scalars by family (`lambda_ve`, `lambda_v`, `lambda_x`, `lambda_x0`, `skip_w`), each indexed by layer. */
export type LayerScalars = Record<string, (number | null)[]>;

export interface Run {
  name: string;
  /** Where the run came from: a file, `file:line` for a run inside an aggregated file, or a run folder. */
  source: string;
  /** Strictly increasing in step, time never going back, all losses finite and >= 0; one training attempt. */
  evals: EvalPoint[];
  /** Planned number of steps (the `N` of `step:k/N`), null when the source does not say. */
  totalSteps: number | null;
  /** Whatever the source tells about the run (meta.json, versions and GPUs of a raw log, …). */
  meta: Record<string, unknown>;
}

/** Something wrong in an input; the loader reports it and goes on with the other runs. */
export interface LoadProblem {
  file: string;
  line?: number;
  run?: string;
  message: string;
  /** Not a problem but something the reader chose and says (which of several runs in a file it read). */
  note?: boolean;
}

export interface LoadOptions {
  /** Keep runs whose last evaluation is before their total steps (a crash, a run still going). Default false. */
  keepIncomplete?: boolean;
  /** Several runs in one log (its steps start again): "last" (default) reads the last complete one, "all" reads each as `<name>#k`. */
  attempts?: "last" | "all";
  /** Files larger than this are named and skipped (default 8 GiB: no training log is that large). */
  maxFileBytes?: number;
}

export interface LoadResult {
  runs: Run[];
  problems: LoadProblem[];
}

export type Axis = "time" | "step";
