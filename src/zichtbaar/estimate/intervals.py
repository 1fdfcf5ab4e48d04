"""Intervals for the total population.

- :func:`model_interval` - SparseMSE ``estimatepopulation.0``: normal on the
  log of the hidden number (intercept and its standard error), plus the
  observed total. Conditional on the chosen model, hence too narrow when the
  model was selected from the same data.
- :func:`profile_interval` - Rcapture ``closedpCI.t``: multinomial profile
  likelihood in N, refitting the model with the hidden cell fixed at N - n.
- :func:`bootstrap_interval` - SparseMSE ``estimatepopulation``: multinomial
  resampling of the observed histories, the model chosen again in every
  replicate, BCa limits with a jackknife acceleration. Seeded through
  ``numpy.random.SeedSequence`` per replicate, so the answer does not depend
  on the number of worker processes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln
from scipy.stats import chi2, norm

from .histories import CaptureHistories
from .loglinear import newton_poisson

if TYPE_CHECKING:
    from .loglinear import LogLinearResult

__all__ = ["BootstrapResult", "bca_limits", "bootstrap_interval", "model_interval",
           "profile_interval"]


def model_interval(result: LogLinearResult, level: float = 0.95) -> tuple[float, float]:
    """SparseMSE's interval: exp(normal quantiles of the intercept) + observed."""
    b0 = result.coefficients["(Intercept)"]
    se = result.std_errors["(Intercept)"]
    q = (1 - level) / 2
    lo, hi = np.exp(norm.ppf([q, 1 - q], b0, se))
    return float(result.observed + lo), float(result.observed + hi)


def profile_interval(
    result: LogLinearResult, level: float = 0.95, max_factor: float = 1000.0
) -> tuple[float, float, float]:
    """Rcapture's multinomial profile-likelihood interval.

    For a given total N the multinomial log-likelihood, maximised over the
    model, equals a Poisson fit of the full table with the hidden cell fixed
    at N - n. Returns (N maximising the profile, lower, upper); an upper end
    beyond ``max_factor`` times the estimate is returned as ``inf``.
    """
    spec = result.spec
    if spec is None or result.y is None:
        raise ValueError("profile interval needs a result from LogLinear.fit()")
    y = result.y
    n = float(y.sum())
    X = np.vstack([spec.X, np.eye(1, spec.X.shape[1])])
    beta_hat = np.array(list(result.coefficients.values()))
    cache: dict[float, float] = {}
    state = {"beta": beta_hat}

    def prof(n0: float) -> float:
        if n0 in cache:
            return cache[n0]
        yy = np.append(y, n0)
        beta, mu, _, _ = newton_poisson(X, yy, state["beta"], tol=1e-12)
        state["beta"] = beta
        N = n + n0
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(yy > 0, yy * np.log(mu / N), 0.0)
        val = float(gammaln(N + 1) - gammaln(n0 + 1) + terms.sum())
        cache[n0] = val
        return val

    h0 = result.hidden
    opt = minimize_scalar(lambda t: -prof(math.exp(t)), bracket=(math.log(h0) - 0.1,
                                                                 math.log(h0) + 0.1),
                          tol=1e-10)
    n0_hat = math.exp(opt.x)
    lmax = prof(n0_hat)
    crit = chi2.ppf(level, 1) / 2

    def f(n0: float) -> float:
        return lmax - prof(n0) - crit

    state["beta"] = beta_hat
    lo0 = 0.0
    if f(0.0) > 0:
        lo0 = brentq(f, 0.0, n0_hat, xtol=1e-8, rtol=1e-12)
    state["beta"] = beta_hat
    hi_end = n0_hat * 2 + 10
    while f(hi_end) < 0:
        if hi_end > max_factor * (n + h0):
            return n + n0_hat, n + lo0, math.inf
        hi_end *= 2
    hi0 = brentq(f, n0_hat, hi_end, xtol=1e-8, rtol=1e-12)
    return n + n0_hat, n + lo0, n + hi0


