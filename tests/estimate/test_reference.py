"""Agreement with the R reference run (``../shared/data/mse/reference-public.json``).

Tolerances, and why:

- Model choice: identical terms (as sets), including the terms SparseMSE puts
  at minus infinity. Model choice is discrete; any difference is a bug.
- Point estimates, deviance, AIC, BIC: relative 1e-5 (the issue allows 0.5%).
  Both sides are maximum-likelihood fits of the same model; only the
  convergence criteria differ (R's ``glm`` stops at a relative deviance
  change of 1e-8).
- Deterministic intervals: model-conditional 1e-4 (same formula on the same
  intercept and standard error); profile likelihood 0.5% (the issue allows
  2%): Rcapture finds the profile maximum and the roots with ``optimize`` /
  ``uniroot`` at a tolerance of about 1e-4 in N and uses Stirling's formula
  for the multinomial constant above N = 100.
- Seeded bootstrap (1000 replicates, seed 1234): numpy's generator is not R's,
  so only Monte-Carlo agreement is possible. Bootstrap median within 3% and
  BCa intervals overlapping by at least 60% of the shorter one. Exception
  ned6: its bootstrap distribution is bimodal (stepwise picks one of two
  model families), so the median of 1000 replicates has a Monte-Carlo
  standard error near 10% (in R's run as much as in ours); there the mean
  and the 2.5%/97.5% percentiles of the replicates are compared (3%).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from zichtbaar.estimate import api
from zichtbaar.estimate.histories import CaptureHistories
from zichtbaar.estimate.identifiability import checkident, count_triples
from zichtbaar.estimate.loglinear import LogLinear
from zichtbaar.estimate.selection import select_model

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mse"
DATASETS = ("uk6", "ned6", "kosovo4", "rcapture_hiv")
POINT_REL = 1e-5
MODEL_CI_REL = 1e-4
PROFILE_REL = 5e-3
BOOT_MEDIAN_REL = 0.03
BOOT_OVERLAP = 0.6


@cache
def reference() -> dict[str, Any]:
    path = DATA / "reference-public.json"
    assert path.is_file(), f"reference file missing: {path}"
    return json.loads(path.read_text())["datasets"]


@cache
def histories(name: str) -> CaptureHistories:
    path = DATA / f"{name}.csv"
    assert path.is_file(), f"data set missing: {path}"
    return api.load_csv(path)


def rcapture_terms(model: str, lists: list[str]) -> set[str]:
    """Rcapture's '[12,13,5]' notation (1-based list digits) as {"A:B", "A:C"}."""
    out = set()
    for part in re.findall(r"\d+", model):
        if len(part) >= 2:
            out.add(":".join(lists[int(c) - 1] for c in part))
    return out


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("block,pthresh", [("stepwise_p0.02", 0.02), ("stepwise_p0.05", 0.05),
                                           ("stepwise_p0.001", 0.001)])
def test_stepwise_matches_sparsemse(name: str, block: str, pthresh: float) -> None:
    ref = reference()[name]["sparsemse"][block]
    h = histories(name)
    fit = select_model(h, "stepwise", pthresh=pthresh, ci="model").result
    if "emptyoverlaps_in_model" in ref:
        assert set(fit.neg_inf_terms) == set(ref["emptyoverlaps_in_model"])
    assert set(fit.terms) - set(fit.neg_inf_terms) == set(ref["terms"])
    assert rel(fit.estimate, ref["estimate"]["point est."]) < POINT_REL
    assert rel(fit.ci[0], ref["estimate"]["2.5%"]) < MODEL_CI_REL
    assert rel(fit.ci[1], ref["estimate"]["97.5%"]) < MODEL_CI_REL
    if "deviance" in ref:
        assert rel(fit.deviance, ref["deviance"]) < POINT_REL
        assert fit.df == ref["df_residual"]
        # SparseMSE's AIC counts each minus-infinity term as a parameter, as ours does
        assert rel(fit.aic, ref["aic_adjusted"]) < POINT_REL
    # checks that need no reference
    assert fit.ci[0] < fit.estimate < fit.ci[1]
    assert fit.hidden == pytest.approx(fit.estimate - fit.observed)


@pytest.mark.parametrize("name", DATASETS)
def test_main_effects_match_sparsemse_and_rcapture(name: str) -> None:
    ref = reference()[name]
    h = histories(name)
    fit = LogLinear(h).fit()
    sp = ref["sparsemse"]["main_effects"]
    assert rel(fit.estimate, sp["estimate"]["point est."]) < POINT_REL
    assert rel(fit.deviance, sp["deviance"]) < POINT_REL
    assert fit.df == sp["df_residual"]
    lo, hi = fit.conf_int("model")
    assert rel(lo, sp["estimate"]["2.5%"]) < MODEL_CI_REL
    assert rel(hi, sp["estimate"]["97.5%"]) < MODEL_CI_REL
    rc = ref["rcapture"]["closedpCI.t_main_effects"]
    # R's Poisson AIC carries the same log(y!) constant as ours
    assert rel(fit.aic, rc["results"]["AIC"]) < POINT_REL
    assert rel(fit.bic, rc["results"]["BIC"]) < POINT_REL
    plo, phi = fit.conf_int("profile")
    assert rel(plo, rc["CI"]["infCL"]) < PROFILE_REL
    assert rel(phi, rc["CI"]["supCL"]) < PROFILE_REL


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_exhaustive_search_matches_closedpms(name: str, criterion: str) -> None:
    """Best model over all two-way models, minus-infinity terms allowed (as
    SparseMSE / MultipleSystemsEstimation): Rcapture's ``best_*_any`` row."""
    ref = reference()[name]["rcapture"]["closedpMS.t"]
    row = ref[f"best_{criterion.upper()}_any"]
    h = histories(name)
    res = api.run(h, method=criterion, ci="none")
    assert set(res["model"]) == rcapture_terms(row["model"], list(h.lists))
    assert rel(res["estimate"], row["row"]["abundance"]) < POINT_REL
    assert rel(res["fit"][criterion], row["row"][criterion.upper()]) < POINT_REL
    assert res["n_models"] == ref["n_models"]
    ranked = [c[criterion] for c in res["candidates"]]
    assert ranked == sorted(ranked)


