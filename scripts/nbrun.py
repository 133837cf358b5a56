#!/usr/bin/python3
"""Run notebooks headlessly with the tslab kernel (nbclient), for tests and CI.

usage: /usr/bin/python3 scripts/nbrun.py [--timeout 120] [--out-dir DIR] NOTEBOOK.ipynb...

- The kernel runs in the notebook's folder, as in the Jupyter UI.
- Each executed copy is written to --out-dir (default: a new temp folder), never over the notebook.
- tslab reports a failing cell only as text on stderr (no ename/evalue), so nbclient's error is
  empty: this prints the failing cell's source and its stderr itself.
- Exit status 0 only when every notebook ran to the end. The environment passes through to the
  kernel (VALEMB_QUICK=1 selects the notebooks' quick mode). Needs JUPYTER_PATH to find the
  kernelspec: `npm run test:notebooks` and the tests set it up.
"""
import argparse
import os
import sys
import tempfile
import time

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
except ImportError as e:
    sys.exit(f"nbrun: {e}. Install: sudo apt-get install python3-nbclient jupyter-client "
             f"(or pip install nbclient), and run this with that python (/usr/bin/python3).")


def stderr_of(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def run_notebook(path, out_dir, kernel, timeout, startup_timeout):
    """Execute one notebook cell by cell; returns (error text or None, executed path)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, startup_timeout=startup_timeout, kernel_name=kernel,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    error = None
    # Cells run one by one, so the failing cell is known exactly (stale outputs of later cells are cleared).
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as e:
                    detail = stderr_of(cell).strip() or str(e).strip() or "(no error text)"
                    error = f"cell {index} failed:\n--- source ---\n{cell.source}\n--- stderr ---\n{detail}"
                    break
                except CellTimeoutError:
                    error = f"cell {index} timed out after {timeout} s:\n--- source ---\n{cell.source}\n--- stderr so far ---\n{stderr_of(cell).strip()}"
                    break
    except DeadKernelError as e:
        error = f"the kernel died: {e}"
    except RuntimeError as e:  # e.g. kernel failed to start / unknown kernel name
        error = f"{type(e).__name__}: {e}"
    out = os.path.join(out_dir, os.path.basename(path))
    if os.path.abspath(out) == os.path.abspath(path):
        raise SystemExit(f"nbrun: refusing to write the executed copy over {path}: pick another --out-dir")
    nbformat.write(nb, out)
    return error, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--timeout", type=int, default=120, help="per-cell timeout in seconds (default 120)")
    ap.add_argument("--startup-timeout", type=int, default=60, help="kernel start timeout in seconds")
    ap.add_argument("--out-dir", default=None, help="where executed copies go (default: a new temp folder)")
    ap.add_argument("--kernel", default="tslab")
    a = ap.parse_args()
    out_dir = a.out_dir or tempfile.mkdtemp(prefix="nbrun-")
    os.makedirs(out_dir, exist_ok=True)
    passed = failed = 0
    for path in a.notebooks:
        t0 = time.time()
        error, out = run_notebook(path, out_dir, a.kernel, a.timeout, a.startup_timeout)
        dt = time.time() - t0
        if error:
            failed += 1
            print(f"FAIL {path} ({dt:.1f} s), executed copy: {out}\n{error}\n", flush=True)
        else:
            passed += 1
            print(f"ok   {path} ({dt:.1f} s), executed copy: {out}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