# ----------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap replicates and their BCa limits."""

    interval: tuple[float, float]
    level: float
    nboot: int
    replicates: np.ndarray = field(repr=False)
    ahat: float
    z0: float
    quantiles: dict[str, float]
    seed: int | None
    warnings: tuple[str, ...] = ()  # codes, see messages.MESSAGES

    @property
    def median(self) -> float:
        return float(np.nanmedian(self.replicates))

    def to_dict(self) -> dict[str, Any]:
        r = self.replicates[np.isfinite(self.replicates)]
        return {
            "interval": list(self.interval),
            "level": self.level,
            "nboot": self.nboot,
            "n_failed": int(self.nboot - r.size),
            "ahat": self.ahat,
            "z0": self.z0,
            "median": self.median,
            "mean": float(np.mean(r)) if r.size else math.nan,
            "percentiles": {f"{100 * q:g}%": float(v) for q, v in zip(
                (0.025, 0.5, 0.975), np.quantile(r, (0.025, 0.5, 0.975)) if r.size
                else (math.nan,) * 3, strict=True)},
            "quantiles": self.quantiles,
            "seed": self.seed,
        }


def bca_limits(reps: np.ndarray, point: float, ahat: float,
               alpha: Sequence[float]) -> tuple[np.ndarray, float, list[str]]:
    """SparseMSE ``bcaconfvalues``: BCa quantiles with R's type-8 quantile."""
    warnings: list[str] = []
    r = reps[np.isfinite(reps)]
    frac = float(np.mean(r < point))
    if frac in (0.0, 1.0):
        warnings.append("bootstrap_one_sided")
        frac = min(max(frac, 0.5 / r.size), 1 - 0.5 / r.size)
    z0 = float(norm.ppf(frac))
    za = norm.ppf(np.asarray(alpha))
    za0 = za + z0
    zq = norm.cdf(z0 + za0 / (1 - ahat * za0))
    return np.quantile(r, zq, method="median_unbiased"), z0, warnings


def _estimate_once(h: CaptureHistories, method: str, pthresh: float,
                   terms: Sequence[str], masks: np.ndarray | None) -> float:
    from .loglinear import EstimationError
    from .selection import exhaustive, refit_terms, stepwise

    try:
        if method == "stepwise":
            return stepwise(h, pthresh, with_cov=False)[0].estimate
        if method == "main":
            return refit_terms(h, []).estimate
        if method == "fixed":
            return refit_terms(h, terms).estimate
        if method in ("aic", "bic"):
            return exhaustive(h, method, workers=1, masks=masks)[0].estimate
    except (EstimationError, np.linalg.LinAlgError, FloatingPointError):
        return math.nan
    raise ValueError(f"unknown method {method!r}")


def _boot_task(args: tuple) -> tuple[int, np.ndarray]:
    (task_id, lists, cells, n, probs, seeds, jack_rows, method, pthresh, terms,
     masks, sz) = args
    k = len(lists)
    base = CaptureHistories(lists, _patterns(k), np.zeros(2**k - 1, dtype=np.int64),
                            structural_zeros=sz)
    out = []
    obs_idx = np.flatnonzero(cells > 0)
    for s in seeds:
        rng = np.random.default_rng(s)
        full = np.zeros_like(cells)
        full[obs_idx] = rng.multinomial(n, probs)
        out.append(_estimate_once(base.with_cell_counts(full), method, pthresh, terms, masks))
    for j in jack_rows:
        full = cells.copy()
        full[j] -= 1
        out.append(_estimate_once(base.with_cell_counts(full), method, pthresh, terms, masks))
    return task_id, np.array(out, dtype=float)


def _patterns(k: int) -> np.ndarray:
    from .loglinear import cell_patterns

    return cell_patterns(k)


