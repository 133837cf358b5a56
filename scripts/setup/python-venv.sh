#!/usr/bin/env bash
# The project's Python environment `.venv`: Debian's python3 with its system packages visible
# (--system-site-packages: nbclient, torch from apt stay usable) plus what pip adds below.
# Idempotent: a second run checks the installed versions in about a second and installs nothing.
#
#   scripts/setup/python-venv.sh            create .venv if missing, install what is missing
#   PYTHON=/path/to/python3 scripts/...     another base interpreter (default /usr/bin/python3)
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=.venv
BASE_PYTHON=${PYTHON:-/usr/bin/python3}
# What the project needs from pip (requirement specifiers). Notebooks: JupyterLab 4 and Notebook 7.
# The benchmark's anchor: PyTorch 2.13 CPU as pip installs it (MKL), with numpy for its worker.
REQUIREMENTS=(
  "jupyterlab>=4,<5"
  "notebook>=7,<8"
  "torch==2.13.0+cpu"
  "numpy"
)

if [ ! -x "$VENV/bin/python" ]; then
  echo "python-venv: creating $VENV from $BASE_PYTHON (--system-site-packages)"
  "$BASE_PYTHON" -m venv --system-site-packages "$VENV" ||
    { echo "python-venv: could not create $VENV (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2; rm -rf "$VENV"; exit 1; }
fi

# The requirements not yet satisfied in the venv, one per line (pip's own packaging module judges versions).
missing=$("$VENV/bin/python" - "${REQUIREMENTS[@]}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
from pip._vendor.packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        ok = req.specifier.contains(version(req.name), prereleases=True)
    except PackageNotFoundError:
        ok = False
    if not ok:
        print(spec)
PY
)
if [ -z "$missing" ]; then
  echo "python-venv: $VENV has ${REQUIREMENTS[*]} (nothing to install)"
  exit 0
fi

# Where pip installs from. A machine whose pip is configured with a local wheel store (a file://
# index, as on the project's build machine) installs from it only: its default index may be
# unreachable, and pip would retry it for minutes. Elsewhere: the public index, failing fast offline.
pip_config=$("$VENV/bin/python" -m pip config list 2>/dev/null || true)
local_indexes=$(printf '%s\n' "$pip_config" | sed -n -E "s/^[^=]*\.(extra-)?index-url='(.*)'$/\2/p" | tr ' ' '\n' | grep '^file://' || true)
pip_args=(install --disable-pip-version-check --retries 1 --timeout 15)
if [ -n "$local_indexes" ]; then
  first=$(printf '%s\n' "$local_indexes" | head -n1)
  pip_args+=(--index-url "$first")
  for extra in $(printf '%s\n' "$local_indexes" | tail -n +2); do pip_args+=(--extra-index-url "$extra"); done
  echo "python-venv: installing from pip's local wheel store ($(printf '%s ' $local_indexes)+ find-links from pip config)"
else
  echo "python-venv: installing from the default index (pip config has no local file:// index)"
fi
mapfile -t to_install <<<"$missing"
echo "python-venv: pip ${pip_args[0]} ${to_install[*]}"
# (a store folder lacking a package makes pip warn once per package and folder: noise, not a problem)
"$VENV/bin/python" -m pip "${pip_args[@]}" --quiet "${to_install[@]}" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "python-venv: done; $VENV/bin/python now has: $("$VENV/bin/python" -c 'import jupyterlab, notebook, torch; print(f"jupyterlab {jupyterlab.__version__}, notebook {notebook.__version__}, torch {torch.__version__}")')"
