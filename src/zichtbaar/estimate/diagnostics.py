"""Checks a careful analyst runs next to every estimate: can MSE see here at all?

A log-linear model cannot see capture heterogeneity that all lists share (people that no list
reaches easily): it then gives a confident number that is far too low. Sparse overlaps make
every model guess. So each result carries, next to the chosen estimate:

* **overlap sparsity** - how many records are on more than one list, how many observable
  capture histories are empty, how many pairs of lists share fewer than 5 people;
* **Chao's lower bound** (Chao 1987, for K lists): n + (K-1)/K f1^2 / (2 f2), with its
  log-normal interval; under heterogeneity it is a lower bound for N;
* **Rcapture's heterogeneity models** Mh Chao (LB) and Mh Darroch (``closedp.t``) with their
  log-normal intervals.

Warnings (typed, sentences in :mod:`messages`): ``sparse_overlap`` when too few records link
lists; ``below_lower_bound`` when even the lower end of the lower bound's interval is above
the estimate's interval; ``models_disagree`` when a heterogeneity model's interval and the
estimate's interval do not overlap. Thresholds were set on simulated populations
(tests/estimate/test_diagnostics.py): silent on homogeneous ones, firing on the
heterogeneous (true N 7,000) and sparse (63 of 1,300 seen) ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from .histories import CaptureHistories
from .messages import warning

__all__ = ["chao_lower_bound", "diagnose", "overlap_sparsity"]

#: Fewer records on two or more lists than this: every model mostly guesses.
MIN_MULTI = 30
#: Or fewer than this share of the records on two or more lists.
MIN_MULTI_SHARE = 0.05
SMALL_PAIR = 5  # a pair of lists that shares fewer people than this is "small"
MH_MODELS = ("Mh Chao (LB)", "Mh Darroch")


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _captures(h: CaptureHistories) -> tuple[np.ndarray, np.ndarray]:
    pat = np.asarray(h.patterns, dtype=np.int64)
    cnt = np.asarray(h.counts, dtype=np.int64)
    return pat, cnt


def overlap_sparsity(h: CaptureHistories) -> dict[str, Any]:
    """How much the lists overlap: the information every MSE model lives on."""
    pat, cnt = _captures(h)
    k = pat.shape[1]
    times = pat.sum(axis=1)
    n = int(cnt.sum())
    multi = int(cnt[times >= 2].sum())
    cells = 2**k - 1
    seen = {tuple(int(v) for v in row) for row, c in zip(pat, cnt, strict=True) if c > 0}
    pairs = {}
    for i, j in itertools.combinations(range(k), 2):
        pairs[f"{h.lists[i]}:{h.lists[j]}"] = int(cnt[(pat[:, i] == 1) & (pat[:, j] == 1)].sum())
    freq = [int(cnt[times == t].sum()) for t in range(1, k + 1)]
    return {
        "observed": n, "lists": k, "in_two_or_more": multi,
        "share_in_two_or_more": multi / n if n else 0.0,
        "cells": cells, "empty_cells": cells - len(seen),
        "small_pairs": sorted(p for p, v in pairs.items() if v < SMALL_PAIR),
        "pair_overlaps": pairs, "seen_times": freq,
    }


def chao_lower_bound(h: CaptureHistories, level: float = 0.95) -> dict[str, Any]:
    """Chao's (1987) lower bound for N from f1 and f2, with its log-normal interval.

    f_t is the number of people on exactly t lists. With f2 = 0 the bias-corrected form
    (K-1)/K f1 (f1 - 1) / 2 is used and the interval is left open (None).
    """
    pat, cnt = _captures(h)
    k = pat.shape[1]
    times = pat.sum(axis=1)
    n = int(cnt.sum())
    f1 = int(cnt[times == 1].sum())
    f2 = int(cnt[times == 2].sum())
    a = (k - 1) / k
    if f2 > 0:
        f0 = a * f1 * f1 / (2.0 * f2)
        r = f1 / f2
        var = f2 * (a * a * r**4 / 4.0 + a * a * r**3 + a * r * r / 2.0)
    else:
        f0 = a * f1 * (f1 - 1) / 2.0
        var = math.nan
    lo: float | None = None
    hi: float | None = None
    if f0 > 0 and math.isfinite(var):
        z = float(stats.norm.ppf(0.5 + level / 2.0))
        c = math.exp(z * math.sqrt(math.log(1.0 + var / f0**2)))
        lo, hi = n + f0 / c, n + f0 * c
    elif f0 == 0:
        lo = hi = float(n)
    return {"estimate": n + f0, "ci": [lo, hi], "f1": f1, "f2": f2,
            "stderr": _finite(math.sqrt(var)) if math.isfinite(var) else None,
            "ci_method": "log-normal (Chao 1987)"}


def _mh_models(h: CaptureHistories) -> list[dict[str, Any]]:
    """Rcapture's Mh Chao (LB) and Mh Darroch; empty when they cannot be fitted."""
    from . import rcapture

    if h.n_lists < 3 or getattr(h, "structural_zeros", ()):
        return []
    try:
        table = rcapture.closedp_from(h)
    except Exception:  # a diagnostic must never stop the estimate
        return []
    out = []
    for name in MH_MODELS:
        try:
            row = table[name]
        except KeyError:
            continue
        if not math.isfinite(row.estimate):
            continue
        ci = list(row.ci) if row.ci is not None else [None, None]
        out.append({"model": name, "estimate": float(row.estimate),
                    "ci": [_finite(ci[0]), _finite(ci[1])], "info_fit": row.info_fit,
                    "ci_method": "log-normal (Rcapture closedp.t)"})
    return out


