"""Diagnostics next to the estimate: they warn where MSE cannot see and stay silent elsewhere.

Simulated populations (seeded numpy, no reference software needed):
* heterogeneous: true N 7,000, 70% of people hard to reach by every list (capture
  probability x 0.08) - the log-linear models have no term for this and come out far too low;
* sparse: 1,300 people of whom under 100 are seen, a handful on two lists;
* homogeneous: every person equally catchable - every check must stay silent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zichtbaar.estimate import api
from zichtbaar.estimate.diagnostics import chao_lower_bound, overlap_sparsity
from zichtbaar.estimate.histories import CaptureHistories
from zichtbaar.estimate.messages import MESSAGES

CODES = {"sparse_overlap", "below_lower_bound", "models_disagree"}


def _population(seed: int, n_true: int, probs: list[float],
                hard: tuple[float, float] | None = None) -> CaptureHistories:
    rng = np.random.default_rng(seed)
    p = np.broadcast_to(np.asarray(probs), (n_true, len(probs)))
    if hard is not None:
        share, factor = hard
        p = p * np.where(rng.random(n_true) < share, factor, 1.0)[:, None]
    x = rng.random((n_true, len(probs))) < p
    seen = x[x.any(axis=1)].astype(np.int8)
    patterns, counts = np.unique(seen, axis=0, return_counts=True)
    return CaptureHistories(tuple("ABCDE"[: len(probs)]), patterns, counts)


def heterogeneous(seed: int) -> CaptureHistories:
    return _population(seed, 7000, [0.5, 0.45, 0.4, 0.5], hard=(0.7, 0.08))


def sparse(seed: int) -> CaptureHistories:
    return _population(seed, 1300, [0.09, 0.08, 0.1, 0.07], hard=(0.9, 0.07))


def homogeneous(seed: int) -> CaptureHistories:
    return _population(seed, 2000, [0.25, 0.2, 0.3, 0.15])


def _codes(result: dict) -> set[str]:
    return {w["code"] for w in result["warnings"]} & CODES


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_heterogeneous_population_warns_that_the_estimate_is_too_low(seed):
    res = api.run(heterogeneous(seed))
    _lo, hi = res["ci"]
    assert hi < 7000  # the failure the issue describes: a confident number, far too low
    codes = _codes(res)
    assert codes & {"below_lower_bound", "models_disagree"}
    assert "sparse_overlap" not in codes
    diag = res["diagnostics"]
    assert diag["chao_lower_bound"]["estimate"] > res["estimate"]
    assert {m["model"] for m in diag["heterogeneity_models"]} == {"Mh Chao (LB)", "Mh Darroch"}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sparse_population_warns_about_overlap(seed):
    h = sparse(seed)
    assert h.observed < 100  # of 1,300
    res = api.run(h)
    assert "sparse_overlap" in _codes(res)
    w = next(w for w in res["warnings"] if w["code"] == "sparse_overlap")
    assert w["in_two_or_more"] < 30 and w["observed"] == h.observed
    assert str(w["in_two_or_more"]) in w["message_nl"] and "overlap" in w["message_en"]


@pytest.mark.parametrize("seed", range(12))
def test_homogeneous_population_stays_silent(seed):
    res = api.run(homogeneous(seed))
    assert _codes(res) == set()
    _lo, hi = res["ci"]
    lb = res["diagnostics"]["chao_lower_bound"]
    assert lb["ci"][0] <= hi  # the lower bound's interval reaches the estimate's


@pytest.mark.parametrize("method", ["aic", "rcapture", "main"])
def test_every_method_carries_diagnostics(method):
    res = api.run(heterogeneous(0), method=method)
    assert res["diagnostics"]["sparsity"]["observed"] == res["observed"]
    json.dumps(res, allow_nan=False)


def test_chao_lower_bound_by_hand():
    # f1 = 30, f2 = 10, K = 3: f0 = (2/3) * 900 / 20 = 30
    h = CaptureHistories(("A", "B", "C"), np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0],
                                                   [1, 1, 1]]), np.array([20, 10, 10, 5]))
    lb = chao_lower_bound(h)
    assert (lb["f1"], lb["f2"]) == (30, 10)
    assert lb["estimate"] == pytest.approx(45 + 30)
    lo, hi = lb["ci"]
    assert h.observed < lo < lb["estimate"] < hi
    sp = overlap_sparsity(h)
    assert sp["in_two_or_more"] == 15 and sp["empty_cells"] == 3 and sp["cells"] == 7
    assert sp["seen_times"] == [30, 10, 5]


def test_warning_codes_have_both_sentences():
    for code in CODES:
        assert {"nl", "en"} <= MESSAGES[code].keys()


def _cli(tmp_path: Path, h: CaptureHistories, *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "lists.csv"
    rows = [",".join([*h.lists, "count"])]
    rows += [",".join([*map(str, p), str(c)]) for p, c in zip(h.patterns, h.counts,
                                                             strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return subprocess.run([sys.executable, "-m", "zichtbaar.estimate.cli", str(path), *args],
                          capture_output=True, text=True, check=False)


def test_cli_shows_diagnostics_in_table_and_json(tmp_path):
    h = heterogeneous(0)
    table = _cli(tmp_path, h, "--lang", "en")
    assert table.returncode == 0, table.stderr
    assert "Chao lower bound" in table.stdout and "Rcapture Mh Darroch" in table.stdout
    assert "lower bound" in table.stdout.split("Warnings:")[1]
    out = _cli(tmp_path, h, "--format", "json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert {"below_lower_bound", "models_disagree"} & {w["code"] for w in payload["warnings"]}
    assert payload["diagnostics"]["chao_lower_bound"]["f1"] > 0
    csv_out = _cli(tmp_path, h, "--format", "csv")
    assert "below_lower_bound" in csv_out.stdout or "models_disagree" in csv_out.stdout


def test_cli_stays_silent_on_homogeneous(tmp_path):
    out = _cli(tmp_path, homogeneous(0), "--format", "json")
    payload = json.loads(out.stdout)
    assert not CODES & {w["code"] for w in payload["warnings"]}
