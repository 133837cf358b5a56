// The run types viz draws come from src/analysis.
export type { EvalPoint, Run } from "../analysis";
