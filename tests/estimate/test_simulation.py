"""Coverage of the default method on populations of known size.

Default = SparseMSE stepwise (p 0.02) with the profile-likelihood 95%
interval. Three scenarios, 200 replicates each, five lists, N = 2000:

- independent lists;
- list dependence (referrals: people on list A are far more often on B;
  people on C rarely on D) - stepwise must find these interactions;
- heterogeneity explained by a recorded covariate (two groups with very
  different catchability), estimated per stratum with ``strata=`` - the
  way heterogeneity is handled in practice (HRDAG, Van der Heijden).

Requirement: every scenario covers the truth in at least 90% of replicates.
SparseMSE's model-conditional interval (``ci="model"``) is normal on the log of
the intercept and ignores the Poisson noise of the hidden count; per stratum,
where the hidden number is small, it covered only 81.5%. That is why the
default interval is the profile likelihood (Rcapture ``closedpCI.t``), which
every scenario here must bring to >= 90%; the model-conditional interval keeps
a regression floor.
Known limit (not asserted, see docs/subsystems/mse.md): heterogeneity that
no covariate explains and that is shared by all lists biases every two-way
log-linear model downward (measured: coverage 38% with a N(0, 0.3) random
effect on the logit, 1% with 0.5); LCMCR is the method for that case.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from zichtbaar.estimate import api
from zichtbaar.estimate.histories import CaptureHistories
from zichtbaar.estimate.loglinear import pool_context

N = 2000
REPLICATES = 200
P = np.array([0.15, 0.2, 0.25, 0.3, 0.1])
LISTS = ("A", "B", "C", "D", "E")


def _population(rng: np.random.Generator, scenario: str) -> tuple[np.ndarray, np.ndarray]:
    group = np.zeros(N, dtype=int)
    if scenario == "independent":
        x = rng.random((N, 5)) < P
    elif scenario == "dependent":
        x = rng.random((N, 5)) < P
        on_a, on_c = x[:, 0], x[:, 2]
        x[on_a, 1] = rng.random(on_a.sum()) < 0.5
        x[on_c, 3] = rng.random(on_c.sum()) < 0.1
    else:  # heterogeneity explained by a covariate
        group = (rng.random(N) < 0.4).astype(int)
        p = np.where(group[:, None] == 1, P * 2.0, P * 0.9)
        x = rng.random((N, 5)) < p
    return x.astype(np.int8), group


def _covered(args: tuple[str, int]) -> list[bool]:
    scenario, seed = args
    ci = "default"
    if scenario.endswith("_model"):
        scenario, ci = scenario.removesuffix("_model"), "model"
    rng = np.random.default_rng(seed)
    x, group = _population(rng, scenario)
    seen = x.any(axis=1)
    if scenario != "stratified":
        pat, cnt = np.unique(x[seen], axis=0, return_counts=True)
        res = api.run(CaptureHistories(LISTS, pat, cnt), ci=ci)
        lo, hi = res["ci"]
        return [lo <= N <= hi]
    rows = np.column_stack([x[seen], group[seen]])
    keys, cnt = np.unique(rows, axis=0, return_counts=True)
    h = CaptureHistories(LISTS, keys[:, :5], cnt,
                         covariates={"g": tuple(str(v) for v in keys[:, 5])})
    res = api.run(h, strata="g", ci=ci)
    truth = {str(g): int((group == g).sum()) for g in (0, 1)}
    return [s["ci"][0] <= truth[s["stratum"]] <= s["ci"][1] for s in res["strata"]]


@pytest.fixture(scope="module")
def coverage() -> dict[str, float]:
    tasks = [(sc, 1000 * i + r) for i, sc in enumerate(("independent", "dependent",
                                                         "stratified", "stratified_model"))
             for r in range(REPLICATES)]
    with ProcessPoolExecutor(max_workers=2, mp_context=pool_context()) as pool:
        results = list(pool.map(_covered, tasks, chunksize=25))
    out: dict[str, list[bool]] = {}
    for (sc, _), hits in zip(tasks, results, strict=True):
        out.setdefault(sc, []).extend(hits)
    return {sc: float(np.mean(h)) for sc, h in out.items()}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["independent", "dependent", "stratified"])
def test_interval_covers_truth_at_least_90_percent(
    scenario: str, coverage: dict[str, float]
) -> None:
    assert coverage[scenario] >= 0.90, coverage


@pytest.mark.slow
def test_model_conditional_interval_per_stratum_regression_floor(
    coverage: dict[str, float],
) -> None:
    """SparseMSE's interval is below 90% per stratum (see module docstring); guard the floor."""
    assert coverage["stratified_model"] >= 0.75, coverage
