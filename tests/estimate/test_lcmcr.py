"""zichtbaar.estimate.lcmcr against R LCMCR 0.4.14 (reference-public.json, block bayes.LCMCR).

The R run used ``lcmCR(K=5, a_alpha=0.25, b_alpha=0.25, seed=12345)`` and
``lcmCR_PostSampl(burnin=100000, samples=1000, thinning=100)``. Our sampler is the same
Gibbs sampler but draws from numpy's PCG64 instead of GSL's generator, so the chains differ
and only agreement within Monte Carlo error can be asked for.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from zichtbaar import __version__
from zichtbaar.estimate import lcmcr as lcmcr_module
from zichtbaar.estimate.histories import InputError
from zichtbaar.estimate.lcmcr import (
    DEFAULT_BURNIN,
    DEFAULT_THINNING,
    LCMCRResult,
    _geweke_z,
    _Maps,
    lcmcr,
    lcmcr_from,
)
from zichtbaar.estimate.loglinear import EstimationError
from zichtbaar.estimate.rcapture import closedp

# The shared data live beside the repository (CI checks the repo out elsewhere with
# ../shared next to it), so the path is relative to this file, never absolute.
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mse"

# Tolerances with their reasons. R's chain (GSL RNG, seed 12345) cannot be replayed with
# numpy's generator, so we compare two independent chains of the same sampler.
# Posterior median: 3% relative. With R's settings N's draws have an effective sample size
# of about 100-300 on kosovo4; the Monte Carlo standard error of the median is then about
# 1% of N, so 3% is about three standard errors of the difference of two chains.
MEDIAN_REL = 0.03
# Credible intervals: 2.5% / 97.5% quantiles from ~150 effective draws move by 3-8%
# between chains (tails more), so we ask that the two 95% intervals share at least half
# of the shorter one. Disjoint or barely touching intervals (a wrong sampler, a wrong
# prior on N) fail this clearly: kosovo4's interval is about 50% of N wide.
INTERVAL_OVERLAP = 0.5


def _load(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    path = DATA / f"{name}.csv"
    if not path.is_file():
        pytest.fail(f"missing data file {path} (expected ../shared/data/mse beside the repo)")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    table = np.array(rows[1:], dtype=np.int64)
    return table[:, :-1], table[:, -1], rows[0][:-1]


@pytest.fixture(scope="module")
def reference() -> dict:
    path = DATA / "reference-public.json"
    if not path.is_file():
        pytest.fail(f"missing reference file {path}")
    return json.loads(path.read_text())["datasets"]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Length of the intersection as a share of the shorter interval."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return max(inter, 0.0) / min(a[1] - a[0], b[1] - b[0])


@pytest.fixture(scope="module")
def kosovo_r_settings() -> LCMCRResult:
    """kosovo4 with exactly the reference call's settings (the defaults); run once."""
    return lcmcr(*_load("kosovo4"), K=5, a_alpha=0.25, b_alpha=0.25, seed=12345)


@pytest.mark.slow
def test_kosovo_median_matches_r(kosovo_r_settings, reference):
    expected = reference["kosovo4"]["bayes"]["LCMCR"]["posterior_median"]  # 10520
    assert kosovo_r_settings.estimate == pytest.approx(expected, rel=MEDIAN_REL)


@pytest.mark.slow
def test_kosovo_interval_overlaps_r(kosovo_r_settings, reference):
    q = reference["kosovo4"]["bayes"]["LCMCR"]["quantiles"]
    assert _overlap(kosovo_r_settings.ci, (q["2.5%"], q["97.5%"])) >= INTERVAL_OVERLAP


@pytest.mark.slow
def test_kosovo_posterior_mean_matches_r(kosovo_r_settings, reference):
    # The sweep draws n0 and the classes of seen and unseen units in one multinomial (not
    # LCMCR's two calls): the posterior mean must still land where R's does. The mean
    # carries the upper tail, so its Monte Carlo error is about twice the median's.
    ref = reference["kosovo4"]["bayes"]["LCMCR"]
    q = ref["quantiles"]
    assert q["2.5%"] < kosovo_r_settings.mean < q["97.5%"]
    assert kosovo_r_settings.mean == pytest.approx(ref["posterior_mean"], rel=2 * MEDIAN_REL)


@pytest.mark.slow
def test_kosovo_settings_are_the_reference_call(kosovo_r_settings):
    s = kosovo_r_settings.settings
    assert (s["burnin"], s["samples"], s["thinning"]) == (100_000, 1000, 100)
    assert (DEFAULT_BURNIN, DEFAULT_THINNING) == (100_000, 100)
    assert kosovo_r_settings.samples.shape == (1000,)
    assert kosovo_r_settings.seed == 12345


