"""Heat benchmark: Relax's exact spectral heat solve against scipy.fft on the same 2-D periodic
problem, and Relax's explicit FTCS step against the memory-bandwidth bound.

Problem (identical on both sides, see Sources/Relax/Benchmarks/HeatBenchmark.swift):
  v_t = nu Lap v on [0, 2 pi)^2, nu = 1/2, t = 0.05, n x n nodes x_i = 2 pi i / n,
  v(x, y, 0) = sin(x) cos(2y) + 0.5 cos(3x + y).
scipy: irfft2(rfft2(v, workers=2) * exp(-nu t |k|^2), s=v.shape, workers=2), the symbol
tabulated once outside the timing (Relax also caches its per-axis factors).
Targets: Relax time per solve <= 0.6 x scipy's; FTCS >= 40% of the bandwidth bound.
"""
import json
import statistics
import subprocess
import time

import numpy as np
import scipy.fft as sf

TITLE = "heat: 2-D periodic spectral solve (Relax vs scipy.fft, workers=2) and FTCS throughput"
SIZES = [1024, 2048]
FTCS_N = 2048
REPEATS = 11
NU, T = 0.5, 0.05
SPEED_TARGET = 0.6
BANDWIDTH_TARGET = 0.40


def initial(n):
    x = 2 * np.pi * np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    return np.sin(X) * np.cos(2 * Y) + 0.5 * np.cos(3 * X + Y), X, Y


def exact(X, Y):
    return (np.exp(-NU * 5 * T) * np.sin(X) * np.cos(2 * Y)
            + 0.5 * np.exp(-NU * 10 * T) * np.cos(3 * X + Y))


def scipy_solve_times(n, repeats):
    v0, X, Y = initial(n)
    kx = sf.fftfreq(n, d=1.0 / n)       # integer wavenumbers: the period is 2 pi
    ky = sf.rfftfreq(n, d=1.0 / n)
    symbol = np.exp(-NU * T * (kx[:, None] ** 2 + ky[None, :] ** 2))
    solve = lambda v: sf.irfft2(sf.rfft2(v, workers=2) * symbol, s=v.shape, workers=2)
    u = solve(v0)  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        u = solve(v0)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return times, cpu, float(np.abs(u - exact(X, Y)).max())


def numpy_ftcs_step_time(n, repeats):
    """One FTCS step with numpy slicing (periodic), for context."""
    v, _, _ = initial(n)
    h = 2 * np.pi / n
    r = NU * 0.2 * h * h / NU / (h * h)
    out = np.empty_like(v)

    def step(u, o):
        o[...] = (1 - 4 * r) * u
        o[1:, :] += r * u[:-1, :]; o[0, :] += r * u[-1, :]
        o[:-1, :] += r * u[1:, :]; o[-1, :] += r * u[0, :]
        o[:, 1:] += r * u[:, :-1]; o[:, 0] += r * u[:, -1]
        o[:, :-1] += r * u[:, 1:]; o[:, -1] += r * u[:, 0]
    step(v, out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(v, out)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def relax_bench(relax, sizes, ftcs_n):
    cmd = [relax, "bench", "heat", "--json", "--repeats", str(REPEATS),
           "--sizes", ",".join(map(str, sizes)), "--ftcs-n", str(ftcs_n)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def run(relax, rounds):
    """Each round times, per size, Relax then scipy back to back, then the FTCS part."""
    relax_times = {n: [] for n in SIZES}
    scipy_times = {n: [] for n in SIZES}
    relax_cpu = {n: [] for n in SIZES}
    scipy_cpu = {n: [] for n in SIZES}
    errors = {}
    explicit = []
    for _ in range(rounds):
        for n in SIZES:
            case = relax_bench(relax, [n], 0)["spectral"][0]
            relax_times[n].append(case["secondsPerSolve"])
            relax_cpu[n].append(case["cpuSecondsPerSolve"])
            errors[("relax", n)] = case["maxError"]
            times, cpu, err = scipy_solve_times(n, REPEATS)
            scipy_times[n].append(statistics.median(times))
            scipy_cpu[n].append(statistics.median(cpu))
            errors[("scipy", n)] = err
        result = relax_bench(relax, [], FTCS_N)
        explicit.append(result["explicit"])

    lines = [f"{'size':>11} {'Relax ms':>10} {'scipy ms':>10} {'ratio':>7} {'target':>8}"
             f" {'cpu ratio':>10} {'Relax err':>10} {'scipy err':>10}"]
    checks = []
    rows = []
    for n in SIZES:
        r = statistics.median(relax_times[n])
        s = statistics.median(scipy_times[n])
        ratio = r / s
        cpu_ratio = statistics.median(relax_cpu[n]) / statistics.median(scipy_cpu[n])
        lines.append(f"{n:>5}x{n:<5} {r * 1e3:10.2f} {s * 1e3:10.2f} {ratio:7.2f} {'<= 0.6':>8}"
                     f" {cpu_ratio:10.2f} {errors[('relax', n)]:10.1e} {errors[('scipy', n)]:10.1e}")
        checks.append({"name": f"spectral {n}^2 time ratio Relax/scipy", "value": ratio,
                       "target": f"<= {SPEED_TARGET}", "ok": ratio <= SPEED_TARGET})
        rows.append({"n": n, "relax_seconds": r, "scipy_seconds": s, "ratio": ratio, "cpu_ratio": cpu_ratio,
                     "relax_rounds": relax_times[n], "scipy_rounds": scipy_times[n]})

    lines.append("(times: median wall seconds per solve; cpu ratio: median process CPU seconds, all threads,"
                 " Relax / scipy — the work done, less sensitive to other load on the machine)")

    # FTCS: the round with the median fraction of the bound.
    e = sorted(explicit, key=lambda c: c["fractionOfBound"])[len(explicit) // 2]
    numpy_step = numpy_ftcs_step_time(e["n"], 5)
    lines.append("")
    lines.append(f"FTCS {e['n']}x{e['n']} periodic: {e['secondsPerStep'] * 1e3:.2f} ms/step = "
                 f"{e['pointsPerSecond'] / 1e6:.0f} Mpoints/s; {e['bytesPerStep'] / 1e6:.0f} MB moved per step")
    lines.append(f"  copy bandwidth (read+write, {result['threads']} threads) {e['copyBandwidth'] / 1e9:.1f} GB/s"
                 f" -> bound {e['boundPointsPerSecond'] / 1e6:.0f} Mpoints/s;"
                 f" Relax at {100 * e['fractionOfBound']:.0f}% of the bound")
    lines.append(f"  (numpy slicing step for context: {numpy_step * 1e3:.1f} ms/step,"
                 f" {numpy_step / e['secondsPerStep']:.1f}x Relax's time)")
    checks.append({"name": "FTCS fraction of the bandwidth bound", "value": e["fractionOfBound"],
                   "target": f">= {BANDWIDTH_TARGET}", "ok": e["fractionOfBound"] >= BANDWIDTH_TARGET})
    return {"table": "\n".join(lines), "checks": checks, "spectral": rows, "explicit": e,
            "numpy_ftcs_seconds": numpy_step}
