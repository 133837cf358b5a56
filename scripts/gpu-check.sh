#!/usr/bin/env bash
# GPU check, one call on a machine with an NVIDIA GPU and no network: the doctor, the planner for the
# GPU's memory, then short trainings on synthetic tokens at the one-gpu preset and at medium's shape
# (medium's 16 × 1024 blocks at a sequence length that fits), on tensorflow (CUDA, when
# tfjs-node-gpu is installed) and on webgpu; each prints ms/step, tokens/s, peak memory next to the
# planner's, and model FLOP utilization (MFU). Carries what such a machine may lack (Node, the bundled
# benchmark with dawn.node, the Vulkan loader libvulkan1), about 45 MB, well under 64 MiB:
#
#   scripts/gpu-check.sh --prepare     here, with internet: fills .gpu/
#   scripts/gpu-check.sh               there (carry .gpu/; npm ci there gives doctor and plan too)
#
# Env: STEPS (5) MAX_SECONDS (120, per run) ONE_GPU_SEQ (8192) MEDIUM_SEQ (8192) BATCH (1)
# PEAK_TFLOPS (494.7: H100/H200 SXM dense TF32, for MFU) ALLOW_FALLBACK=1 (benchmark a software
# adapter such as lavapipe) QUICK=0 (skip the quick 2-layer run that first makes sure there is a number at all).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$repo/.gpu"
log() { echo "gpu-check: $*" >&2; }

prepare() {
  set -e
  mkdir -p "$carry"
  # The benchmark and everything it imports in one file; dawn.node beside it as node_modules/webgpu.
  local stage; stage="$(mktemp -d)"
  "$repo/node_modules/.bin/esbuild" "$repo/scripts/gpu/bench.ts" --bundle --platform=node --format=cjs \
    --target=node20 --minify --log-level=warning --outfile="$stage/bench.cjs" \
    --external:webgpu --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-node
  mkdir -p "$stage/node_modules/webgpu/dist/linux-x64"
  cp "$repo/node_modules/webgpu/package.json" "$stage/node_modules/webgpu/"
  cp "$repo/node_modules/webgpu/dist/linux-x64/dawn.node" "$stage/node_modules/webgpu/dist/linux-x64/"
  tar -czf "$carry/bench.tgz.tmp" -C "$stage" . && mv "$carry/bench.tgz.tmp" "$carry/bench.tgz"
  rm -rf "$stage"
  # This machine's Node (glibc-linked; the GPU images have a newer glibc).
  local node; node="$(command -v node)"
  if [ ! -f "$carry/node.gz" ] || [ "$(cat "$carry/node.version" 2>/dev/null)" != "$(node --version)" ]; then
    gzip -6 -c "$node" > "$carry/node.gz.tmp" && mv "$carry/node.gz.tmp" "$carry/node.gz"
    node --version > "$carry/node.version"
  fi
  # The Vulkan loader: from scripts/ci-lavapipe.sh's folder if there, else from apt.
  if ! ls "$carry"/libvulkan1_*.deb >/dev/null 2>&1; then
    if ls "$repo"/.lavapipe/debs/libvulkan1_*.deb >/dev/null 2>&1; then cp "$repo"/.lavapipe/debs/libvulkan1_*.deb "$carry/"
    else (cd "$carry" && apt-get download -qq libvulkan1); fi
  fi
  log "prepared $(du -sh "$carry" | cut -f1) in $carry:"
  ls -la "$carry" >&2
  log "on the GPU machine: scripts/gpu-check.sh (carry .gpu)"
}

if [ "${1:-}" = "--prepare" ]; then prepare; exit $?; fi

# ---------------------------------------------------------------------------------------------
work="${TMPDIR:-/tmp}/valemb-gpu-check"
mkdir -p "$work"
echo "== machine"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "glibc $(ldd --version | head -1 | awk '{print $NF}')"