def _interval(result: Mapping[str, Any]) -> tuple[float, float] | None:
    est = result.get("estimate")
    if est is None:
        return None
    lo, hi = (result.get("ci") or [None, None])[:2]
    return (float(est if lo is None else lo), math.inf if hi is None else float(hi))


def diagnose(h: CaptureHistories, result: Mapping[str, Any],
             level: float = 0.95, *, compare_models: bool = True
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Diagnostics for one estimate on ``h`` and the warnings they raise."""
    sparsity = overlap_sparsity(h)
    lb = chao_lower_bound(h, level)
    mh = _mh_models(h)
    warns: list[dict[str, Any]] = []
    if (sparsity["in_two_or_more"] < MIN_MULTI
            or sparsity["share_in_two_or_more"] < MIN_MULTI_SHARE):
        warns.append(warning(
            "sparse_overlap", in_two_or_more=sparsity["in_two_or_more"],
            observed=sparsity["observed"],
            percent=f"{100 * sparsity['share_in_two_or_more']:.1f}",
            empty_cells=sparsity["empty_cells"], cells=sparsity["cells"]))
    chosen = _interval(result)
    if chosen is not None:
        lo, hi = chosen
        lb_lo = lb["ci"][0]
        if lb_lo is not None and lb_lo > hi:
            warns.append(warning("below_lower_bound", high=round(hi),
                                 bound=round(lb["estimate"]), bound_low=round(lb_lo),
                                 bound_high=None if lb["ci"][1] is None
                                 else round(lb["ci"][1])))
        if compare_models:
            for row in mh:
                m_lo, m_hi = row["ci"]
                if row["info_fit"] != 0 or m_lo is None or m_hi is None:
                    continue
                if m_lo > hi or m_hi < lo:
                    warns.append(warning(
                        "models_disagree", model=row["model"], estimate=round(row["estimate"]),
                        low=round(m_lo), high=round(m_hi), own_low=round(lo),
                        own_high=None if not math.isfinite(hi) else round(hi)))
    diag = {"sparsity": sparsity, "chao_lower_bound": lb, "heterogeneity_models": mh,
            "level": level}
    return diag, warns


def summary_lines(diag: Mapping[str, Any], lang: str = "nl") -> Sequence[str]:
    """Short lines for the terminal and reports: the comparators next to the estimate."""
    nl = lang == "nl"
    out = []
    sp = diag.get("sparsity") or {}
    if sp:
        out.append((f"Overlap: {sp['in_two_or_more']} van {sp['observed']} op twee of meer "
                    f"lijsten; {sp['empty_cells']} van {sp['cells']} combinaties leeg")
                   if nl else
                   (f"Overlap: {sp['in_two_or_more']} of {sp['observed']} on two or more "
                    f"lists; {sp['empty_cells']} of {sp['cells']} combinations empty"))
    rows = []
    lb = diag.get("chao_lower_bound")
    if lb:
        rows.append(("Chao-ondergrens" if nl else "Chao lower bound", lb))
    rows += [(f"Rcapture {r['model']}", r) for r in diag.get("heterogeneity_models") or []]
    for label, r in rows:
        lo, hi = r.get("ci") or [None, None]
        rng = f"{_num(lo)} - {_num(hi)}"
        out.append(f"{label}: {_num(r['estimate'])} ({rng})")
    return out


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}".replace(",", " ")