@pytest.mark.slow
def test_kosovo_chain_has_converged(kosovo_r_settings):
    # Convergence of the reference-length chain itself: the first 10% and the last half of
    # the draws agree (Geweke) and there are enough effective draws for the quantiles.
    draws = kosovo_r_settings.samples.astype(float)
    assert abs(_geweke_z(draws)) < 3.0
    assert kosovo_r_settings.effective_sample_size() >= 50
    first, second = np.median(draws[:500]), np.median(draws[500:])
    assert first == pytest.approx(second, rel=2 * MEDIAN_REL)


@pytest.fixture(scope="module")
def hiv_two_seeds() -> tuple[LCMCRResult, LCMCRResult]:
    """rcapture_hiv with a quarter of R's iterations, two seeds.

    Burn-in 20,000 and thinning 30 (50,000 iterations, 2 s instead of 8 s): the sampler
    forgets its start within a few thousand iterations on these data, and 1,000 draws
    thinned by 30 still give about 150 effective draws of N, so the 3% median and 50%
    overlap tolerances hold for the same reason as with R's chain length. Two seeds that
    agree with each other and with R show the shorter chain has converged.
    """
    data = _load("rcapture_hiv")
    return (lcmcr(*data, burnin=20_000, thinning=30, seed=2024),
            lcmcr(*data, burnin=20_000, thinning=30, seed=77))


@pytest.mark.slow
def test_hiv_median_matches_r_with_shorter_chain(hiv_two_seeds, reference):
    expected = reference["rcapture_hiv"]["bayes"]["LCMCR"]["posterior_median"]  # 10905
    q = reference["rcapture_hiv"]["bayes"]["LCMCR"]["quantiles"]
    for res in hiv_two_seeds:
        assert res.estimate == pytest.approx(expected, rel=MEDIAN_REL)
        assert _overlap(res.ci, (q["2.5%"], q["97.5%"])) >= INTERVAL_OVERLAP


@pytest.mark.slow
def test_two_seeds_agree(hiv_two_seeds):
    a, b = hiv_two_seeds
    assert not np.array_equal(a.samples, b.samples)
    assert a.estimate == pytest.approx(b.estimate, rel=MEDIAN_REL)
    assert _overlap(a.ci, b.ci) >= INTERVAL_OVERLAP


@pytest.mark.slow
def test_alpha_never_collapses_to_zero(hiv_two_seeds):
    # On these data alpha often gets tiny (one or two occupied classes). The stick's second
    # shape alpha + n_{>c} must keep it: the sampler before issue 12 computed it as
    # (alpha + N + 1) - cumsum - 1, lost alpha to rounding, and a chain that drew b = 0
    # stayed at alpha = 0 for good, which pulled N's posterior down.
    for res in hiv_two_seeds:
        assert np.all(res.alpha_samples > 0) and np.all(np.isfinite(res.alpha_samples))


def test_maps_reproduce_the_direct_formulas():
    # The sweep's bookkeeping as fixed matrices must give exactly LCMCR's quantities.
    rng = np.random.default_rng(0)
    x, _, _ = _load("kosovo4")
    m, J = x.shape
    K, a_alpha, b_alpha, n, alpha = 5, 0.25, 0.25, 4400, 0.37
    maps = _Maps(x.astype(float), K, a_alpha, b_alpha, n)
    z = rng.integers(0, 50, (m + 1, K))  # class counts; the last row is the unseen
    caught = x.T @ z[:m]  # (J, K)
    size = z.sum(axis=0)
    tail = np.cumsum(size[::-1])[::-1][1:]  # n_{>c}
    shapes = maps.l1t_full @ z.ravel() + maps.l2t @ np.array([alpha, 1.0])
    S = maps.S
    np.testing.assert_array_equal(shapes[: J * K], (caught + 1).ravel())
    np.testing.assert_array_equal(shapes[J * K : 2 * J * K], (size - caught + 1).ravel())
    np.testing.assert_array_equal(shapes[2 * J * K : 2 * J * K + K - 1], size[:-1] + 1)
    np.testing.assert_allclose(shapes[2 * J * K + K - 1 : S - 2], alpha + 1 + tail)
    assert tuple(shapes[S - 2 : S]) == (a_alpha + K - 1, n)
    np.testing.assert_allclose(shapes[S:], alpha + tail)  # no rounding: alpha + whole numbers
    # the logs -> log P(history, class) and alpha's rate
    ya, yb, y1, y2, _, yw, yl = maps.rows
    y = np.append(rng.normal(size=maps.D), 1.0)
    lam_a, lam_b = y[ya:yb].reshape(J, K), y[yb:y1].reshape(J, K)
    log_sum = y[S : S + J * K].reshape(J, K)
    log_v = y[y1:y2] - y[yl:-1]
    log_1mv = y[y2 : y2 + K - 1] + y[yw:yl] - y[yl:-1]
    log_nu = np.append(log_v, 0.0) + np.concatenate([[0.0], np.cumsum(log_1mv)])
    const = (lam_b - log_sum).sum(axis=0) + log_nu
    xa = np.vstack([x, np.zeros(J)])
    expected = xa @ (lam_a - lam_b) + const
    out = y @ maps.rw_full
    np.testing.assert_allclose(out[:-1].reshape(m + 1, K), expected, atol=1e-12)
    assert out[-1] == pytest.approx(b_alpha - log_nu[-1])
    np.testing.assert_allclose(y @ maps.rnu, log_nu, atol=1e-12)