# Node 20+: the machine's, else the carried one.
node="$(command -v node || true)"
if [ -z "$node" ] || [ "$("$node" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  [ -f "$carry/node.gz" ] || { log "no Node >= 20 here and no $carry/node.gz (run --prepare where there is internet)"; exit 1; }
  [ -x "$work/node" ] || { gunzip -c "$carry/node.gz" > "$work/node" && chmod +x "$work/node"; }
  node="$work/node"
fi
echo "node $("$node" --version) ($node)"

# The benchmark: from the sources when node_modules is there, else the carried bundle.
if [ -d "$repo/node_modules/tsx" ] && [ -d "$repo/node_modules/webgpu" ]; then
  bench=("$node" --import tsx "$repo/scripts/gpu/bench.ts"); cd "$repo"
else
  [ -f "$carry/bench.tgz" ] || { log "no node_modules and no $carry/bench.tgz (run --prepare first)"; exit 1; }
  tar -xzf "$carry/bench.tgz" -C "$work"
  bench=("$node" "$work/bench.cjs"); cd "$work"
fi

# Vulkan: the loader (carried if missing), and the driver's ICD file (the NVIDIA container path).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  deb="$(ls "$carry"/libvulkan1_*.deb 2>/dev/null | head -1)"
  if [ -n "$deb" ]; then
    dpkg-deb -x "$deb" "$work/vk"
    export LD_LIBRARY_PATH="$(dirname "$(find "$work/vk" -name 'libvulkan.so.1' | head -1)")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "vulkan loader: carried ($(basename "$deb"))"
  else
    echo "vulkan loader: missing and not carried"
  fi
else
  echo "vulkan loader: system"
fi
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] && { export VK_DRIVER_FILES="$icd"; break; }
  done
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-(system icd.d)}}"

run_bench() { # label, seconds, args...
  local label="$1" secs="$2"; shift 2
  echo "== $label: bench ${*}"
  timeout --kill-after=10 "$secs" "${bench[@]}" "$@" 2>&1 | grep -v -e 'artificially reduced' -e '^===' -e 'Hi, looks like' -e 'tfjs-node for more' -e '^$'
  local rc="${PIPESTATUS[0]}"
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "(killed after ${secs}s)"
  return "$rc"
}

fallback=(); [ "${ALLOW_FALLBACK:-0}" = 1 ] && fallback=(--allow-fallback)
max="${MAX_SECONDS:-120}"
common=(--batch "${BATCH:-1}" --steps "${STEPS:-5}" --max-seconds "$max" --peak-tflops "${PEAK_TFLOPS:-494.7}")
status=0

# doctor and planner need the sources (npm ci there); the bundle alone runs only the benchmark
if [ -d "$repo/node_modules/tsx" ]; then
  echo "== doctor"
  (cd "$repo" && "$node" bin/valemb.js doctor) || status=1
  gib=""
  command -v nvidia-smi >/dev/null && gib="$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1 | awk '{printf "%.1f", $1/1024}')"
  for preset in one-gpu medium; do
    echo "== plan: $preset on ${gib:-80 (no nvidia-smi; assumed)} GiB"
    (cd "$repo" && "$node" bin/valemb.js plan --preset "$preset" --device-memory-gib "${gib:-80}")
  done
else
  echo "== doctor, plan: skipped (no node_modules here; npm ci adds them)"
fi

backends=(webgpu)
if "${bench[0]}" -e 'require.resolve("@tensorflow/tfjs-node-gpu")' >/dev/null 2>&1; then backends=(tensorflow webgpu)
else echo "== tensorflow (CUDA): tfjs-node-gpu not installed here (skipped)"; fi
for backend in "${backends[@]}"; do
  extra=(); [ "$backend" = webgpu ] && extra=("${fallback[@]}")
  if [ "${QUICK:-1}" = 1 ]; then
    run_bench "$backend quick" 90 --backend "$backend" --preset one-gpu --layers 2 --seq 256 --steps 3 --max-seconds 60 "${extra[@]}" || status=1
  fi
  run_bench "$backend one-gpu" $((max + 60)) --backend "$backend" --preset one-gpu --seq "${ONE_GPU_SEQ:-8192}" "${common[@]}" "${extra[@]}" || status=1
  run_bench "$backend medium shape" $((max + 60)) --backend "$backend" --preset medium --seq "${MEDIUM_SEQ:-8192}" "${common[@]}" "${extra[@]}" || status=1
done
exit "$status"
