"""Rcapture's closed-population models for capture histories (``closedp.t``, ``closedpCI.t``).

Rcapture (Baillargeon & Rivest, 2007) fits every closed-population model as a Poisson
log-linear model on the frequencies of the 2^k - 1 observable capture histories (Rivest &
Baillargeon); the dark figure is exp(intercept). This module reproduces those fits with its
own Newton/IRLS solver so that results can be checked number for number against R:

* :func:`closedp` - the table of ``closedp.t(X, dfreq=TRUE)``: M0, Mt, Mh (Chao lower bound,
  Poisson2, Darroch, Gamma3.5), Mth (same four), Mb and Mbh, with abundance, standard error,
  deviance, df, AIC, BIC and Rcapture's ``infoFit`` code.
* :func:`closedp_ci` - ``closedpCI.t`` for one named model (a heterogeneity model, main effects
  ``"~ ."``, all two-list interactions ``"~ .^2"`` or a hierarchical model written as
  Rcapture names it, e.g. ``"[12,13,25]"``), with the multinomial profile-likelihood interval
  (Cormack 1992).

Rcapture details kept on purpose because they change the numbers: negative eta parameters
of the Chao models are removed one at a time and the model refitted (``neg=TRUE``); AIC is
R's Poisson AIC (with the log y! constant) and BIC = AIC + (log n - 2) * rank; a parameter
whose lists never overlap goes to minus infinity but still counts in rank and df; the
asymptotic bias of exp(intercept) triggers a warning when it exceeds 10% of N.

The entry points take plain numpy arrays (``patterns`` m x k of 0/1, ``counts`` (m,),
``lists``) so that they do not depend on any container class; ``*_from`` wrappers accept any
object with ``.patterns``, ``.counts`` and ``.lists``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from zichtbaar import __version__

from .histories import InputError, history_arrays
from .loglinear import EstimationError

__all__ = [
    "MODEL_NAMES",
    "ClosedPopulationCI",
    "ClosedPopulationMS",
    "ClosedPopulationRow",
    "ClosedPopulationTable",
    "closedp",
    "closedp_ci",
    "closedp_ci_from",
    "closedp_from",
    "closedp_ms",
    "closedp_ms_from",
]

#: Model names exactly as ``closedp.t`` labels its rows (Rcapture 1.4-4).
MODEL_NAMES: tuple[str, ...] = (
    "M0",
    "Mt",
    "Mh Chao (LB)",
    "Mh Poisson2",
    "Mh Darroch",
    "Mh Gamma3.5",
    "Mth Chao (LB)",
    "Mth Poisson2",
    "Mth Darroch",
    "Mth Gamma3.5",
    "Mb",
    "Mbh",
)

_CI_METHOD_PROFILE = "multinomial profile likelihood (Cormack 1992), as Rcapture closedpCI.t"
_CI_METHOD_LOGNORMAL = "log-normal on the dark figure from the Wald standard error (Chao 1987)"
_MAX_LISTS = 20  # Rcapture warns above 20 occasions; 2^20 cells is the practical limit


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class ClosedPopulationRow:
    """One fitted model of :func:`closedp` (one row of Rcapture's ``results`` table)."""

    model: str
    observed: int
    estimate: float
    stderr: float
    deviance: float
    df: int
    aic: float
    bic: float
    info_fit: int
    bias: float
    ci: tuple[float, float] | None
    ci_method: str
    coefficients: dict[str, float]
    eta_removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    version: str = __version__

    @property
    def hidden(self) -> float:
        """Estimated number never registered (estimate minus observed)."""
        return self.estimate - self.observed

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "model": self.model,
                "observed": self.observed,
                "estimate": self.estimate,
                "hidden": self.hidden,
                "stderr": self.stderr,
                "ci": list(self.ci) if self.ci is not None else None,
                "ci_method": self.ci_method,
                "deviance": self.deviance,
                "df": self.df,
                "AIC": self.aic,
                "BIC": self.bic,
                "infoFit": self.info_fit,
                "bias": self.bias,
                "coefficients": self.coefficients,
                "eta_removed": list(self.eta_removed),
                "warnings": list(self.warnings),
                "notes": list(self.notes),
                "version": self.version,
            }
        )


@dataclass(frozen=True)
class ClosedPopulationTable:
    """The ``closedp.t`` table: one :class:`ClosedPopulationRow` per model."""

    observed: int
    lists: tuple[str, ...]
    rows: tuple[ClosedPopulationRow, ...]
    warnings: tuple[str, ...] = ()
    method: str = "Rcapture closedp.t(X, dfreq=TRUE): Poisson log-linear models"
    version: str = __version__

    def __getitem__(self, model: str) -> ClosedPopulationRow:
        name = _canonical_model_name(model)
        for row in self.rows:
            if row.model == name:
                return row
        raise KeyError(model)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(row.model for row in self.rows)

    def best(self, criterion: str = "AIC") -> ClosedPopulationRow | None:
        """Row with the lowest AIC or BIC among models fitted without problems (infoFit 0)
        and with a finite estimate; ``None`` if there is none."""
        key = criterion.upper()
        if key not in ("AIC", "BIC"):
            raise InputError("bad_option", f"criterion must be AIC or BIC, got {criterion!r}.",
                             option="criterion", value=criterion, choices="AIC, BIC")
        ok = [r for r in self.rows if r.info_fit == 0 and math.isfinite(r.estimate)]
        if not ok:
            return None
        return min(ok, key=lambda r: r.aic if key == "AIC" else r.bic)

    def to_dict(self) -> dict[str, Any]:
        best_aic, best_bic = self.best("AIC"), self.best("BIC")
        return {
            "method": self.method,
            "observed": self.observed,
            "lists": list(self.lists),
            "best_AIC": best_aic.model if best_aic else None,
            "best_BIC": best_bic.model if best_bic else None,
            "results": {row.model: row.to_dict() for row in self.rows},
            "warnings": list(self.warnings),
            "version": self.version,
        }


