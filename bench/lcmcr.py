"""LCMCR on kosovo4 with R's settings: our sampler against R's 4.58 s and the sampler before.

Run: .venv/bin/python bench/lcmcr.py [--rounds N] [--quick]
Issue 12 asks for LCMCR at least as fast as R's ``lcmCR`` + ``lcmCR_PostSampl(burnin=100000,
samples=1000, thinning=100)`` on kosovo4 (R 4.6 s, ../shared/research/mse.md). Timed in one
run, rounds interleaved so a busy machine slows all alike: the default (one compiled chain,
R's design), 8 vectorised numpy chains (``chains=8``), and the sampler of commit d0cff1d
(8 vectorised chains before the sweep was folded into fixed matrices), loaded from git.
Wall and CPU seconds are printed (CPU time is the fairer figure when the machine is
shared); the best round counts. The compiled kernel's cold start (numba import plus
loading or compiling the cached kernel) is measured in a fresh process first.
Not a test: figures vary with the load.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from zichtbaar.estimate import lcmcr as current

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "mse"
OLD_COMMIT = "d0cff1d"  # "LCMCR runs 8 chains vectorised": the 6.3 s sampler
R_SECONDS = 4.58


def old_module() -> ModuleType | None:
    """The sampler as of OLD_COMMIT, imported from ``git show`` (None without git)."""
    try:
        src = subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:src/zichtbaar/estimate/lcmcr.py"], cwd=ROOT,
            capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    src = src.replace("from .histories", "from zichtbaar.estimate.histories")
    src = src.replace("from .loglinear", "from zichtbaar.estimate.loglinear")
    path = Path(tempfile.mkdtemp()) / "lcmcr_old.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("lcmcr_old", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["lcmcr_old"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def load(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with (DATA / f"{name}.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    table = np.array(rows[1:], dtype=np.int64)
    return table[:, :-1], table[:, -1], rows[0][:-1]


def run(mod: ModuleType, data: Any, settings: dict[str, int]) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    res = mod.lcmcr(*data, seed=12345, **settings)
    return time.perf_counter() - w0, time.process_time() - c0, res


def cold_start() -> float:
    """Seconds from a fresh interpreter to a finished tiny compiled run (import + kernel)."""
    code = ("import time; t = time.perf_counter(); import numpy as np; "
            "from zichtbaar.estimate.lcmcr import lcmcr; "
            "lcmcr(np.array([[1, 0], [0, 1], [1, 1]]), np.array([30, 40, 10]), ['A', 'B'], "
            "burnin=10, samples=5, thinning=1, seed=1); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    quick = "--quick" in sys.argv
    settings = ({"burnin": 10_000, "samples": 1000, "thinning": 10} if quick else
                {"burnin": 100_000, "samples": 1000, "thinning": 100})
    data = load("kosovo4")
    old = old_module()
    samplers: list[tuple[str, ModuleType, dict[str, int]]] = [
        ("now, 1 compiled chain", current, settings),
        ("now, 8 numpy chains", current, {**settings, "chains": 8}),
    ] + ([(f"before ({OLD_COMMIT})", old, settings)] if old else [])
    print(f"kosovo4 LCMCR K=5, burn-in {settings['burnin']:,}, {settings['samples']:,} draws "
          f"x {settings['thinning']} thinning; cores: {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"cold start of the compiled kernel in a fresh process: {cold_start():.2f} s "
          "(numba import + cached kernel; the very first run also compiles, ~7 s)")
    run(current, data, {"burnin": 10, "samples": 5, "thinning": 1})  # load the kernel
    print(f"{'sampler':<24}{'round':>6}{'wall s':>9}{'cpu s':>8}  median [95% interval]")
    best: dict[str, tuple[float, float]] = {}
    for r in range(rounds):
        for name, mod, how in samplers:
            wall, cpu, res = run(mod, data, how)
            lo, hi = res.ci
            print(f"{name:<24}{r + 1:>6}{wall:>9.2f}{cpu:>8.2f}  {res.estimate:.0f} "
                  f"[{lo:.0f}, {hi:.0f}]", flush=True)
            w, c = best.get(name, (np.inf, np.inf))
            best[name] = (min(w, wall), min(c, cpu))
    print(f"load average now {os.getloadavg()[0]:.2f}; best of {rounds} rounds:")
    for name, (w, c) in best.items():
        print(f"  {name:<24} wall {w:6.2f} s  cpu {c:6.2f} s"
              + ("" if quick else f"  ({c / R_SECONDS:.2f} x R's {R_SECONDS} s)"))
    if len(best) == 3:
        (_, (_, cn)), (_, (_, cv)), (_, (_, co)) = best.items()
        print(f"  speed-up against {OLD_COMMIT}: compiled cpu {co / cn:.2f}x, "
              f"8 numpy chains cpu {co / cv:.2f}x")
    print("R reference (same settings, seed 12345): 4.58 s; median 10520 [9303, 14552] "
          "(../shared/data/mse/reference-public.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
