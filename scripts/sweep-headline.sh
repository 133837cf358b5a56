#!/usr/bin/env bash
# The headline sweep of issue 16: the tiny-long preset (400 steps) for each section's headline variants,
# baseline and add-2 first (they also serve the PyTorch comparison), then seed by seed across the sections
# so that a sweep cut short has every variant at its first seeds. Rerun the same command to resume:
# finished runs are skipped, interrupted ones resume from their checkpoint.
#   SEEDS (5)  BACKEND (tensorflow)  JOBS (2)  THREADS (1)  ROOT (data/runs-tiny-long)
set -uo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-5} BACKEND=${BACKEND:-tensorflow} JOBS=${JOBS:-2} THREADS=${THREADS:-1} ROOT=${ROOT:-data/runs-tiny-long}
# libtensorflow reads its thread counts once, at load
export TF_NUM_INTRAOP_THREADS=${TF_NUM_INTRAOP_THREADS:-$THREADS} TF_NUM_INTEROP_THREADS=${TF_NUM_INTEROP_THREADS:-$THREADS}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
run() {
  echo "$(stamp) valemb run $* (preset tiny-long, $JOBS jobs × $THREADS thread, $BACKEND)"
  local rc=0
  node bin/valemb.js run "$@" --preset tiny-long --root "$ROOT" --jobs "$JOBS" --threads "$THREADS" --backend "$BACKEND" || rc=$?
  # $? is read before $(stamp) runs, which would reset it
  if [ "$rc" -ne 0 ]; then echo "$(stamp) failed (exit $rc): valemb run $*; going on with the next part"; fi
}

echo "$(stamp) headline sweep: $SEEDS seeds, root $ROOT, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
run adding --variants baseline,add-2 --seeds "$SEEDS"
for n in $(seq 1 "$SEEDS"); do
  for section in adding removing sharing; do run "$section" --variants headline --seeds "$n"; done
done
echo "$(stamp) headline sweep: done"
