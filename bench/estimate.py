"""Wall times of the MSE library against the issue's targets and the R reference run.

Run: .venv/bin/python bench/estimate.py [--quick]
Prints one line per task: our time, the target from issue 3 and R's time
from ../shared/research/mse.md (section 3.5, same kind of 2-core machine).
Not a test: the machine may be shared, so figures vary.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zichtbaar.estimate import api, selection
from zichtbaar.estimate.histories import CaptureHistories

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mse"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def simulated(k: int = 10, n_people: int = 40_000, seed: int = 1) -> CaptureHistories:
    """A 10-list population whose 40,000 registered people come from ~80,000."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.25, k)
    x = rng.random((90_000, k)) < p
    x[:, 1] |= x[:, 0] & (rng.random(90_000) < 0.3)  # one referral dependence
    seen = x[x.any(axis=1)][:n_people].astype(np.int8)
    pat, cnt = np.unique(seen, axis=0, return_counts=True)
    return CaptureHistories(tuple(f"L{i}" for i in range(k)), pat, cnt)


def main() -> int:
    quick = "--quick" in sys.argv
    uk6 = api.load_csv(DATA / "uk6.csv")
    ned6 = api.load_csv(DATA / "ned6.csv")
    kosovo = api.load_csv(DATA / "kosovo4.csv")
    big = simulated()
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (machine shared)")
    print(f"{'task':<52}{'ours s':>9}{'target s':>10}{'R s':>9}  result")
    rows: list[tuple[str, float, str, str, str]] = []

    def add(name: str, fn: Callable[[], dict[str, Any]], target: str, r_time: str) -> None:
        selection._ALL_MODELS_CACHE.clear()  # measure cold, not the AIC/BIC cache
        sec, res = timed(fn)
        lo, hi = res["ci"]
        summary = (f"{res['estimate']:.0f} [{lo if lo is None else round(lo)}, "
                   f"{hi if hi is None else round(hi)}] {res['ci_method']}")
        rows.append((name, sec, target, r_time, summary))
        print(f"{name:<52}{sec:>9.2f}{target:>10}{r_time:>9}  {summary}", flush=True)

    add("uk6 stepwise + model interval", lambda: api.run(uk6), "< 1", "0.53")
    add("ned6 stepwise + model interval", lambda: api.run(ned6), "< 1", "0.62")
    add("uk6 stepwise + profile interval", lambda: api.run(uk6, ci="profile"), "< 1", "-")
    add("ned6 exhaustive AIC (32768 models) + profile",
        lambda: api.run(ned6, method="aic"), "< 10", "657")
    add("ned6 exhaustive BIC (32768 models) + profile",
        lambda: api.run(ned6, method="bic"), "< 10", "657")
    add("uk6 bootstrap 1000 replicates (stepwise, BCa)",
        lambda: api.run(uk6, ci="bootstrap", n_boot=1000), "< 30", "526")
    add("ned6 bootstrap 1000 replicates (stepwise, BCa)",
        lambda: api.run(ned6, ci="bootstrap", n_boot=1000), "< 30", "785")
    mcmc = {"burnin": 10_000, "samples": 1000, "thinning": 10} if quick else None
    add("kosovo4 LCMCR" + (" (short chain)" if quick else " (burn-in 1e5, 1000 x 100)"),
        lambda: api.run(kosovo, method="lcmcr", mcmc=mcmc), "< 4.58", "4.58")
    # in the same run: the same sweeps as 8 numpy chains side by side (the issue-12 interim)
    eight = {**(mcmc or {}), "chains": 8}
    add("kosovo4 LCMCR, 8 numpy chains", lambda: api.run(kosovo, method="lcmcr",
                                                          mcmc=eight), "-", "4.58")
    print(f"{'kosovo4 LCMCR: compiled chain / R':<52}{rows[-2][1] / 4.58:>9.2f}x  (R 4.58 s; "
          "bench/lcmcr.py compares CPU time with the earlier sampler)", flush=True)
    add(f"simulated 10 lists, {big.observed} people: stepwise",
        lambda: api.run(big), "< 1", "-")
    add(f"simulated 10 lists, {big.observed} people: stepwise + profile",
        lambda: api.run(big, ci="profile"), "< 1", "-")
    if not quick:
        add(f"simulated 10 lists, {big.observed} people: bootstrap 200",
            lambda: api.run(big, ci="bootstrap", n_boot=200), "-", "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