@dataclass(frozen=True)
class ClosedPopulationCI:
    """``closedpCI.t`` for one model: Poisson fit plus multinomial profile-likelihood interval.

    ``estimate`` is the Poisson (conditional) estimate n + exp(intercept) that Rcapture prints
    as ``abundance``; ``profile_estimate`` is the multinomial maximum that the interval is
    built around (Rcapture's ``CI[, "abundance"]``).
    """

    model: str
    observed: int
    lists: tuple[str, ...]
    estimate: float
    stderr: float
    deviance: float
    df: int
    aic: float
    bic: float
    info_fit: int
    bias: float
    profile_estimate: float
    ci: tuple[float, float]
    ci_method: str
    alpha: float
    info_ci: int
    coefficients: dict[str, float]
    terms: tuple[str, ...]
    eta_removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    ci_warnings: tuple[str, ...] = ()
    version: str = __version__

    @property
    def hidden(self) -> float:
        return self.estimate - self.observed

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "model": self.model,
                "observed": self.observed,
                "lists": list(self.lists),
                "estimate": self.estimate,
                "hidden": self.hidden,
                "stderr": self.stderr,
                "deviance": self.deviance,
                "df": self.df,
                "AIC": self.aic,
                "BIC": self.bic,
                "infoFit": self.info_fit,
                "bias": self.bias,
                "profile_estimate": self.profile_estimate,
                "ci": list(self.ci),
                "ci_method": self.ci_method,
                "alpha": self.alpha,
                "infoCI": self.info_ci,
                "coefficients": self.coefficients,
                "terms": list(self.terms),
                "eta_removed": list(self.eta_removed),
                "warnings": list(self.warnings),
                "notes": list(self.notes),
                "ci_warnings": list(self.ci_warnings),
                "version": self.version,
            }
        )


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """Full 2^k - 1 table of observable histories with their frequencies."""

    histories: np.ndarray  # (2^k - 1, k) int
    y: np.ndarray  # (2^k - 1,) float
    n: int
    lists: tuple[str, ...]

    @property
    def k(self) -> int:
        return self.histories.shape[1]


