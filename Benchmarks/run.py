#!/usr/bin/env python3
"""Side-by-side benchmarks: Relax (release build) against the Python tools users would reach for.

Usage (the Makefile's `make bench` runs the first line):
    RELAX=.build/release/relax python Benchmarks/run.py            # every topic
    RELAX=.build/release/relax python Benchmarks/run.py heat       # one topic
    python Benchmarks/run.py heat --rounds 5 --json out.json

Each topic is a module `Benchmarks/<topic>.py` with
    TITLE: str
    def run(relax: str, rounds: int) -> dict
returning {"table": str, "checks": [{"name": str, "value": float, "target": str, "ok": bool}], ...}.
The Relax side is timed by `relax bench <topic> --json`; the Python side in the same run,
on the same data. Both report medians of repeats; topics interleave the two sides over
`rounds` so that load from other processes hits both alike.
Add a topic by writing its module and appending its name to TOPICS.
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import traceback

TOPICS = ["heat", "hopflax", "losses", "colehopf", "fokkerplanck"]


def find_relax() -> str:
    relax = os.environ.get("RELAX") or ".build/release/relax"
    if not (os.path.isfile(relax) and os.access(relax, os.X_OK)):
        found = shutil.which(relax)
        if not found:
            sys.exit(f"run.py: no relax executable at '{relax}'; build it with "
                     f"`swift build -c release --product relax` and set RELAX=path/to/relax")
        relax = found
    return os.path.abspath(relax)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", help=f"topics to run (default: all of {', '.join(TOPICS)})")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved Relax/Python rounds (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit non-zero when a target is missed")
    args = parser.parse_args()

    unknown = [t for t in args.topics if t not in TOPICS]
    if unknown:
        parser.error(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(TOPICS)}")
    relax = find_relax()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    results = {}
    missed = []
    for topic in args.topics or TOPICS:
        try:
            module = importlib.import_module(topic)
            print(f"== {module.TITLE}", flush=True)
            result = module.run(relax, args.rounds)
        except (Exception, SystemExit) as error:
            # One broken topic (a missing Python package, a relax subcommand not built, a bug
            # in its script) must not hide the others' results.
            traceback.print_exc()
            print(f"== {topic}: FAILED to run: {error!r}\n")
            missed.append(f"{topic}: did not run")
            continue
        print(result["table"])
        for check in result["checks"]:
            verdict = "ok" if check["ok"] else "MISSED"
            print(f"   target {check['name']}: {check['value']:.3g} (want {check['target']}) {verdict}")
            if not check["ok"]:
                missed.append(f"{topic}: {check['name']}")
        print()
        results[topic] = result
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if missed:
        print("targets missed or topics failed: " + "; ".join(missed))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
