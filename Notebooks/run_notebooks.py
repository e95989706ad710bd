"""Executes every notebook in Notebooks/ headlessly (nbclient) and checks that each wrote
its figure.  `make figures` and `make test` call it.

    python Notebooks/run_notebooks.py [--out DIR] [NAME ...]

Each notebook NAME.ipynb must save output/NAME.png (or $RELAX_OUT/NAME.png). Notebooks are
committed without outputs; the executed copies are not written back.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE.parent / "output"), help="directory for the PNGs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    args = parser.parse_args()

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["RELAX_OUT"] = str(out)
    os.environ.setdefault("MPLBACKEND", "Agg")

    books = sorted(HERE.glob("*.ipynb"))
    if args.names:
        books = [b for b in books if b.stem in args.names]
        missing = set(args.names) - {b.stem for b in books}
        if missing:
            print(f"no such notebook: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    if not books:
        print("no notebooks found in Notebooks/: nothing to execute", file=sys.stderr)
        return 0

    failures = []
    for book in books:
        start = time.time()
        nb = nbformat.read(book, as_version=4)
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(HERE)}})
        try:
            client.execute()
        except CellExecutionError as exc:
            failures.append(book.stem)
            print(f"FAILED {book.name}:\n{exc}", file=sys.stderr)
            continue
        png = out / f"{book.stem}.png"
        if not png.exists() or png.stat().st_mtime < start:
            failures.append(book.stem)
            print(f"FAILED {book.name}: did not write {png}", file=sys.stderr)
            continue
        size = png.stat().st_size // 1024
        print(f"ok  {book.name:28s} -> {png.relative_to(out.parent) if out.parent in png.parents else png}"
              f"  ({size} KB, {time.time() - start:.1f} s)")
    if failures:
        print(f"{len(failures)} notebook(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
