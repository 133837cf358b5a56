#!/usr/bin/env bash
# Installs the native TensorFlow backend: the real @tensorflow/tfjs-node 4.22.0 (tfjs-node-gpu on a
# machine with an NVIDIA GPU) with a working native addon, in this checkout's node_modules.
#   - If tfjs-node's own installer already worked during `npm ci` (it downloads libtensorflow 2.9.1
#     from storage.googleapis.com), that install is kept.
#   - Otherwise the addon is built from tfjs-node's npm sources against the TensorFlow C API inside a
#     TensorFlow pip wheel: tensorflow-cpu for the CPU, tensorflow (which brings a current CUDA) for
#     CUDA. The wheel comes from pip's configured index (here the local store), without retries.
#   - The build is cached in .cache/tfjs-node/ (gitignored), so after a later `npm ci` (which wipes
#     node_modules) rerunning this script restores the addon in seconds.
# usage: scripts/setup/tfjs-node.sh [--device cpu|cuda] [--wheel FILE.whl] [--rebuild] [--check]
#   --device   default: cuda when `nvidia-smi -L` lists a GPU, else cpu (env VALEMB_TF_DEVICE)
#   --wheel    a TensorFlow 2.x manylinux x86_64 wheel to build against (env VALEMB_TF_WHEEL)
#   --rebuild  ignore the cache
#   --check    only report whether the backend works (exit 1 if not); changes nothing
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.21.0
DEVICE=${VALEMB_TF_DEVICE:-}
WHEEL=${VALEMB_TF_WHEEL:-}
REBUILD=0
CHECK_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=${2:?--device needs cpu or cuda}; shift 2 ;;
    --wheel) WHEEL=${2:?--wheel needs a file}; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tfjs-node.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "tfjs-node: $*"; }
die() { echo "tfjs-node: error: $*" >&2; exit 1; }

if [ -z "$DEVICE" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then DEVICE=cuda; else DEVICE=cpu; fi
fi
case "$DEVICE" in
  cpu) PKG=@tensorflow/tfjs-node; WHEEL_PKG=tensorflow-cpu ;;
  cuda) PKG=@tensorflow/tfjs-node-gpu; WHEEL_PKG=tensorflow ;;
  *) die "--device must be cpu or cuda, got '$DEVICE'" ;;
esac
DIR=$ROOT/node_modules/$PKG
STAMP=$DIR/.valemb-addon

# Loads the package and runs a matmul; prints "libtensorflow <version> <cpu|cuda>" on success.
probe() {
  TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 node -e "
    const tf = require('$PKG');
    const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).arraySync();
    if (tf.getBackend() !== 'tensorflow' || JSON.stringify(c) !== '[[19,22],[43,50]]') process.exit(3);
    console.log('libtensorflow', tf.backend().binding.TF_Version, tf.backend().isUsingGpuDevice ? 'cuda' : 'cpu');
  " 2>/dev/null
}
is_real_package() {
  node -e "process.exit(require('$DIR/package.json').name === '$PKG' ? 0 : 1)" 2>/dev/null
}
has_addon() { compgen -G "$DIR/lib/napi-v*/tfjs_binding.node" >/dev/null; }

[ -d node_modules ] || die "no node_modules: run 'npm ci' first"

# 1. Already working: our own build (stamp) or tfjs-node's own installer (no stamp).
if [ "$REBUILD" = 0 ] && is_real_package && has_addon; then
  if [ -f "$STAMP" ] && [ "$CHECK_ONLY" = 0 ] && [ -e "$DIR/deps/lib/libtensorflow.so" ]; then
    say "$PKG $TFJS_NODE_VERSION already installed ($(cat "$STAMP")); nothing to do"
    exit 0
  fi
  if got=$(probe); then
    if [ -f "$STAMP" ]; then say "$PKG works: $got ($(cat "$STAMP"))"; else say "$PKG works: $got (from tfjs-node's own installer)"; fi
    exit 0
  fi
fi
if [ "$CHECK_ONLY" = 1 ]; then
  say "$PKG is not installed or does not load (run scripts/setup/tfjs-node.sh)"; exit 1
fi

# 2. The real package in its slot, without its install script (that one downloads libtensorflow).
if ! is_real_package; then
  say "installing $PKG@$TFJS_NODE_VERSION from the npm registry (--no-save --ignore-scripts)"
  npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error "$PKG@$TFJS_NODE_VERSION" >/dev/null
  is_real_package || die "npm did not put the real $PKG into node_modules/$PKG"
fi
# A tfjs-node-gpu without an addon registers every kernel and then throws on require, so the
# tfjs-node loaded next prints ~150 "already registered" warnings: remove it unless it is the target.
GPU_DIR=$ROOT/node_modules/@tensorflow/tfjs-node-gpu
if [ "$PKG" != @tensorflow/tfjs-node-gpu ] && [ -d "$GPU_DIR" ] && ! compgen -G "$GPU_DIR/lib/napi-v*/tfjs_binding.node" >/dev/null; then
  say "removing node_modules/@tensorflow/tfjs-node-gpu (installed without its addon)"
  rm -rf "$GPU_DIR"
fi

# 3. The cached build for this package, wheel and Node ABI; built once from the wheel.
NODE_ABI=$(node -p process.versions.modules)
if [ -n "$WHEEL" ]; then
  [ -f "$WHEEL" ] || die "--wheel: no such file: $WHEEL"
  WHEEL=$(cd "$(dirname "$WHEEL")" && pwd)/$(basename "$WHEEL")
  WHEEL_ID=$(basename "$WHEEL" .whl)
else
  WHEEL_ID="${WHEEL_PKG//-/_}-$TF_VERSION"
