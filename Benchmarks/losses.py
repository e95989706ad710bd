"""Loss-evaluation benchmark: Relax's compiled expressions (values, and values with exact
gradients by dual numbers) against numpy evaluating the same expression on the same grid.

Problem (identical on both sides, see Sources/Relax/Benchmarks/LossBenchmark.swift):
  the `rugged-2d` preset
      f = 0.1 (x^2 + y^2) - 0.8 w + 0.15 (2 - cos 5x - cos 5y)(1 - w),  w = exp(-(x-1)^2 - (y-0.5)^2)
  on [-3, 3]^2 with n x n nodes (both ends included), n in SIZES.
numpy: the expression evaluated with broadcasting on the (n, 1) and (1, n) coordinate vectors
(numpy's best case: separable terms cost O(n)), the gradient from the hand-derived formula.
Targets (the foundation issue): 4096^2 values well under a second, values + gradient under two.
"""
import json
import statistics
import subprocess
import time

import numpy as np

TITLE = "losses: rugged-2d on n^2 grids (Relax compiled expressions vs numpy broadcasting)"
SIZES = [2048, 4096]
REPEATS = 5
VALUE_TARGET = 1.0
GRADIENT_TARGET = 2.0


def numpy_value(x, y):
    w = np.exp(-(x - 1) ** 2 - (y - 0.5) ** 2)
    return 0.1 * (x ** 2 + y ** 2) - 0.8 * w + 0.15 * (2 - np.cos(5 * x) - np.cos(5 * y)) * (1 - w)


def numpy_value_and_gradient(x, y):
    w = np.exp(-(x - 1) ** 2 - (y - 0.5) ** 2)
    r = 2 - np.cos(5 * x) - np.cos(5 * y)
    f = 0.1 * (x ** 2 + y ** 2) - 0.8 * w + 0.15 * r * (1 - w)
    wx, wy = -2 * (x - 1) * w, -2 * (y - 0.5) * w
    fx = 0.2 * x - 0.8 * wx + 0.75 * np.sin(5 * x) * (1 - w) - 0.15 * r * wx
    fy = 0.2 * y - 0.8 * wy + 0.75 * np.sin(5 * y) * (1 - w) - 0.15 * r * wy
    return f, fx, fy


def numpy_times(n, repeats):
    g = np.linspace(-3, 3, n)
    x, y = g[:, None], g[None, :]
    f = numpy_value(x, y)  # warm-up
    value, gradient = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        f = numpy_value(x, y)
        value.append(time.perf_counter() - start)
        start = time.perf_counter()
        numpy_value_and_gradient(x, y)
        gradient.append(time.perf_counter() - start)
    return statistics.median(value), statistics.median(gradient), float(f.sum())


def relax_bench(relax):
    cmd = [relax, "bench", "losses", "--json", "--repeats", str(REPEATS),
           "--sizes", ",".join(map(str, SIZES))]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)  # a list of LossBenchmark.Row


def run(relax, rounds):
    relax_rows = {n * n: [] for n in SIZES}
    numpy_rows = {n * n: [] for n in SIZES}
    for _ in range(rounds):
        for row in relax_bench(relax):
            relax_rows[row["points"]].append(row)
        for n in SIZES:
            numpy_rows[n * n].append(numpy_times(n, REPEATS))

    lines = [f"{'size':>11} {'Relax f ms':>11} {'numpy f ms':>11} {'ratio':>6}"
             f" {'Relax f+grad ms':>16} {'numpy f+grad ms':>16} {'ratio':>6} {'checksum diff':>14}"]
    checks, rows = [], []
    for n in SIZES:
        rv = statistics.median(r["valueSeconds"] for r in relax_rows[n * n])
        rg = statistics.median(r["gradientSeconds"] for r in relax_rows[n * n])
        nv = statistics.median(t[0] for t in numpy_rows[n * n])
        ng = statistics.median(t[1] for t in numpy_rows[n * n])
        diff = abs(relax_rows[n * n][0]["checksum"] - numpy_rows[n * n][0][2])
        lines.append(f"{n:>5}x{n:<5} {rv * 1e3:11.1f} {nv * 1e3:11.1f} {rv / nv:6.2f}"
                     f" {rg * 1e3:16.1f} {ng * 1e3:16.1f} {rg / ng:6.2f} {diff:14.2e}")
        rows.append({"n": n, "relax_value_seconds": rv, "numpy_value_seconds": nv,
                     "relax_gradient_seconds": rg, "numpy_gradient_seconds": ng, "checksum_difference": diff})
        if n == 4096:
            checks.append({"name": "4096^2 values (s)", "value": rv, "target": f"< {VALUE_TARGET}",
                           "ok": rv < VALUE_TARGET})
            checks.append({"name": "4096^2 values + gradient (s)", "value": rg, "target": f"< {GRADIENT_TARGET}",
                           "ok": rg < GRADIENT_TARGET})
    return {"table": "\n".join(lines), "checks": checks, "rows": rows}