def test_large_tables_take_the_two_step_products(monkeypatch):
    # Many histories make the folded matrices large, so the sweep then multiplies in two
    # steps; the chain is the same (the products differ in rounding only).
    data = _load("kosovo4")
    folded = lcmcr(*data, burnin=1000, samples=200, thinning=3, seed=21, chains=8)
    monkeypatch.setattr(lcmcr_module, "_FUSE_FLOPS", 0)
    two_step = lcmcr(*data, burnin=1000, samples=200, thinning=3, seed=21, chains=8)
    np.testing.assert_array_equal(folded.samples, two_step.samples)
    np.testing.assert_allclose(folded.alpha_samples, two_step.alpha_samples, rtol=1e-9)


@pytest.mark.slow
def test_vectorised_chains_agree_with_the_compiled_chain(kosovo_r_settings):
    # chains > 1 run in numpy, side by side; on kosovo4 they converge within R's budget
    res = lcmcr(*_load("kosovo4"), seed=12345, chains=8)
    assert res.settings["chains"] == 8 and res.samples.shape == (1000,)
    assert res.estimate == pytest.approx(kosovo_r_settings.estimate, rel=MEDIAN_REL)
    assert _overlap(res.ci, kosovo_r_settings.ci) >= INTERVAL_OVERLAP


def test_compiled_and_vectorised_paths_share_the_basics():
    data = _load("rcapture_hiv")
    for chains in (1, 4):
        res = _short(data, 3, chains=chains)
        assert res.samples.shape == (200,)
        assert np.all(res.samples >= res.observed) and np.all(res.samples <= 21 * 1896)
        assert np.all(res.alpha_samples > 0)
        assert set(np.unique(res.k_star_samples)) <= set(range(1, 6))


def _short(data, seed, **kw):
    return lcmcr(*data, burnin=kw.pop("burnin", 500), samples=200, thinning=2, seed=seed, **kw)


def test_same_seed_gives_identical_samples():
    data = _load("kosovo4")
    a, b = _short(data, 7), _short(data, 7)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.alpha_samples, b.alpha_samples)
    c = _short(data, 8)
    assert not np.array_equal(a.samples, c.samples)


def test_result_quantities_are_consistent():
    res = _short(_load("rcapture_hiv"), 3)
    assert res.observed == 1896
    assert np.all(res.samples >= res.observed)
    assert res.hidden == res.estimate - res.observed
    assert res.median == float(np.median(res.samples))
    assert res.mean == pytest.approx(float(np.mean(res.samples)))
    lo, hi = res.ci
    assert lo <= res.estimate <= hi
    assert (lo, hi) == tuple(np.quantile(res.samples, [0.025, 0.975]))
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["version"] == __version__
    assert payload["seed"] == 3
    assert payload["settings"]["K"] == 5
    assert payload["n_samples"] == 200
    assert payload["model"] == "LCMCR K=5"
    assert payload["observed"] == 1896 and payload["hidden"] == res.hidden
    assert payload["ci"] == [lo, hi] and payload["ci_method"]
    assert payload["AIC"] is None and payload["deviance"] is None  # no likelihood fit
    assert payload["warnings"] == list(res.warnings)


