// The speedrun's schedules: learning rate (stable, then linear cooldown to 0) and Muon momentum warmup.

/** LR multiplier at `step` (0-based): 1 for the first (1 − cooldownFrac) of training, then linear down to 0 at totalSteps. */
export function lrFactor(step: number, totalSteps: number, cooldownFrac = 0.7): number {
  if (!(totalSteps > 0)) throw new Error(`lrFactor: totalSteps must be positive, got ${totalSteps}`);
  if (!(cooldownFrac >= 0 && cooldownFrac <= 1)) throw new Error(`lrFactor: cooldownFrac must be in [0, 1], got ${cooldownFrac}`);
  const x = step / totalSteps; // progress in training
  if (x < 1 - cooldownFrac) return 1;
  return Math.max(0, (1 - x) / cooldownFrac);
}

/** Muon momentum at `step`: linear from `start` to `end` over the first warmupSteps steps, then `end`. */
export function muonMomentum(step: number, warmupSteps = 300, start = 0.85, end = 0.95): number {
  const frac = warmupSteps > 0 ? Math.min(step / warmupSteps, 1) : 1;
  return (1 - frac) * start + frac * end;
}