def test_ned6_bic_matches_multiple_systems_estimation() -> None:
    ref = reference()["ned6"]["bayes"]["mse_bic"]
    res = api.run(histories("ned6"), method="bic", ci="none")
    assert set(res["model"]) == rcapture_terms(ref["model"], list(histories("ned6").lists))
    assert rel(res["estimate"], ref["popest"]) < POINT_REL
    assert set(res["neg_inf_terms"]) == {"I:K", "K:R"}


@pytest.mark.parametrize("name", ["uk6", "kosovo4", "rcapture_hiv"])
def test_profile_interval_of_best_bic_matches_closedpci(name: str) -> None:
    ref = reference()[name]["rcapture"]["closedpCI.t_best_BIC"]
    res = api.run(histories(name), method="bic")
    assert res["ci_method"] == "profile"
    assert rel(res["estimate"], ref["results"]["abundance"]) < POINT_REL
    assert rel(res["ci"][0], ref["CI"]["infCL"]) < PROFILE_REL
    assert rel(res["ci"][1], ref["CI"]["supCL"]) < PROFILE_REL


@pytest.mark.parametrize("name", DATASETS)
def test_existence_checks_match_checkident(name: str) -> None:
    ref = reference()[name]["sparsemse"]["existence_checks"]
    h = histories(name)
    pairs = [f"{a}:{b}" for i, a in enumerate(h.lists) for b in h.lists[i + 1:]]
    assert count_triples(h) == ref["count_triples"]
    assert checkident(h, []) == ref["checkident_main_effects"]
    assert checkident(h, pairs) == ref["checkident_all_two_way"]
    assert sorted(h.non_overlapping_pairs()) == sorted(ref["non_overlapping_pairs"])


def test_artificial3_identifiability_as_chan_silverman_vincent_table2() -> None:
    """All three two-way effects: not identifiable; AB (alone or with AC or BC):
    no MLE; AC and/or BC without AB: fine (Chan, Silverman & Vincent 2021)."""
    h = histories("artificial3")
    assert checkident(h, ["A:B", "A:C", "B:C"]) in (2, 3)
    assert checkident(h, ["A:B"]) == 1
    assert checkident(h, ["A:B", "A:C"]) == 1
    assert checkident(h, ["A:B", "B:C"]) == 1
    assert checkident(h, ["A:C"]) == 0
    assert checkident(h, ["A:C", "B:C"]) == 0
    assert checkident(h, []) == 0


@pytest.fixture(scope="module")
def bootstraps() -> dict[str, dict[str, Any]]:
    return {name: api.run(histories(name), ci="bootstrap", n_boot=1000, seed=1234)
            for name in DATASETS}


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_bootstrap_agrees_with_sparsemse_within_monte_carlo_error(
    name: str, bootstraps: dict[str, dict[str, Any]]
) -> None:
    ref = reference()[name]["sparsemse_bootstrap"]
    res = bootstraps[name]
    boot = res["bootstrap"]
    assert res["ci_method"] == "bootstrap"
    assert boot["nboot"] == 1000 and boot["n_failed"] == 0
    assert rel(res["estimate"], ref["popest"]) < POINT_REL
    assert boot["ahat"] == pytest.approx(ref["ahat"], rel=1e-6)  # jackknife: deterministic
    lo, hi = res["ci"]
    rlo, rhi = ref["BCaquantiles"]["0.025"], ref["BCaquantiles"]["0.975"]
    overlap = max(0.0, min(hi, rhi) - max(lo, rlo)) / min(hi - lo, rhi - rlo)
    assert overlap >= BOOT_OVERLAP
    if name == "ned6":
        assert rel(boot["mean"], ref["bootreps_mean"]) < 0.03
        assert rel(boot["percentiles"]["2.5%"], ref["bootreps_summary"]["2.5%"]) < 0.03
        assert rel(boot["percentiles"]["97.5%"], ref["bootreps_summary"]["97.5%"]) < 0.03
    else:
        assert rel(boot["median"], ref["bootreps_summary"]["50%"]) < BOOT_MEDIAN_REL


def test_bootstrap_is_reproducible_and_independent_of_workers() -> None:
    h = histories("kosovo4")
    a = api.run(h, ci="bootstrap", n_boot=60, seed=7, workers=1)
    b = api.run(h, ci="bootstrap", n_boot=60, seed=7, workers=2)
    c = api.run(h, ci="bootstrap", n_boot=60, seed=8, workers=1)
    assert a["ci"] == b["ci"]
    assert a["ci"] != c["ci"]
