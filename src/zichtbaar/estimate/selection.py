"""Model selection: which list interactions go into the model.

The estimate depends mostly on this choice, so every candidate that was
skipped (no finite estimate, not identifiable, did not converge) is recorded
with its reason instead of silently dropped.

- ``stepwise``: SparseMSE ``stepwisefit`` - from main effects, add the
  two-list interaction whose overlap count has the smallest two-sided Poisson
  p-value under the current fit, if below ``pthresh`` and the enlarged model
  passes ``checkident``; ties go to the first pair in list order.
- ``aic`` / ``bic``: every model with main effects plus any set of two-list
  interactions (Rcapture ``closedpMS.t``), minimum criterion among models
  that pass the checks.
- ``main``: main effects only; ``fixed``: the given terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np
from scipy.special import pdtr, pdtrc

from .histories import CaptureHistories
from .identifiability import check_spec, mle_exists
from .loglinear import (
    EstimationError,
    LogLinearResult,
    ModelSpec,
    build_spec,
    cell_patterns,
    fit_batch,
    fit_spec,
    parse_terms,
    term_name,
)
from .messages import message_for

__all__ = ["METHODS", "Selection", "select_model"]

METHODS = ("stepwise", "aic", "bic", "main", "fixed")
MAX_EXHAUSTIVE_LISTS = 6
CHECK_NAMES = {1: "no_mle", 2: "not_identifiable", 3: "no_mle_not_identifiable"}


@dataclass(frozen=True, eq=False)
class Selection:
    """The chosen model and how it was chosen."""

    method: str
    result: LogLinearResult
    candidates: tuple[dict[str, Any], ...] = ()
    skipped: tuple[dict[str, Any], ...] = ()
    path: tuple[dict[str, Any], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, n_candidates: int = 10) -> dict[str, Any]:
        out = self.result.to_dict()
        out["method"] = self.method
        out["selection"] = {
            "settings": self.settings,
            "path": list(self.path),
            "candidates": list(self.candidates[:n_candidates]),
            "n_candidates": len(self.candidates),
            "n_skipped": len(self.skipped),
            "skipped": list(self.skipped[:n_candidates]),
        }
        return out


def _fit_terms(h: CaptureHistories, y_all: np.ndarray, terms: Sequence[tuple[int, ...]],
               beta0: np.ndarray | None = None, with_cov: bool = True) -> LogLinearResult:
    spec = build_spec(h.lists, y_all, terms, h.structural_zeros)
    return fit_spec(spec, y_all, h.observed, beta0=beta0, with_cov=with_cov)


def stepwise(
    h: CaptureHistories, pthresh: float = 0.02, *, with_cov: bool = True
) -> tuple[LogLinearResult, list[dict[str, Any]]]:
    """SparseMSE ``stepwisefit`` (see module docstring). Returns (fit, path)."""
    k = h.n_lists
    y_all = h.cell_counts().astype(float)
    pat = cell_patterns(k)
    pairs = list(combinations(range(k), 2))
    both = [(pat[:, i] == 1) & (pat[:, j] == 1) for i, j in pairs]
    both_mat = np.array(both, dtype=float)
    nstar = both_mat @ y_all
    model: list[tuple[int, int]] = []
    fit = _fit_terms(h, y_all, model, with_cov=with_cov)
    path: list[dict[str, Any]] = []
    if pthresh <= 0:
        return fit, path
    while len(model) < len(pairs):
        spec = fit.spec
        assert spec is not None and fit.mu is not None
        mu_all = np.zeros(len(y_all))
        mu_all[spec.cells] = fit.mu
        pstar = both_mat @ mu_all
        # two-sided Poisson p-value as SparseMSE: min(P(X <= n), P(X >= n))
        upper = np.where(nstar > 0, pdtrc(np.maximum(nstar - 1, 0), pstar), 1.0)
        pvals = np.minimum(pdtr(nstar, pstar), upper)
        for j, pair in enumerate(pairs):
            if pair in model:
                pvals[j] = 1.0
        chosen = None
        new_fit = None
        rejected = []
        for j in sorted(range(len(pairs)), key=lambda j: (pvals[j], j)):
            if pairs[j] in model or pvals[j] >= pthresh:
                break
            cand = build_spec(h.lists, y_all, [*model, pairs[j]], h.structural_zeros)
            beta0 = None
            if len(cand.fitted) == len(spec.fitted) + 1:
                # warm start: previous coefficients, new interaction at 0
                beta0 = np.append(np.array(list(fit.coefficients.values())), 0.0)
            code, new_fit = _checked_fit(cand, y_all, h.observed, beta0, with_cov)
            if code == 0:
                chosen = j
                break
            rejected.append({"term": term_name(pairs[j], h.lists), "p": float(pvals[j]),
                             "reason": CHECK_NAMES[code]})
        if chosen is None or new_fit is None:
            break
        model.append(pairs[chosen])
        fit = new_fit
        path.append({"term": term_name(pairs[chosen], h.lists), "p": float(pvals[chosen]),
                     "estimate": float(fit.estimate), "rejected": rejected})
    return fit, path


def _checked_fit(
    spec: ModelSpec, y_all: np.ndarray, observed: int, beta0: np.ndarray | None,
    with_cov: bool,
) -> tuple[int, LogLinearResult | None]:
    """checkident code of a candidate and, when it passes, its fit.

    Same answer as :func:`check_spec`, cheaper: a rank-deficient design fails
    at once; a fit that converges to a stationary point with every kept
    empty cell clearly positive proves the MLE exists (the Poisson likelihood
    is concave), so the linear program only runs in the doubtful cases.
    """
    X = spec.X
    if X.shape[1] - np.linalg.matrix_rank(X) > 0:
        return 2, None
    y = y_all[spec.cells]
    zero = y <= 0
    fit = fit_spec(spec, y_all, observed, beta0=beta0, with_cov=with_cov)
    if not zero.any():
        return 0, fit
    assert fit.mu is not None
    if fit.converged and fit.mu[zero].min() > 1e-6:
        return 0, fit
    if not mle_exists(X, y):
        return 1, None
    return 0, fit


def all_two_way_masks(k: int) -> np.ndarray:
    """Every subset of the k(k-1)/2 pairs, as a boolean matrix (2**npairs rows)."""
    npairs = k * (k - 1) // 2
    codes = np.arange(2**npairs, dtype=np.int64)
    return ((codes[:, None] >> np.arange(npairs)) & 1).astype(bool)


_ALL_MODELS_CACHE: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}


def _all_models(h: CaptureHistories, workers: int | None) -> dict[str, np.ndarray]:
    """Batch fit of every two-way model, remembered for the last few tables.

    AIC and BIC rank the same fits; a researcher who asks for both (or the
    page that shows both) should not pay twice.
    """
    key = (h.lists, h.cell_counts().tobytes(), h.structural_zeros)
    if key not in _ALL_MODELS_CACHE:
        if len(_ALL_MODELS_CACHE) >= 4:
            _ALL_MODELS_CACHE.pop(next(iter(_ALL_MODELS_CACHE)))
        _ALL_MODELS_CACHE[key] = fit_batch(h, all_two_way_masks(h.n_lists), workers=workers)
    return _ALL_MODELS_CACHE[key]


def exhaustive(
    h: CaptureHistories,
    criterion: str = "aic",
    *,
    workers: int | None = None,
    masks: np.ndarray | None = None,
    n_check: int = 50,
    max_report: int = 200,
) -> tuple[LogLinearResult, list[dict[str, Any]], list[dict[str, Any]]]:
    """Best model by AIC or BIC over all two-way models (or the given ``masks``).

    The batch fit ranks everything; the exact existence/identifiability check
    then runs from the top of the ranking until a model passes.
    Returns (best fit, ranked candidates, skipped).
    """
    k = h.n_lists
    if masks is None:
        if k > MAX_EXHAUSTIVE_LISTS:
            raise EstimationError(
                "too_many_lists",
                f"exhaustive search needs at most {MAX_EXHAUSTIVE_LISTS} lists; "
                "use stepwise selection",
            )
        masks = all_two_way_masks(k)
        res = _all_models(h, workers)
    else:
        res = fit_batch(h, masks, workers=workers)
    pairs = list(combinations(range(k), 2))
    crit = res[criterion]
    y_all = h.cell_counts().astype(float)
    status = res["status"].copy()
    order = np.argsort(np.where(np.isfinite(crit), crit, np.inf), kind="stable")
    skipped: list[dict[str, Any]] = []
    best = None
    ranked: list[dict[str, Any]] = []
    n_skipped = 0

    def names(i: int) -> list[str]:
        return [term_name(pairs[j], h.lists) for j in np.flatnonzero(masks[i])]

    n_ranked = 0
    for pos, i in enumerate(order):
        if status[i] == 2 or not np.isfinite(crit[i]):
            if len(skipped) < max_report:
                skipped.append({"model": names(i), "reason": "not_identifiable"})
            n_skipped += 1
            continue
        if n_ranked < n_check:
            spec = build_spec(h.lists, y_all, [pairs[j] for j in np.flatnonzero(masks[i])],
                              h.structural_zeros)
            code = check_spec(spec, y_all)
            reason = CHECK_NAMES.get(code) or ("did_not_converge" if status[i] == 1 else None)
        else:
            reason = "did_not_converge" if status[i] == 1 else None
        if reason:
            if len(skipped) < max_report:
                skipped.append({"model": names(i), "reason": reason})
            n_skipped += 1
            continue
        if best is None:
            best = i
        n_ranked += 1
        if len(ranked) < max_report:
            ranked.append({"model": names(i), "aic": float(res["aic"][i]),
                           "bic": float(res["bic"][i]), "estimate": float(res["estimate"][i]),
                           "deviance": float(res["deviance"][i])})
        elif n_ranked >= n_check:
            # the rest is only counted
            later = order[pos + 1:]
            bad = (status[later] != 0) | ~np.isfinite(crit[later])
            n_skipped += int(bad.sum())
            n_ranked += int((~bad).sum())
            break
    if best is None:
        raise EstimationError("no_valid_model", "no candidate model can be estimated")
    fit = _fit_terms(h, y_all, [pairs[j] for j in np.flatnonzero(masks[best])])
    fit = replace(fit, extra={**fit.extra, "n_models": len(masks),
                              "n_models_skipped": int(n_skipped)})
    return fit, ranked, skipped


def select_model(
    histories: CaptureHistories,
    method: str = "stepwise",
    *,
    pthresh: float = 0.02,
    terms: Sequence[str] = (),
    ci: str | None = "model",
    level: float = 0.95,
    nboot: int = 1000,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Choose a model, fit it and attach an interval.

    ``ci``: "model" (SparseMSE conditional), "profile" (Rcapture profile
    likelihood), "bootstrap" (BCa, model selection redone in every replicate)
    or None.
    """
    h = histories
    if h.covariates:
        h = h.drop_covariates()
    settings: dict[str, Any] = {"method": method}
    path: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    if method == "stepwise":
        settings["pthresh"] = pthresh
        fit, path = stepwise(h, pthresh)
    elif method in ("aic", "bic"):
        fit, candidates, skipped = exhaustive(h, method, workers=workers)
    elif method == "main":
        fit = _fit_terms(h, h.cell_counts().astype(float), [])
    elif method == "fixed":
        from .loglinear import LogLinear

        settings["terms"] = list(terms)
        fit = LogLinear(h, terms).fit()
    else:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    warnings = list(fit.warnings) + [w.message for w in histories.warnings]
    fit = replace(fit, method=method, seed=seed, warnings=tuple(dict.fromkeys(warnings)))
    if ci is not None:
        from .intervals import bootstrap_interval

        if ci == "bootstrap":
            boot = bootstrap_interval(h, method=method, pthresh=pthresh, terms=terms,
                                      level=level, nboot=nboot, seed=seed, workers=workers,
                                      progress=progress, point=fit.estimate)
            fit = replace(fit, ci=boot.interval, ci_method="bootstrap", ci_level=level,
                          extra={**fit.extra, "bootstrap": boot.to_dict()},
                          warnings=fit.warnings + tuple(
                              message_for({"code": c, **boot.to_dict()}, "en")
                              for c in boot.warnings))
        else:
            fit = fit.with_ci(ci, level)
    return Selection(method, fit, tuple(candidates), tuple(skipped), tuple(path), settings)


def refit_terms(h: CaptureHistories, terms: Sequence[str]) -> LogLinearResult:
    """Fit the given terms without the checks (used in bootstrap replicates)."""
    y_all = h.cell_counts().astype(float)
    return _fit_terms(h, y_all, parse_terms(terms, h.lists), with_cov=False)