fi
CACHE=$ROOT/.cache/tfjs-node/${PKG#@tensorflow/}-$TFJS_NODE_VERSION-$WHEEL_ID-node$NODE_ABI
if [ "$REBUILD" = 1 ]; then rm -rf "$CACHE"; fi

fetch_wheel() {  # $1: folder; pip's configured index (local store here), no retries, short timeout
  local index extra=() cfg
  cfg=$(pip_cmd config get global.extra-index-url 2>/dev/null || true)
  if [ -n "$cfg" ]; then
    read -r -a urls <<<"$cfg"
    index=${urls[0]}
    for u in "${urls[@]:1}"; do extra+=(--extra-index-url "$u"); done
    say "downloading $WHEEL_PKG==$TF_VERSION from $index"
    pip_cmd download -q --no-deps --only-binary=:all: --retries 0 --timeout 5 \
      --python-version 3.11 --platform manylinux_2_27_x86_64 \
      --index-url "$index" "${extra[@]}" -d "$1" "$WHEEL_PKG==$TF_VERSION" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
  else
    say "downloading $WHEEL_PKG==$TF_VERSION from pip's default index"
    pip_cmd download -q --no-deps --only-binary=:all: --retries 0 --timeout 5 \
      --python-version 3.11 --platform manylinux_2_27_x86_64 -d "$1" "$WHEEL_PKG==$TF_VERSION"
  fi
}
pip_cmd() { if /usr/bin/python3 -m pip --version >/dev/null 2>&1; then /usr/bin/python3 -m pip "$@"; else python3 -m pip "$@"; fi; }

need_compiler() {  # node-gyp needs make and a C++ compiler
  command -v make >/dev/null && command -v g++ >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing g++ and make (apt-get) to build the addon"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make >/dev/null
  else
    die "building the addon needs make and g++ (Debian: apt-get install g++ make)"
  fi
}

build_into_cache() {
  local tmp wheel started=$SECONDS
  need_compiler
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  wheel=$WHEEL
  if [ -z "$wheel" ]; then
    fetch_wheel "$tmp/wheel" || die "could not download $WHEEL_PKG==$TF_VERSION (no pip index reachable?); pass --wheel FILE.whl"
    wheel=$(ls "$tmp"/wheel/*.whl)
  fi
  say "building $PKG's addon against $(basename "$wheel") (about a minute on a quiet machine)"
  # The wheel's C API headers and its two shared libraries. libtensorflow_cc.so.2 exports the TF_*/TFE_*
  # C API that the addon links as -ltensorflow; the addon's RUNPATH is $ORIGIN/../../deps/lib.
  /usr/bin/env python3 - "$wheel" "$tmp/x" <<'PY' || die "$(basename "$wheel") lacks the TensorFlow C API files (not a TensorFlow 2.x Linux wheel?)"
import sys, zipfile
wanted = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2", "tensorflow/include/tensorflow/c/",
          "tensorflow/include/tensorflow/core/platform/ctstring", "tensorflow/include/tsl/platform/ctstring", "tensorflow/include/xla/tsl/c/")
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith(wanted)]
    if not any(n.endswith("libtensorflow_cc.so.2") for n in names) or not any(n.endswith("c_api.h") for n in names):
        sys.exit(1)
    z.extractall(sys.argv[2], names)
PY
  rm -rf "$DIR/deps" "$DIR/lib" "$DIR/build"
  mkdir -p "$DIR/deps/lib" "$DIR/deps/include"
  mv "$tmp"/x/tensorflow/libtensorflow_cc.so.2 "$tmp"/x/tensorflow/libtensorflow_framework.so.2 "$DIR/deps/lib/"
  cp -r "$tmp"/x/tensorflow/include/. "$DIR/deps/include/"
  ln -s libtensorflow_cc.so.2 "$DIR/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$DIR/deps/lib/libtensorflow_framework.so"
  # node-pre-gyp → node-gyp; `install --build-from-source` builds only the best N-API version.
  local node_gyp nodedir
  node_gyp=${npm_config_node_gyp:-$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js}
  nodedir=$(npm config get nodedir 2>/dev/null || true)
  [ "$nodedir" = undefined ] && nodedir=
  (cd "$DIR" && npm_config_node_gyp="$node_gyp" node "$ROOT/node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp" \
    install --build-from-source ${nodedir:+--nodedir="$nodedir"} >"$tmp/build.log" 2>&1) ||
    { tail -30 "$tmp/build.log" >&2; die "the addon build failed (log above)"; }
  rm -rf "$DIR/build" "$DIR"/build-tmp-napi-v*
  # Into the cache: the libraries (linked back from node_modules) and the addon (copied back).
  rm -rf "$CACHE" && mkdir -p "$CACHE"
  mv "$DIR/deps" "$CACHE/deps"
  cp -r "$DIR/lib" "$CACHE/lib"
  echo "built from $(basename "$wheel")" >"$CACHE/source"
  say "built in $((SECONDS - started)) s; cached in ${CACHE#$ROOT/}"
}

if [ -f "$CACHE/source" ] && compgen -G "$CACHE/lib/napi-v*/tfjs_binding.node" >/dev/null; then
  say "restoring the addon from ${CACHE#$ROOT/} ($(cat "$CACHE/source"))"
else
  build_into_cache
fi
rm -rf "$DIR/deps" "$DIR/lib"
ln -s "$CACHE/deps" "$DIR/deps"   # 850 MB of libraries: linked, not copied
cp -r "$CACHE/lib" "$DIR/lib"     # the addon itself: copied, so its $ORIGIN is inside the package

# 4. Check it: the tensorflow backend and a matmul.
got=$(probe) || die "$PKG was installed but does not load (try --rebuild)"
cat "$CACHE/source" >"$STAMP"
say "$PKG $TFJS_NODE_VERSION ready: $got ($(cat "$CACHE/source"))"
