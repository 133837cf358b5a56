// How long-running commands (`train`, `run`) are asked to stop: SIGINT (Ctrl-C), SIGTERM (kill, Slurm)
// and, for a trainer started by a sweep, the sweep's IPC channel closing (the sweep died, even by kill -9).
// The first request stops after the current step; a second signal quits at once.

export type StopReason = "SIGINT" | "SIGTERM" | "parent gone";

/** Exit status for a command stopped this way (128 + signal number; 129, as for SIGHUP, when the parent is gone). */
export function stopExitCode(reason: StopReason): number {
  return reason === "SIGINT" ? 130 : reason === "SIGTERM" ? 143 : 129;
}

export interface StopRequests {
  /** Aborted on the first request. */
  signal: AbortSignal;
  /** Why it was aborted (null while it is not). */
  reason(): StopReason | null;
  /** Remove the handlers (the command is done). */
  dispose(): void;
}

/** Listen for stop requests; `onStop` runs once, on the first. */
export function listenForStop(onStop?: (reason: StopReason) => void): StopRequests {
  const controller = new AbortController();
  let reason: StopReason | null = null;
  let signals = 0;
  const request = (why: StopReason) => {
    // Only a second signal quits at once: a sweep closes the channel of a child that the same Ctrl-C reaches too.
    if (why !== "parent gone" && ++signals > 1) process.exit(stopExitCode(why));
    if (reason !== null) return;
    reason = why;
    onStop?.(why);
    controller.abort();
  };
  const onSigint = () => request("SIGINT");
  const onSigterm = () => request("SIGTERM");
  const onDisconnect = () => request("parent gone");
  // Writing progress into the dead parent's pipe must not crash the checkpoint that follows.
  const onStreamError = (err: NodeJS.ErrnoException) => { if (err.code !== "EPIPE") throw err; };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  if (process.send) {
    process.channel?.unref(); // the channel alone must not keep a finished command alive
    process.on("disconnect", onDisconnect);
    process.stderr.on("error", onStreamError);
    process.stdout.on("error", onStreamError);
    if (!process.connected) onDisconnect();
  }
  return {
    signal: controller.signal,
    reason: () => reason,
    dispose() {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      process.off("disconnect", onDisconnect);
    },
  };
}