def bootstrap_interval(
    histories: CaptureHistories,
    *,
    method: str = "stepwise",
    pthresh: float = 0.02,
    terms: Sequence[str] = (),
    level: float = 0.95,
    nboot: int = 1000,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    point: float | None = None,
    ntop: int = 50,
    alpha: Sequence[float] = (0.025, 0.05, 0.1, 0.16, 0.84, 0.9, 0.95, 0.975),
) -> BootstrapResult:
    """BCa bootstrap with the model chosen again in every replicate.

    For AIC/BIC the replicates choose among the ``ntop`` best models of the
    original ranking (Silverman, Chan & Vincent 2024), because refitting all
    32768 six-list models a thousand times is not affordable.
    """
    h = histories.drop_covariates() if histories.covariates else histories
    cells = h.cell_counts()
    n = int(cells.sum())
    obs_idx = np.flatnonzero(cells > 0)
    probs = cells[obs_idx] / n
    masks = None
    if method in ("aic", "bic"):
        from .selection import all_two_way_masks, exhaustive

        all_masks = all_two_way_masks(h.n_lists)
        _, ranked, _ = exhaustive(h, method, workers=workers)
        pair_names = [f"{h.lists[i]}:{h.lists[j]}" for i in range(h.n_lists)
                      for j in range(i + 1, h.n_lists)]
        keep = []
        for cand in ranked[:ntop]:
            m = np.array([p in cand["model"] for p in pair_names])
            keep.append(m)
        masks = np.array(keep) if keep else all_masks[:1]
    if point is None:
        point = _estimate_once(h, method, pthresh, terms, masks)
    seeds = np.random.SeedSequence(seed).spawn(nboot)
    # jackknife rows: every observed history loses one person
    jack = list(obs_idx)
    if workers is None:
        workers = os.cpu_count() or 1
    chunk = max(10, nboot // (workers * 8) or 1)
    tasks = []
    tid = 0
    for i in range(0, nboot, chunk):
        tasks.append((tid, h.lists, cells, n, probs, seeds[i:i + chunk], [], method, pthresh,
                      tuple(terms), masks, h.structural_zeros))
        tid += 1
    jchunk = max(4, len(jack) // (workers * 2) or 1)
    for i in range(0, len(jack), jchunk):
        tasks.append((tid, h.lists, cells, n, probs, [], jack[i:i + jchunk], method, pthresh,
                      tuple(terms), masks, h.structural_zeros))
        tid += 1
    results: dict[int, np.ndarray] = {}
    done = 0
    total = nboot + len(jack)
    if workers > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        from .loglinear import pool_context

        with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            futs = [pool.submit(_boot_task, t) for t in tasks]
            for fut in as_completed(futs):
                i, vals = fut.result()
                results[i] = vals
                done += len(vals)
                if progress:
                    progress(done, total)
    else:
        for t in tasks:
            i, vals = _boot_task(t)
            results[i] = vals
            done += len(vals)
            if progress:
                progress(done, total)
    allv = np.concatenate([results[i] for i in range(len(tasks))])
    reps, jackest = allv[:nboot], allv[nboot:]
    warnings: list[str] = []
    nfail = int(np.sum(~np.isfinite(reps)))
    if nfail:
        warnings.append("bootstrap_failed")
    w = cells[obs_idx].astype(float)
    ok = np.isfinite(jackest)
    jr = np.sum(w[ok] * jackest[ok]) / np.sum(w[ok]) - jackest[ok]
    denom = 6 * np.sum(w[ok] * jr**2) ** 1.5
    ahat = float(np.sum(w[ok] * jr**3) / denom) if denom > 0 else 0.0
    q = (1 - level) / 2
    alphas = sorted(set(alpha) | {q, 1 - q})
    lim, z0, w2 = bca_limits(reps, point, ahat, alphas)
    warnings += w2
    quant = {f"{a:g}": float(v) for a, v in zip(alphas, lim, strict=True)}
    interval = (quant[f"{q:g}"], quant[f"{1 - q:g}"])
    return BootstrapResult(interval, level, nboot, reps, ahat, z0, quant, seed, tuple(warnings))
