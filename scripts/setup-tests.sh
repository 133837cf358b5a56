#!/usr/bin/env bash
# Everything the test suite needs beyond `npm ci`, on Debian 12 (run as root): PyTorch + OpenBLAS
# (parity goldens, bench), Jupyter + nbclient (notebook tests), Chromium (export, browser test),
# fortunes (`valemb data prepare` test input), Mesa 25 lavapipe in .lavapipe/ (WebGPU tests), and the
# project's Python venv .venv (JupyterLab; scripts/setup/python-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  python3-torch libopenblas0 python3-numpy python3-venv \
  jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel \
  chromium fortunes fortunes-min >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund
scripts/setup/tfjs-node.sh   # the native TensorFlow backend (rerun after any later npm ci: seconds, from its cache)
scripts/ci-lavapipe.sh
scripts/setup/python-venv.sh   # the project venv .venv: JupyterLab 4 + Notebook 7 (notebooks, browser test)
scripts/setup/slurm.sh         # Slurm + munge for the one-node cluster of the --slurm test