def test_duck_typed_wrapper_and_progress():
    patterns, counts, lists = _load("kosovo4")
    calls: list[tuple[float, str]] = []
    histories = SimpleNamespace(patterns=patterns, counts=counts, lists=lists)
    a = lcmcr_from(
        histories,
        burnin=300,
        samples=100,
        thinning=3,
        seed=11,
        progress=lambda frac, msg: calls.append((frac, msg)),
    )
    b = lcmcr(patterns, counts, lists, burnin=300, samples=100, thinning=3, seed=11)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert calls and calls[-1][0] == 1.0
    assert all(f1 < f2 for (f1, _), (f2, _) in itertools.pairwise(calls))
    assert calls[0][1].startswith("burn-in") and "100 of 100 draws" in calls[-1][1]


def test_repeated_histories_are_summed():
    # one row per person (or per covariate value) gives the same chain as the table
    patterns, counts, lists = _load("rcapture_hiv")
    split = np.vstack([patterns, patterns])
    halves = np.concatenate([counts // 2, counts - counts // 2])
    a = _short((patterns, counts, lists), 5)
    b = _short((split, halves, lists), 5)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_structural_zeros_are_refused():
    patterns, counts, lists = _load("kosovo4")
    histories = SimpleNamespace(patterns=patterns, counts=counts, lists=lists,
                                structural_zeros=((1, 1, 0, 0),))
    with pytest.raises(EstimationError) as err:
        lcmcr_from(histories, burnin=10, samples=5, thinning=1, seed=1)
    assert err.value.code == "lcmcr_structural_zeros"


def _simulate(seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    """2000 people, six lists; 60% hard to register (p=0.15 per list), 40% easy (p=0.6)."""
    rng = np.random.default_rng(seed)
    n_true = 2000
    hard = rng.random(n_true) < 0.6
    p = np.where(hard, 0.15, 0.6)[:, None]
    captured = (rng.random((n_true, 6)) < p).astype(np.int64)
    seen = captured[captured.any(axis=1)]
    patterns, counts = np.unique(seen, axis=0, return_counts=True)
    return n_true, patterns, counts


@pytest.mark.slow
def test_interval_covers_truth_under_heterogeneity():
    n_true, patterns, counts = _simulate(2)
    lists = list("ABCDEF")
    res = lcmcr(patterns, counts, lists, burnin=10_000, samples=500, thinning=20, seed=5)
    lo, hi = res.ci
    assert lo <= n_true <= hi
    # the heterogeneity matters: the independence model Mt misses by far more than the
    # interval width, so covering the truth is not an accident of a wide interval
    mt = closedp(patterns, counts, lists)["Mt"].estimate
    assert n_true - mt > hi - lo


@pytest.mark.parametrize(
    ("kwargs", "patterns", "counts", "code"),
    [
        ({}, np.array([[0, 0], [1, 1]]), np.array([3, 4]), "all_zero_history"),
        ({}, np.array([[1, 2], [1, 1]]), np.array([3, 4]), "not_binary"),
        ({}, np.array([[1, 0], [1, 1]]), np.array([3, -4]), "negative_count"),
        ({}, np.array([[1, 0], [1, 1]]), np.array([3, 4.5]), "fractional_count"),
        ({}, np.array([[1, 0], [1, 1]]), np.array([3]), "bad_shape"),
        ({}, np.array([[1, 0], [1, 1]]), np.array([0, 0]), "empty"),
        ({}, np.array([[1], [1]]), np.array([3, 4]), "bad_shape"),
        ({"K": 1}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"thinning": 0}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"samples": 2.5}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"a_alpha": 0.0}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"b_alpha": float("nan")}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"seed": -1}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
        ({"burnin": 10**9}, np.array([[1, 0], [1, 1]]), np.array([3, 4]), "bad_option"),
    ],
)
def test_bad_input_raises_input_error(kwargs, patterns, counts, code):
    settings = {"burnin": 10, "samples": 5, "thinning": 1, "seed": 1, **kwargs}
    with pytest.raises(InputError) as err:
        lcmcr(patterns, counts, ["A", "B"], **settings)
    assert err.value.code == code
    assert err.value.message  # a sentence for the user, not a traceback


def test_good_input_of_the_same_shape_runs():
    # the success case shares the setup of the failure cases above
    res = lcmcr(np.array([[1, 0], [0, 1], [1, 1]]), np.array([30, 40, 10]), ["A", "B"],
                burnin=10, samples=5, thinning=1, seed=1)
    assert res.samples.shape == (5,)
    assert np.all(res.samples >= 80)
    assert np.all(res.samples <= 21 * 80)  # LCMCR's bound n0 <= 20 n