def _full_table(patterns: Any, counts: Any, lists: Sequence[str]) -> _Table:
    """Validate the histories and expand them to all 2^k - 1 cells.

    Every problem is an :class:`InputError` with the code the CLI and web page translate
    (``messages.py``); ``row`` is the 1-based position of the offending history.
    """
    pat, cnt = history_arrays(patterns, counts, lists)
    m, k = pat.shape
    if len(set(lists)) != len(lists):
        dup = next(name for name in lists if list(lists).count(name) > 1)
        raise InputError("duplicate_column", f"List {dup!r} appears twice.", column=str(dup))
    if k < 2:
        raise InputError(
            "too_few_lists", f"At least two lists are needed; found {k}.", n_lists=k
        )
    if k > _MAX_LISTS:
        raise EstimationError(
            "rcapture_too_many_lists",
            f"{k} lists: Rcapture's models need all 2^{k} - 1 histories, which is too many "
            f"above {_MAX_LISTS} lists; use the log-linear methods (stepwise) instead.",
            n_lists=k,
            max_lists=_MAX_LISTS,
        )
    for r in range(m):
        bad = np.flatnonzero((pat[r] != 0) & (pat[r] != 1))
        if bad.size:
            j = int(bad[0])
            raise InputError(
                "not_binary",
                f"Row {r + 1}, list {lists[j]!r}: list values must be 0 or 1, "
                f"found {pat[r, j]:g}.",
                row=r + 1, column=str(lists[j]), value=f"{pat[r, j]:g}",
            )
        c = cnt[r]
        if not math.isfinite(c):
            raise InputError("bad_count", f"Row {r + 1}: the count is not a number.",
                             row=r + 1, value=str(c))
        if c < 0:
            raise InputError("negative_count",
                             f"Row {r + 1}: a count cannot be negative ({c:g}).",
                             row=r + 1, value=f"{c:g}")
        if c != round(c):
            raise InputError("fractional_count",
                             f"Row {r + 1}: a count must be a whole number ({c:g}).",
                             row=r + 1, value=f"{c:g}")
        if c > 0 and not pat[r].any():
            raise InputError(
                "all_zero_history",
                f"Row {r + 1}: this history is on no list (all zeros); the people nobody "
                "registered cannot be in the data.", row=r + 1,
            )
    pat_i = pat.astype(np.int64)
    codes = pat_i @ (1 << np.arange(k, dtype=np.int64))
    all_codes = np.arange(1, 2**k, dtype=np.int64)
    histories = ((all_codes[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(np.int64)
    y = np.zeros(2**k)
    np.add.at(y, codes, cnt)
    n = int(cnt.sum())
    if n == 0:
        raise InputError("empty", "All counts are zero; there is nothing to estimate.")
    return _Table(histories=histories, y=y[1:], n=n, lists=tuple(str(s) for s in lists))


def _unpack(histories: Any) -> tuple[np.ndarray, np.ndarray, Sequence[str]]:
    """Arrays of a :class:`~zichtbaar.estimate.histories.CaptureHistories` (or look-alike).

    Covariates are summed over (repeated patterns add up). Structural zeros are refused:
    Rcapture's models give every history a positive probability, so a history that cannot
    occur would be counted as an observed zero and bias the estimate.
    """
    try:
        patterns, counts, lists = histories.patterns, histories.counts, histories.lists
    except AttributeError as exc:  # pragma: no cover - programming error, not user input
        raise TypeError("expected an object with .patterns, .counts and .lists") from exc
    if getattr(histories, "structural_zeros", ()):
        raise EstimationError(
            "rcapture_structural_zeros",
            "Rcapture's models cannot leave out impossible list combinations (structural "
            "zeros); use the log-linear methods, which can.",
        )
    return np.asarray(patterns), np.asarray(counts), list(lists)


# --------------------------------------------------------------------------------------------
# Poisson GLM
# --------------------------------------------------------------------------------------------


@dataclass
class _GLM:
    """A Poisson log-linear fit in R's ``glm`` terms (aliased and infinite columns kept)."""

    coef: np.ndarray  # (p,) with nan for aliased, -inf for parameters at minus infinity
    cov: np.ndarray  # (p_est, p_est) for the estimated columns
    est: np.ndarray  # indices of estimated columns
    mu: np.ndarray  # fitted values, all cells
    deviance: float
    rank: int
    converged: bool
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    return float(2.0 * np.sum(special.xlogy(y, y) - special.xlogy(y, mu) - (y - mu)))


def _irls(
    y: np.ndarray, x: np.ndarray, start: np.ndarray | None = None, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Newton-Raphson (= IRLS) for log-link Poisson, started like R at mu = y + 0.1."""
    if start is None:
        eta = np.log(y + 0.1)
        w = np.exp(eta)
        z = eta + (y - w) / w
        xw = x * w[:, None]
        beta = np.linalg.solve(xw.T @ x, xw.T @ z)
    else:
        beta = start.copy()
    def deviance(eta: np.ndarray, mu: np.ndarray) -> float:
        return _poisson_deviance(y, mu)

    eta = x @ beta
    mu = np.exp(np.minimum(eta, 700.0))
    dev = deviance(eta, mu)
    converged = False
    for _ in range(max_iter):
        score = x.T @ (y - mu)
        info = (x * mu[:, None]).T @ x
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        t = 1.0
        for _halving in range(40):
            new_beta = beta + t * step
            new_eta = x @ new_beta
            new_mu = np.exp(np.minimum(new_eta, 700.0))
            new_dev = deviance(new_eta, new_mu)
            if math.isfinite(new_dev) and new_dev <= dev + 1e-9 * (abs(dev) + 1.0):
                break
            t *= 0.5
        beta, mu = new_beta, new_mu
        change = abs(new_dev - dev) / (abs(new_dev) + 0.1)
        dev = new_dev
        if change < 1e-13 or np.max(np.abs(t * step)) < 1e-11:
            converged = True
            break
    return beta, mu, converged


def _independent_columns(x: np.ndarray, skip: set[int]) -> list[int]:
    """Columns kept by R's pivoted QR: each one not in the span of the kept ones before it.

    Sequential Gram-Schmidt on the p x p Gram matrix (scaled to unit diagonal) instead of
    rank computations on the n x p design: with 18 lists the design has 262,143 rows.
    A column counts as aliased when less than 1e-5 of its norm is left after projection
    (R's tolerance is 1e-7; squaring in the Gram matrix costs precision, and 0/1 designs
    are either exactly collinear or far from it).
    """
    gram = x.T @ x
    d = np.sqrt(np.diag(gram))
    keep: list[int] = []
    for j in range(x.shape[1]):
        if j in skip or d[j] == 0.0:
            continue
        if keep:
            g_kk = gram[np.ix_(keep, keep)] / np.outer(d[keep], d[keep])
            g_kj = gram[keep, j] / (d[keep] * d[j])
            resid = 1.0 - float(g_kj @ np.linalg.solve(g_kk, g_kj))
        else:
            resid = 1.0
        if resid > 1e-10:
            keep.append(j)
    return keep


def _fit_glm(
    y: np.ndarray, x: np.ndarray, start: np.ndarray | None = None, names: Sequence[str] = ()
) -> _GLM:
    """Fit like R's ``glm(family=poisson)``, making two of R's silent behaviours explicit.

    * A 0/1 column whose cells are all empty (two lists that never overlap) has its MLE at
      minus infinity; R's IRLS just walks off towards it and reports the limit. We fit the
      limit directly (column and its cells removed, fitted values 0 there) and keep the
      parameter in rank/df/AIC as R does.
    * Aliased columns get a NaN coefficient (R's pivoting) and a "not of full rank" warning.
    """
    ncell, p = x.shape
    warnings: list[str] = []
    coef = np.full(p, np.nan)
    # parameters at minus infinity
    binary = np.all((x == 0) | (x == 1), axis=0)
    keep_cells = np.ones(ncell, dtype=bool)
    inf_cols: list[int] = []
    for j in range(1, p):
        if binary[j] and x[:, j].any() and float(y @ x[:, j]) == 0.0:
            inf_cols.append(j)
            keep_cells &= x[:, j] == 0
    # aliased columns (R keeps the first of a set of collinear columns)
    xk = x[keep_cells]
    est = _independent_columns(xk, skip=set(inf_cols))
    aliased = [j for j in range(p) if j not in est and j not in inf_cols]
    if aliased:
        msg = "glm: design matrix not of full rank"
        if ncell < p:
            msg += " (fewer rows than columns)"
        warnings.append(msg)
    notes: list[str] = []
    if inf_cols:
        labels = ", ".join(names[j] if j < len(names) else str(j) for j in inf_cols)
        notes.append(
            f"parameters at minus infinity (their cells are all empty, e.g. lists that never "
            f"overlap): {labels}; fitted as the limit, still counted in df, AIC and BIC"
        )
        # R's IRLS stops near -20 for such a parameter, so a cell carrying two of them has
        # a fitted value below 10 * machine epsilon and glm warns; mirror that for infoFit.
        if (x[:, inf_cols].sum(axis=1) >= 2).any():
            warnings.append("glm: fitted rates numerically 0 occurred")
    est_arr = np.array(est, dtype=int)
    xe = xk[:, est_arr]
    yk = y[keep_cells]
    start_e = None if start is None else np.nan_to_num(start[est_arr], nan=0.0, neginf=0.0)
    beta, mu_k, converged = _irls(yk, xe, start_e)
    if not converged:
        warnings.append("glm: algorithm did not converge")
    coef[est_arr] = beta
    coef[inf_cols] = -np.inf
    mu = np.zeros(ncell)
    mu[keep_cells] = mu_k
    info = (xe * mu_k[:, None]).T @ xe
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    return _GLM(
        coef=coef,
        cov=cov,
        est=est_arr,
        mu=mu,
        deviance=_poisson_deviance(yk, mu_k),
        rank=len(est) + len(inf_cols),
        converged=converged,
        warnings=warnings,
        notes=notes,
    )


def _poisson_aic(y: np.ndarray, mu: np.ndarray, rank: int) -> float:
    """R's ``poisson()$aic`` plus 2 * rank: includes the log(y!) constant."""
    loglik = np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1.0))
    return float(-2.0 * loglik + 2.0 * rank)


# --------------------------------------------------------------------------------------------
# Design matrices (Rcapture's Xclosedp)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    x: np.ndarray  # without intercept
    names: tuple[str, ...]  # Rcapture coefficient names (beta1, lambda1_2, eta3, tau)
    terms: tuple[str, ...]  # the same with list names
    htype: str  # "none", "Chao", "Poisson", "Darroch", "Gamma"
    nca: int  # columns (with intercept) that do not model heterogeneity


def _heterogeneity(nbcap: np.ndarray, k: int, htype: str) -> tuple[np.ndarray, list[str]]:
    if htype == "Chao":
        cols = [np.maximum(nbcap - j + 1, 0) for j in range(3, k + 1)]
        if not cols:
            return np.zeros((len(nbcap), 1)), ["eta"]
        return np.column_stack(cols).astype(float), [f"eta{j}" for j in range(3, k + 1)]
    if htype == "Poisson":
        return (2.0**nbcap - 1.0)[:, None], ["tau"]
    if htype == "Darroch":
        return (nbcap**2 / 2.0)[:, None], ["tau"]
    if htype == "Gamma":
        return (-np.log(3.5 + nbcap) + math.log(3.5))[:, None], ["tau"]
    raise ValueError(f"unknown heterogeneity {htype!r}")


_MODEL_ALIASES = {
    "mh chao": "Mh Chao (LB)",
    "mh lb": "Mh Chao (LB)",
    "mth chao": "Mth Chao (LB)",
    "mth lb": "Mth Chao (LB)",
}


def _bad_model(model: object, reason: str) -> InputError:
    """The model argument is not one Rcapture knows: say which ones it does."""
    choices = ", ".join([*MODEL_NAMES[:10], "~ .", "~ .^2", "[12,13,...]", "['A:B', ...]"])
    return InputError(
        "bad_option", f"{reason}; expected one of {choices}.",
        option="model", value=str(model), choices=choices,
    )


def _canonical_model_name(model: str) -> str:
    key = " ".join(model.split()).lower()
    for name in MODEL_NAMES:
        if name.lower() == key:
            return name
    return _MODEL_ALIASES.get(key, model)


def _standard_design(table: _Table, model: str) -> _Design:
    h = table.histories.astype(float)
    k = table.k
    nbcap = h.sum(axis=1)
    lists = table.lists
    name = _canonical_model_name(model)
    if name not in MODEL_NAMES:
        raise _bad_model(model, f"unknown model {model!r}")
    if name == "Mb" or name == "Mbh":
        first = np.argmax(table.histories == 1, axis=1).astype(float)  # occasions before 1st
        cols = [first, nbcap - 1.0]
        names = ["beta1", "beta2"]
        terms = ["before first capture", "after first capture"]
        if name == "Mbh":
            cols.insert(0, 1.0 - h[:, 0])
            names.insert(0, "eta")
            terms.insert(0, f"not on {lists[0]}")
        return _Design(np.column_stack(cols), tuple(names), tuple(terms), "none", len(cols) + 1)
    if name.startswith("Mth") or name == "Mt":
        x, names, terms = h, [f"beta{i + 1}" for i in range(k)], list(lists)
    else:
        x, names, terms = nbcap[:, None], ["beta"], ["captures"]
    nca = x.shape[1] + 1
    htype = "none"
    if name not in ("M0", "Mt"):
        htype = name.split()[1].removesuffix("2").removesuffix("3.5")
        hx, hnames = _heterogeneity(nbcap, k, htype)
        x = np.column_stack([x, hx])
        names = [*names, *hnames]
        terms = [*terms, *hnames]
    return _Design(x, tuple(names), tuple(terms), htype, nca)


def _interaction_design(table: _Table, subsets: Sequence[tuple[int, ...]]) -> _Design:
    """Hierarchical log-linear design for the given interaction sets (0-based list indices)."""
    closed: set[tuple[int, ...]] = set()
    for s in subsets:
        s = tuple(sorted(set(s)))
        for r in range(1, len(s) + 1):
            closed.update(itertools.combinations(s, r))
    ordered = sorted(closed, key=lambda s: (len(s), s))
    h = table.histories.astype(float)
    cols = [np.prod(h[:, list(s)], axis=1) for s in ordered]
    names = tuple(
        ("beta" if len(s) == 1 else "lambda") + "_".join(str(i + 1) for i in s) for s in ordered
    )
    terms = tuple(":".join(table.lists[i] for i in s) for s in ordered)
    x = np.column_stack(cols) if cols else np.zeros((len(h), 0))
    return _Design(x, names, terms, "none", x.shape[1] + 1)


_BRACKET = re.compile(r"^\[([0-9,]*)\]$")


def _parse_model(table: _Table, model: str | Sequence[str]) -> tuple[str, _Design]:
    k = table.k
    if not isinstance(model, str):
        # a sequence of interaction terms written with list names, e.g. ["LA:NG", "NG:GP"]
        index = {name: i for i, name in enumerate(table.lists)}
        subsets: list[tuple[int, ...]] = [(i,) for i in range(k)]
        for term in model:
            parts = [p.strip() for p in str(term).split(":")]
            unknown = [p for p in parts if p not in index]
            if unknown:
                raise _bad_model(term, f"unknown list(s) {', '.join(unknown)} in term {term!r}")
            subsets.append(tuple(index[p] for p in parts))
        label = "main effects + " + ", ".join(model) if len(model) else "~ . (main effects)"
        return label, _interaction_design(table, subsets)
    spec = model.replace(" ", "")
    if spec in ("~.", "."):
        return "~ . (main effects)", _interaction_design(table, [(i,) for i in range(k)])
    if spec in ("~.^2", ".^2"):
        pairs = list(itertools.combinations(range(k), 2))
        return "~ .^2 (all two-way interactions)", _interaction_design(table, pairs)
    match = _BRACKET.match(spec)
    if match:
        if k > 9:
            raise _bad_model(model, "bracket model names need at most 9 lists")
        subsets = []
        for item in filter(None, match.group(1).split(",")):
            idx = tuple(int(c) - 1 for c in item)
            if any(i < 0 or i >= k for i in idx) or len(set(idx)) != len(idx):
                raise _bad_model(model, f"bad term {item!r} in model {model!r}")
            subsets.append(idx)
        return spec, _interaction_design(table, subsets)
    name = _canonical_model_name(model)
    if name in ("Mb", "Mbh"):
        raise _bad_model(model, "closedpCI.t does not fit behavioural models (Mb, Mbh)")
    return name, _standard_design(table, name)


# --------------------------------------------------------------------------------------------
# One model, as Rcapture's closedp.fitone
# --------------------------------------------------------------------------------------------


@dataclass
class _Fit:
    glm: _GLM
    x: np.ndarray  # with intercept, columns of the final fit (after eta removal)
    names: tuple[str, ...]  # with "Intercept"
    eta_removed: tuple[str, ...]
    bias: float
    warnings: list[str]


def _fit_model(table_y: np.ndarray, design: _Design, neg: bool = True) -> _Fit:
    ncell = design.x.shape[0]
    x = np.column_stack([np.ones(ncell), design.x])
    names = ("Intercept", *design.names)
    glm = _fit_glm(table_y, x, names=names)
    warnings = list(glm.warnings)
    removed: list[str] = []
    if design.htype == "Chao" and neg:
        # Rcapture's Chao.neg: drop the first negative eta, refit, repeat.
        while True:
            etas = glm.coef[design.nca :]
            negative = np.flatnonzero(~np.isnan(etas) & (etas < 0))
            if negative.size == 0:
                break
            pos = design.nca + int(negative[0])
            removed.append(names[pos])
            x = np.delete(x, pos, axis=1)
            names = names[:pos] + names[pos + 1 :]
            glm = _fit_glm(table_y, x, names=names)
            warnings = list(glm.warnings)
    bias = _asymptotic_bias(x, glm)
    return _Fit(glm, x, names, tuple(removed), bias, warnings)


def _asymptotic_bias(x: np.ndarray, glm: _GLM) -> float:
    """Rcapture's first-order bias of exp(intercept) (code of L.-P. Rivest, generalised)."""
    if np.isnan(glm.coef).any():
        return math.nan
    keep = glm.mu > 0
    xe = x[np.ix_(keep, glm.est)]
    v = glm.cov
    xi = -0.5 * np.einsum("ij,jk,ik->i", xe, v, xe)
    psi = -2.0 * xe.T @ (glm.mu[keep] * xi)
    psi[0] -= 1.0
    vec1 = -v @ psi
    return float(0.5 * math.exp(glm.coef[0]) * vec1[0])


def _info_code(err: bool, warnings: Sequence[str]) -> int:
    """Rcapture's ``getInfo``: 0 fine, 1 convergence/bias, 2 not full rank, 3 other, ..."""
    if err:
        return -1
    if not warnings:
        return 0
    codes = set()
    for w in warnings:
        if "converge" in w or "the sigma estimate is non-positive" in w or "bias is large" in w:
            codes.add(1)
        elif "design matrix not of full rank" in w:
            codes.add(2)
        elif "multinomial estimation" in w:
            codes.add(4)
        elif "lower bound" in w:
            codes.add(5)
        elif "upper bound" in w:
            codes.add(6)
        else:
            codes.add(3)
    return int("".join(str(c) for c in sorted(codes)))


def _n_and_stderr(name: str, fit: _Fit, n: int, k: int) -> tuple[float, float]:
    c = fit.glm.coef
    v = fit.glm.cov
    if name == "Mb":
        e1, e2 = math.exp(c[1]), math.exp(c[2])
        den = 1.0 + e2 - e1
        if abs(den) < 1e-12:  # e.g. two lists: Mb is saturated and N is not defined
            return math.nan, math.nan
        big_n = math.exp(c[0]) * (1.0 + e2) ** k / den
        g = big_n * np.array([1.0, e1 / den, k * e2 / (1.0 + e2) - e2 / den])
    elif name == "Mbh":
        e3, e4, e23 = math.exp(c[2]), math.exp(c[3]), math.exp(c[1] + c[2])
        den = 1.0 + e4 - e3
        if abs(den) < 1e-12:
            return math.nan, math.nan
        front = math.exp(c[0]) * (1.0 + e4) ** (k - 1)
        big_n = front * (1.0 + e23 / den)
        g = front * np.array(
            [
                1.0 + e23 / den,
                e23 / den,
                e23 / den + math.exp(c[1] + 2 * c[2]) / den**2,
                (k - 1) * e4 / (1.0 + e4) - math.exp(c[1] + c[2] + c[3]) / den**2,
            ]
        )
    else:
        e0 = math.exp(c[0])
        return n + e0, math.sqrt(e0 + e0**2 * v[0, 0])
    var = float(g @ v @ g) - big_n
    return big_n, math.sqrt(var) if var >= 0 else math.nan


def _lognormal_ci(n: int, big_n: float, se: float, alpha: float) -> tuple[float, float] | None:
    """Chao (1987) interval n + (N - n) / C, n + (N - n) * C (Rcapture's normal-model CI)."""
    hidden = big_n - n
    if not (math.isfinite(se) and hidden > 0):
        return None
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    c = math.exp(z * math.sqrt(math.log(1.0 + se**2 / hidden**2)))
    return n + hidden / c, n + hidden * c


def _stats(table: _Table, name: str, fit: _Fit) -> dict[str, Any]:
    glm = fit.glm
    big_n, se = _n_and_stderr(name, fit, table.n, table.k)
    aic = _poisson_aic(table.y, glm.mu, glm.rank)
    bic = aic + (math.log(table.n) - 2.0) * glm.rank
    warnings = list(fit.warnings)
    if not math.isfinite(big_n):
        warnings.append("the abundance is not defined for this model and these data")
    elif not math.isnan(fit.bias) and abs(fit.bias) > 0.1 * big_n:
        warnings.append("the asymptotic bias is large")
    coefficients = {nm: float(c) for nm, c in zip(fit.names, glm.coef, strict=True)}
    return {
        "estimate": big_n,
        "stderr": se,
        "deviance": glm.deviance,
        "df": int(table.y.size - glm.rank),
        "aic": aic,
        "bic": bic,
        "bias": fit.bias,
        "warnings": tuple(warnings),
        "info_fit": _info_code(False, warnings),
        "coefficients": coefficients,
        "eta_removed": fit.eta_removed,
        "notes": tuple(glm.notes),
    }


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def closedp(
    patterns: np.ndarray,
    counts: np.ndarray,
    lists: Sequence[str],
    *,
    neg: bool = True,
    alpha: float = 0.05,
) -> ClosedPopulationTable:
    """Fit Rcapture's ``closedp.t`` models to observed capture histories.

    ``patterns`` (m x k, 0/1) and ``counts`` (m,) are the observed histories; histories not
    listed have frequency 0. With two lists only M0, Mt and Mb are fitted, as in Rcapture.
    Each row also carries a log-normal interval (Chao 1987) for convenience; use
    :func:`closedp_ci` for Rcapture's profile-likelihood interval.
    """
    table = _full_table(patterns, counts, lists)
    names = ("M0", "Mt", "Mb") if table.k == 2 else MODEL_NAMES
    rows = []
    for name in names:
        design = _standard_design(table, name)
        fit = _fit_model(table.y, design, neg=neg)
        st = _stats(table, name, fit)
        rows.append(
            ClosedPopulationRow(
                model=name,
                observed=table.n,
                ci=_lognormal_ci(table.n, st["estimate"], st["stderr"], alpha),
                ci_method=_CI_METHOD_LOGNORMAL,
                **st,
            )
        )
    table_notes: tuple[str, ...] = ()
    if table.k == 2:
        table_notes = ("with 2 lists only models M0, Mt and Mb are fitted",)
    return ClosedPopulationTable(
        observed=table.n, lists=table.lists, rows=tuple(rows), warnings=table_notes
    )


def closedp_ci(
    patterns: np.ndarray,
    counts: np.ndarray,
    lists: Sequence[str],
    model: str | Sequence[str] = "Mth Chao",
    alpha: float = 0.05,
    *,
    neg: bool = True,
    fmax_sup_cl: float = 3.0,
) -> ClosedPopulationCI:
    """``closedpCI.t`` for one model: Poisson fit plus multinomial profile-likelihood CI.

    ``model`` is a ``closedp`` model name (except Mb/Mbh), ``"~ ."`` (main effects),
    ``"~ .^2"`` (all two-list interactions), an Rcapture hierarchical model name such as
    ``"[12,13,25]"`` (digits are 1-based list positions), or a sequence of interaction terms
    with list names (``["LA:NG", "NG:GP"]``; main effects are always included). The interval
    profiles the multinomial likelihood of N (Cormack 1992) between n and ``fmax_sup_cl``
    times the Poisson estimate, as Rcapture does.
    """
    if not 0.0 < alpha < 1.0:
        raise InputError(
            "bad_option",
            f"alpha must be between 0 and 1 (exclusive), got {alpha!r}.",
            option="alpha", value=str(alpha), choices="0 < alpha < 1",
        )
    table = _full_table(patterns, counts, lists)
    label, design = _parse_model(table, model)
    fit = _fit_model(table.y, design, neg=neg)
    st = _stats(table, "loglinear", fit)
    big_n = st["estimate"]
    n = table.n
    ci_warnings: list[str] = []

    if any("not of full rank" in w for w in st["warnings"]):
        ci_warnings.append("design matrix not of full rank: no profile interval")
        return ClosedPopulationCI(
            model=label,
            observed=n,
            lists=table.lists,
            profile_estimate=math.nan,
            ci=(math.nan, math.nan),
            ci_method=_CI_METHOD_PROFILE,
            alpha=alpha,
            info_ci=-1,
            terms=design.terms,
            ci_warnings=tuple(ci_warnings),
            **st,
        )

    # the unseen cell n0 = N - n enters as one more cell with an all-zero design row
    x_aug = np.vstack([design.x, np.zeros((1, design.x.shape[1]))])
    aug_design = _Design(x_aug, design.names, design.terms, design.htype, design.nca)

    def loglik(big_n_value: float) -> float:
        n0 = max(big_n_value - n, 0.0)
        y_aug = np.append(table.y, n0)
        aug_fit = _fit_model(y_aug, aug_design, neg=neg)
        total = n + n0
        if total > 100:
            if n0 in (0.0, 1.0):
                ct = -total + 0.5 * math.log(2 * math.pi * total)
            else:
                ct = n0 - total - 0.5 * math.log(n0 / total)
        else:
            ct = (
                special.xlogy(n0, n0)
                + special.gammaln(total + 1.0)
                - special.xlogy(total, total)
                - special.gammaln(n0 + 1.0)
            )
        return (aug_fit.glm.deviance - 2.0 * ct) / -2.0

    res = optimize.minimize_scalar(
        lambda v: -loglik(v),
        bounds=(n, 1.5 * big_n),
        method="bounded",
        options={"xatol": 1e-4},
    )
    n_max = float(res.x)
    l_max = -float(res.fun)
    l_min = l_max - stats.chi2.ppf(1.0 - alpha, 1) / 2.0

    def gap(v: float) -> float:
        return loglik(v) - l_min

    if gap(n) * gap(n_max) < 0:
        lower = float(optimize.brentq(gap, n, n_max, xtol=1e-4))
    else:
        lower = float(n)
        ci_warnings.append("the CI lower bound is set to the sample size n")
    upper_limit = fmax_sup_cl * big_n
    if gap(n_max) * gap(upper_limit) < 0:
        upper = float(optimize.brentq(gap, n_max, upper_limit, xtol=1e-4))
    else:
        upper = math.inf
        ci_warnings.append(f"the CI upper bound is larger than fmax_sup_cl * N = {upper_limit:.1f}")
    return ClosedPopulationCI(
        model=label,
        observed=n,
        lists=table.lists,
        profile_estimate=n_max,
        ci=(lower, upper),
        ci_method=_CI_METHOD_PROFILE,
        alpha=alpha,
        info_ci=_info_code(False, ci_warnings),
        terms=design.terms,
        ci_warnings=tuple(ci_warnings),
        **st,
    )


_MS_MAX_LISTS = 6  # 2^15 = 32,768 two-way models; 7 lists would be 2^21


def _ms_name(pairs: Sequence[tuple[int, int]], k: int) -> str:
    """Rcapture's name of a two-way hierarchical model: pairs, then lists in no pair."""
    used = {i for pair in pairs for i in pair}
    parts = [f"{i + 1}{j + 1}" for i, j in sorted(pairs)]
    parts += [str(i + 1) for i in range(k) if i not in used]
    return "[" + ",".join(parts) + "]"


@dataclass(frozen=True)
class ClosedPopulationMS:
    """``closedpMS.t(X, dfreq=TRUE, maxorder=2)``: every model with main effects and any set
    of two-list interactions, with AIC and BIC as Rcapture computes them.

    ``names``, ``estimates``, ``deviances``, ``dfs``, ``aics``, ``bics`` and ``info_fits``
    hold one entry per model, in Rcapture's enumeration-free order (bit j of the model index
    = j-th pair of :func:`itertools.combinations`). ``top_aic`` / ``top_bic`` are the best
    models refitted one by one (with standard errors and exact ``infoFit``), best first.
    ``info_fit`` of the bulk fit is 2 (not identifiable), 1 (did not converge) or 3 (two or
    more never-overlapping pairs in the model: R's ``glm`` then warns "fitted rates
    numerically 0"); R also flags some models with a single such pair as not converged,
    which a fit that reaches the limit exactly cannot reproduce, so only the refitted top
    rows carry a full ``infoFit``.
    """

    observed: int
    lists: tuple[str, ...]
    names: tuple[str, ...]
    estimates: np.ndarray = field(repr=False)
    deviances: np.ndarray = field(repr=False)
    dfs: np.ndarray = field(repr=False)
    aics: np.ndarray = field(repr=False)
    bics: np.ndarray = field(repr=False)
    info_fits: np.ndarray = field(repr=False)
    top_aic: tuple[ClosedPopulationCI, ...]
    top_bic: tuple[ClosedPopulationCI, ...]
    warnings: tuple[str, ...] = ()
    method: str = (
        "Rcapture closedpMS.t(X, dfreq=TRUE, maxorder=2): all two-way hierarchical models"
    )
    version: str = __version__

    @property
    def n_models(self) -> int:
        return len(self.names)

    def ranking(self, criterion: str = "BIC", *, info_fit_zero: bool = False) -> list[str]:
        """Model names from best to worst by ``"AIC"`` or ``"BIC"``."""
        crit = self._criterion(criterion)
        ok = np.isfinite(crit) & ((self.info_fits == 0) | (not info_fit_zero))
        order = np.argsort(np.where(ok, crit, np.inf), kind="stable")
        return [self.names[i] for i in order if ok[i]]

    def best(self, criterion: str = "BIC", *, info_fit_zero: bool = True) -> ClosedPopulationCI:
        """The best model refitted (infoFit 0 only by default, as the reference run)."""
        top = self.top_bic if criterion.upper() == "BIC" else self.top_aic
        for row in top:
            if row.info_fit == 0 or not info_fit_zero:
                return row
        raise EstimationError(
            "no_valid_model", "No candidate model was fitted without problems (infoFit 0)."
        )

    def _criterion(self, criterion: str) -> np.ndarray:
        key = criterion.upper()
        if key not in ("AIC", "BIC"):
            raise InputError("bad_option", f"criterion must be AIC or BIC, got {criterion!r}.",
                             option="criterion", value=criterion, choices="AIC, BIC")
        return self.aics if key == "AIC" else self.bics

    def to_dict(self) -> dict[str, Any]:
        best = self.best("BIC", info_fit_zero=False)
        out = {
            "method": self.method,
            "model": best.model,
            "observed": self.observed,
            "estimate": best.estimate,
            "hidden": best.hidden,
            "ci": None,
            "ci_method": None,
            "deviance": best.deviance,
            "df": best.df,
            "AIC": best.aic,
            "BIC": best.bic,
            "lists": list(self.lists),
            "n_models": self.n_models,
            "n_models_infoFit_nonzero": int(np.count_nonzero(self.info_fits)),
            "top_BIC": [_ms_row(r) for r in self.top_bic],
            "top_AIC": [_ms_row(r) for r in self.top_aic],
            "warnings": list(self.warnings),
            "version": self.version,
        }
        return _clean(out)


def _ms_row(r: ClosedPopulationCI) -> dict[str, Any]:
    return {"model": r.model, "terms": list(r.terms), "estimate": r.estimate,
            "stderr": r.stderr, "deviance": r.deviance, "df": r.df, "AIC": r.aic,
            "BIC": r.bic, "infoFit": r.info_fit}


def _fit_named(table: _Table, model: str, neg: bool = True) -> ClosedPopulationCI:
    """Poisson fit of one hierarchical model without the (slower) profile interval."""
    label, design = _parse_model(table, model)
    fit = _fit_model(table.y, design, neg=neg)
    st = _stats(table, "loglinear", fit)
    return ClosedPopulationCI(
        model=label, observed=table.n, lists=table.lists, profile_estimate=math.nan,
        ci=(math.nan, math.nan), ci_method="none (closedpMS.t ranks models only)",
        alpha=math.nan, info_ci=-1, terms=design.terms, **st,
    )


def closedp_ms(
    patterns: np.ndarray,
    counts: np.ndarray,
    lists: Sequence[str],
    *,
    n_top: int = 10,
    workers: int | None = None,
) -> ClosedPopulationMS:
    """Rank every two-way hierarchical model by AIC and BIC, as Rcapture ``closedpMS.t``.

    All 2^(k(k-1)/2) models are fitted at once by the batched Newton solver of
    :func:`zichtbaar.estimate.loglinear.fit_batch` (32,768 models for six lists in about 2 s
    instead of R's 7-11 min); AIC includes the log y! constant and counts parameters at
    minus infinity, as Rcapture does, so values equal R's. The ``n_top`` best models by
    each criterion are refitted one by one to give standard errors and exact ``infoFit``.
    At most six lists: beyond that the number of models explodes (use stepwise selection).
    """
    from .histories import CaptureHistories
    from .loglinear import fit_batch

    table = _full_table(patterns, counts, lists)
    k = table.k
    if k > _MS_MAX_LISTS:
        raise EstimationError(
            "too_many_lists",
            f"closedpMS.t over all two-way models works up to {_MS_MAX_LISTS} lists "
            f"({k} given); use stepwise selection.", n_lists=k,
        )
    pairs = list(itertools.combinations(range(k), 2))
    n_models = 2 ** len(pairs)
    masks = ((np.arange(n_models)[:, None] >> np.arange(len(pairs))) & 1).astype(bool)
    keep = table.y > 0
    hist = CaptureHistories(table.lists, table.histories[keep].astype(np.int8),
                            table.y[keep].astype(np.int64))
    res = fit_batch(hist, masks, workers=workers)
    no_overlap = np.array([
        table.y[(table.histories[:, i] == 1) & (table.histories[:, j] == 1)].sum() == 0
        for i, j in pairs
    ])
    info = np.zeros(n_models, dtype=np.int64)
    info[(masks & no_overlap).sum(axis=1) >= 2] = 3
    info[res["status"] == 1] = 1
    info[res["status"] == 2] = 2
    ncell = 2**k - 1
    names = tuple(
        _ms_name([pairs[j] for j in np.flatnonzero(row)], k) for row in masks
    )
    aic = np.where(res["status"] == 2, np.nan, res["aic"])
    bic = np.where(res["status"] == 2, np.nan, res["bic"])
    tops = []
    for crit in (aic, bic):
        order = np.argsort(np.where(np.isfinite(crit), crit, np.inf), kind="stable")
        picked = [int(i) for i in order[: max(n_top, 1)] if np.isfinite(crit[i])]
        # make sure the best model without fitting problems is among the refitted rows
        first_ok = next((int(i) for i in order if np.isfinite(crit[i]) and info[i] == 0), None)
        if first_ok is not None and first_ok not in picked:
            picked.append(first_ok)
        tops.append(tuple(_fit_named(table, names[i]) for i in picked))
    warnings: list[str] = []
    if no_overlap.any():
        warnings.append(
            "lists that never overlap: "
            + ", ".join(f"{table.lists[i]}:{table.lists[j]}"
                        for (i, j), e in zip(pairs, no_overlap, strict=True) if e)
            + "; models with such an interaction have it at minus infinity"
        )
    return ClosedPopulationMS(
        observed=table.n,
        lists=table.lists,
        names=names,
        estimates=np.where(res["status"] == 2, np.nan, res["estimate"]),
        deviances=res["deviance"],
        dfs=(ncell - res["n_params"]).astype(np.int64),
        aics=aic,
        bics=bic,
        info_fits=info,
        top_aic=tops[0],
        top_bic=tops[1],
        warnings=tuple(warnings),
    )


def closedp_ms_from(histories: Any, **kwargs: Any) -> ClosedPopulationMS:
    """:func:`closedp_ms` for a :class:`CaptureHistories` (or any object with its fields)."""
    return closedp_ms(*_unpack(histories), **kwargs)


def closedp_from(histories: Any, **kwargs: Any) -> ClosedPopulationTable:
    """:func:`closedp` for any object with ``.patterns``, ``.counts`` and ``.lists``."""
    return closedp(*_unpack(histories), **kwargs)


def closedp_ci_from(histories: Any, **kwargs: Any) -> ClosedPopulationCI:
    """:func:`closedp_ci` for any object with ``.patterns``, ``.counts`` and ``.lists``."""
    return closedp_ci(*_unpack(histories), **kwargs)
