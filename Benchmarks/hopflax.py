"""Hopf-Lax benchmark: Relax's separable lower-envelope inf-convolution against a
straightforward numba lower-envelope code (one core) and a numpy O(N^2) brute force.

Problem (identical on both sides, see Sources/Relax/Benchmarks/HopfLaxBenchmark.swift):
  u(x) = min_j f(y_j) + |x - y_j|^2 / (2t),  t = 0.1, nodes x_i = -2 + 4 i/(n-1) per axis,
  f(x) = sum_k sin(7 x_k) + x_k^2 / 2; value and prox node index (argmin), 1-D N = 1e6, 1e7
  and 2-D 2048^2, 4096^2. The numpy brute force runs at N = 2e4 (1-D) as a reference line.
Target: Relax's points/s >= numba's, measured in the same run (Relax splits 2-D passes over
the cores; numba runs on one).

Standalone:  python Benchmarks/hopflax.py [path/to/relax]   (default .build/release/relax)
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import numba

TITLE = "hopflax: discrete Hopf-Lax (value + prox) Relax vs numba lower envelope, numpy brute force"
T = 0.1
CASES = [(1, 1_000_000), (1, 10_000_000), (2, 2048), (2, 4096)]
BRUTE_N = 20_000
REPEATS = 5
WARMUP_SECONDS = 0.25  # calls before timing, on both sides (BenchmarkTiming.warmUpSeconds)


def loss(dimension, n):
    x = np.linspace(-2.0, 2.0, n)
    g = np.sin(7 * x) + 0.5 * x * x
    if dimension == 1:
        return g
    return g[:, None] + g[None, :]


@numba.njit(cache=True)
def envelope(f, a, out, arg, v, z):
    """Felzenszwalb-Huttenlocher lower envelope of the parabolas f[j] + a (x - j)^2."""
    n = f.shape[0]
    k = 0
    v[0] = 0
    z[0] = -np.inf
    for q in range(1, n):
        while True:
            p = v[k]
            s = 0.5 * (p + q) + (f[q] - f[p]) / (2.0 * a * (q - p))
            if s <= z[k] and k > 0:
                k -= 1
            else:
                break
        k += 1
        v[k] = q
        z[k] = s
    z[k + 1] = np.inf
    k = 0
    for i in range(n):
        while z[k + 1] < i:
            k += 1
        p = v[k]
        d = i - p
        out[i] = f[p] + a * d * d
        arg[i] = p


@numba.njit(cache=True)
def hopf_lax_1d(f, a):
    n = f.shape[0]
    out = np.empty(n)
    arg = np.empty(n, dtype=np.int64)
    v = np.empty(n, dtype=np.int64)
    z = np.empty(n + 1)
    envelope(f, a, out, arg, v, z)
    return out, arg


@numba.njit(cache=True)
def hopf_lax_2d(f, a0, a1):
    """Rows (last axis) first, then columns, carrying the row argmin through the column pass."""
    n0, n1 = f.shape
    u = np.empty_like(f)
    arg1 = np.empty((n0, n1), dtype=np.int64)
    arg0 = np.empty((n0, n1), dtype=np.int64)
    v = np.empty(max(n0, n1), dtype=np.int64)
    z = np.empty(max(n0, n1) + 1)
    for i in range(n0):
        envelope(f[i], a1, u[i], arg1[i], v, z)
    col = np.empty(n0)
    out = np.empty(n0)
    arg = np.empty(n0, dtype=np.int64)
    carry = np.empty(n0, dtype=np.int64)
    for j in range(n1):
        for i in range(n0):
            col[i] = u[i, j]
            carry[i] = arg1[i, j]
        envelope(col, a0, out, arg, v, z)
        for i in range(n0):
            u[i, j] = out[i]
            arg0[i, j] = arg[i]
            arg1[i, j] = carry[arg[i]]
    return u, arg0, arg1


def numba_times(dimension, n, repeats):
    f = loss(dimension, n)
    h = 4.0 / (n - 1)
    a = h * h / (2 * T)
    call = (lambda: hopf_lax_1d(f, a)) if dimension == 1 else (lambda: hopf_lax_2d(f, a, a))
    result = call()  # compile
    warm = time.perf_counter()
    while time.perf_counter() - warm < WARMUP_SECONDS:  # the same warm-up as Relax's
        result = call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return times, float(result[0].min())


def brute_force_time(n, block=1000):
    f = loss(1, n)
    h = 4.0 / (n - 1)
    a = h * h / (2 * T)
    idx = np.arange(n, dtype=np.float64)
    start = time.perf_counter()
    u = np.empty(n)
    arg = np.empty(n, dtype=np.int64)
    for lo in range(0, n, block):
        i = idx[lo:lo + block, None]
        cost = f[None, :] + a * (i - idx[None, :]) ** 2
        arg[lo:lo + block] = cost.argmin(axis=1)
        u[lo:lo + block] = cost.min(axis=1)
    return time.perf_counter() - start, float(u.min())


def relax_bench(relax, repeats):
    cmd = [relax, "bench", "hopflax", "--json", "--repeats", str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def case_name(dimension, n):
    return f"1-D N={n:.0e}" if dimension == 1 else f"2-D {n}^2"


def run(relax, rounds=3):
    relax_k = {c: [] for c in CASES}
    relax_c = {c: [] for c in CASES}
    numba_t = {c: [] for c in CASES}
    checks_min = {}
    for _ in range(rounds):
        for row in relax_bench(relax, REPEATS)["rows"]:
            c = (row["dimension"], round(row["points"] ** (1 / row["dimension"])))
            relax_k[c].append(row["kernelSeconds"])
            relax_c[c].append(row["callSeconds"])
            checks_min[("relax", c)] = row["minimum"]
        for c in CASES:
            times, m = numba_times(*c, REPEATS)
            numba_t[c].append(statistics.median(times))
            checks_min[("numba", c)] = m
    brute_seconds, brute_min = brute_force_time(BRUTE_N)

    lines = [f"{'case':>14} {'points':>10} {'Relax ms':>9} {'Relax pts/s':>12} {'call ms':>8}"
             f" {'numba ms':>9} {'numba pts/s':>12} {'ratio':>6} {'min(u) agree':>13}"]
    rows, checks = [], []
    for c in CASES:
        dimension, n = c
        points = n ** dimension
        r, rc, nb = (statistics.median(relax_k[c]), statistics.median(relax_c[c]),
                     statistics.median(numba_t[c]))
        ratio = nb / r
        agree = abs(checks_min[("relax", c)] - checks_min[("numba", c)]) < 1e-12
        lines.append(f"{case_name(*c):>14} {points:10d} {r * 1e3:9.2f} {points / r:12.3e} {rc * 1e3:8.2f}"
                     f" {nb * 1e3:9.2f} {points / nb:12.3e} {ratio:6.2f} {str(agree):>13}")
        rows.append({"case": case_name(*c), "points": points, "relax_kernel_seconds": r,
                     "relax_call_seconds": rc, "numba_seconds": nb, "speedup": ratio,
                     "relax_points_per_second": points / r, "numba_points_per_second": points / nb,
                     "min_agrees": agree})
        checks.append({"name": f"{case_name(*c)} Relax/numba throughput", "value": ratio,
                       "target": ">= 1", "ok": ratio >= 1 and agree})
    lines.append("")
    lines.append(f"numpy brute force O(N^2), 1-D N = {BRUTE_N}: {brute_seconds:.2f} s = "
                 f"{BRUTE_N / brute_seconds:.3e} points/s (min u = {brute_min:.12f})")
    lines.append("Relax: 'Relax ms' = value + prox index (what numba computes), 'call ms' = the public "
                 "HopfLax.infConvolution with prox coordinates; numba on one core, Relax 2-D on all cores.")
    return {"table": "\n".join(lines), "checks": checks, "rows": rows,
            "brute_force": {"n": BRUTE_N, "seconds": brute_seconds, "points_per_second": BRUTE_N / brute_seconds}}


if __name__ == "__main__":
    relax = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("RELAX", ".build/release/relax")
    result = run(os.path.abspath(relax), rounds=1)
    print(TITLE)
    print(result["table"])
    for check in result["checks"]:
        print(f"   target {check['name']}: {check['value']:.3g} (want {check['target']}) "
              f"{'ok' if check['ok'] else 'MISSED'}")
