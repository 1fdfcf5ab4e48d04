"""Poisson log-linear models over the 2**k - 1 observable cells.

The hidden number (people on no list) is ``exp(intercept)``: the all-zero
cell has design row (1, 0, ..., 0). Interaction terms whose lists share no
one are at minus infinity (Chan, Silverman & Vincent 2021, as SparseMSE):
the cells containing the term are removed and the term is counted as a
parameter in AIC/BIC, which is the limit R reaches when it converges.

Fitting is a plain Newton/IRLS in numpy; :func:`fit_batch` fits thousands of
models that share one design at once (the exhaustive AIC/BIC search).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np
from scipy.special import gammaln

from .histories import CaptureHistories

__all__ = [
    "EstimationError",
    "LogLinear",
    "LogLinearResult",
    "cell_patterns",
    "parse_terms",
]

Term = tuple[int, ...]


class EstimationError(Exception):
    """A model cannot be estimated from these data (with the reason as ``code``)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details)


def _version() -> str:
    try:
        from zichtbaar import __version__
    except ImportError:  # pragma: no cover - package always importable in practice
        return "unknown"
    return __version__


@lru_cache(maxsize=64)
def cell_patterns(k: int) -> np.ndarray:
    """All 2**k - 1 observable patterns; row c - 1 is the pattern with code c (read-only)."""
    codes = np.arange(1, 2**k)
    out = ((codes[:, None] >> np.arange(k)) & 1).astype(np.int8)
    out.setflags(write=False)
    return out


def parse_terms(terms: Iterable[str | Sequence[int]], lists: Sequence[str]) -> tuple[Term, ...]:
    """Interaction terms ("A:B" or index tuples) closed under the hierarchy.

    Main effects are always in the model and are not returned. Adding the
    lower-order terms keeps the model hierarchical, so the estimate does not
    depend on how the lists are coded.
    """
    index = {name: i for i, name in enumerate(lists)}
    out: set[Term] = set()
    for t in terms:
        if isinstance(t, str):
            parts = [p.strip() for p in t.split(":")]
            try:
                idx = tuple(sorted(index[p] for p in parts))
            except KeyError as exc:
                raise ValueError(f"unknown list in term {t!r}: {exc.args[0]!r}") from None
        else:
            idx = tuple(sorted(int(i) for i in t))
        if len(set(idx)) != len(idx) or len(idx) < 2:
            raise ValueError(f"an interaction needs two or more different lists: {t!r}")
        for order in range(2, len(idx) + 1):
            out.update(combinations(idx, order))
    return tuple(sorted(out, key=lambda x: (len(x), x)))


def term_name(term: Term, lists: Sequence[str]) -> str:
    return ":".join(lists[i] for i in term)


def design_matrix(k: int, terms: Sequence[Term]) -> np.ndarray:
    """Columns: intercept, k main effects, one column per interaction term."""
    return _design_cached(k, tuple(terms)).copy()


@lru_cache(maxsize=4096)
def _design_cached(k: int, terms: tuple[Term, ...]) -> np.ndarray:
    pat = cell_patterns(k).astype(float)
    cols = [np.ones(len(pat)), *pat.T]
    cols += [np.prod(pat[:, list(t)], axis=1) for t in terms]
    return np.column_stack(cols)


def poisson_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    """Full Poisson log-likelihood, with log(y!) as R's ``dpois``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogmu = np.where(y > 0, y * np.log(mu), 0.0)
    return float(np.sum(ylogmu - mu - gammaln(y + 1)))


def poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(ylogy - (y - mu)))


def newton_poisson(
    X: np.ndarray,
    y: np.ndarray,
    beta0: np.ndarray | None = None,
    *,
    tol: float = 1e-11,
    maxit: int = 100,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Poisson log-link MLE by Newton's method with step halving.

    Starts from least squares on log(y + 0.5) unless ``beta0`` is given;
    converges on the relative change in deviance like R's ``glm`` but tighter.
    Returns (beta, mu, converged, iterations).
    """
    if beta0 is None:
        beta = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]
    else:
        beta = np.array(beta0, dtype=float)
    eta = np.clip(X @ beta, -700, 700)
    mu = np.exp(eta)
    dev = poisson_deviance(y, mu)
    for it in range(1, maxit + 1):
        grad = X.T @ (y - mu)
        hess = (X.T * mu) @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        for _ in range(30):
            nb = beta + t * step
            nmu = np.exp(np.clip(X @ nb, -700, 700))
            ndev = poisson_deviance(y, nmu)
            if np.isfinite(ndev) and ndev <= dev + 1e-12 * (abs(dev) + 1):
                break
            t /= 2
        beta, mu = nb, nmu
        change = abs(ndev - dev) / (abs(ndev) + 0.1)
        dev = ndev
        if change < tol and np.max(np.abs(t * step)) < 1e-6:
            return beta, mu, True, it
    return beta, mu, False, maxit


@dataclass(frozen=True)
class ModelSpec:
    """The parts of a model that depend on the data: which cells and columns remain."""

    lists: tuple[str, ...]
    terms: tuple[Term, ...]  # all interaction terms asked for (hierarchical)
    fitted: tuple[Term, ...]  # terms estimated (overlap > 0)
    neg_inf: tuple[Term, ...]  # terms at minus infinity (no overlap)
    cells: np.ndarray  # indices (0-based, code - 1) of cells kept
    X: np.ndarray  # design on the kept cells

    @property
    def n_params(self) -> int:
        """Parameters as counted in AIC/BIC, minus-infinity terms included."""
        return self.X.shape[1] + len(self.neg_inf)


def build_spec(
    lists: Sequence[str],
    y_cells: np.ndarray,
    terms: Sequence[Term],
    structural_zeros: Iterable[Sequence[int]] = (),
) -> ModelSpec:
    """Drop the cells of terms nobody is on (minus infinity) and structural zeros."""
    k = len(lists)
    pat = cell_patterns(k)
    keep = np.ones(len(pat), dtype=bool)
    for z in structural_zeros:
        keep &= ~np.all(pat == np.asarray(z, dtype=np.int8), axis=1)
    fitted: list[Term] = []
    neg_inf: list[Term] = []
    for t in terms:
        has = np.all(pat[:, list(t)] == 1, axis=1)
        if y_cells[has & keep].sum() == 0:
            neg_inf.append(t)
            keep &= ~has
        else:
            fitted.append(t)
    # a term whose cells were all removed by another minus-infinity term is also out
    X_all = design_matrix(k, fitted)
    cells = np.flatnonzero(keep)
    X = X_all[cells]
    empty = [j for j in range(1 + k, X.shape[1]) if not X[:, j].any()]
    if empty:
        moved = [fitted[j - 1 - k] for j in empty]
        fitted = [t for t in fitted if t not in moved]
        neg_inf += moved
        X = np.delete(X, empty, axis=1)
    return ModelSpec(tuple(lists), tuple(terms), tuple(fitted), tuple(neg_inf), cells, X)


@dataclass(frozen=True, eq=False)
class LogLinearResult:
    """A fitted log-linear model: the estimate and everything that reproduces it."""

    lists: tuple[str, ...]
    terms: tuple[str, ...]
    neg_inf_terms: tuple[str, ...]
    observed: int
    estimate: float
    hidden: float
    deviance: float
    df: int
    loglik: float
    aic: float
    bic: float
    n_params: int
    coefficients: dict[str, float]
    std_errors: dict[str, float]
    converged: bool
    iterations: int
    warnings: tuple[str, ...] = ()
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    ci_level: float = 0.95
    seed: int | None = None
    method: str = "fixed"
    version: str = field(default_factory=_version)
    spec: ModelSpec | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)
    mu: np.ndarray | None = field(default=None, repr=False)
    cov: np.ndarray | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_invisible(self) -> float:
        """Fraction of the estimated total that is on no list."""
        return self.hidden / self.estimate if self.estimate > 0 else math.nan

    @property
    def fitted_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if t not in self.neg_inf_terms)

    def conf_int(self, method: str = "model", level: float = 0.95) -> tuple[float, float]:
        """Interval for the total: "model" (SparseMSE, normal on log hidden) or
        "profile" (Rcapture, multinomial profile likelihood)."""
        from .intervals import model_interval, profile_interval

        if method == "model":
            return model_interval(self, level)
        if method == "profile":
            return profile_interval(self, level)[1:]
        raise ValueError(
            f"unknown interval method {method!r}; the bootstrap needs the selection "
            "procedure, use select_model(..., ci='bootstrap')"
        )

    def with_ci(self, method: str = "model", level: float = 0.95) -> LogLinearResult:
        return replace(self, ci=self.conf_int(method, level), ci_method=method, ci_level=level)

    def summary(self) -> str:
        lo, hi = self.ci if self.ci else (math.nan, math.nan)
        return (
            f"observed {self.observed}, estimate {self.estimate:.1f} "
            f"[{lo:.1f}, {hi:.1f}] ({self.ci_method}), hidden {self.hidden:.1f}; "
            f"terms {', '.join(self.terms) or '(main effects)'}; deviance {self.deviance:.3f} "
            f"on {self.df} df, AIC {self.aic:.3f}, BIC {self.bic:.3f}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no numpy types)."""
        return {
            "lists": list(self.lists),
            "observed": int(self.observed),
            "estimate": float(self.estimate),
            "hidden": float(self.hidden),
            "share_invisible": float(self.share_invisible),
            "ci": [float(self.ci[0]), float(self.ci[1])] if self.ci else None,
            "ci_method": self.ci_method,
            "ci_level": self.ci_level,
            "method": self.method,
            "model": list(self.terms),
            "neg_inf_terms": list(self.neg_inf_terms),
            "deviance": float(self.deviance),
            "df": int(self.df),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "loglik": float(self.loglik),
            "n_params": int(self.n_params),
            "coefficients": {k: float(v) for k, v in self.coefficients.items()},
            "std_errors": {k: float(v) for k, v in self.std_errors.items()},
            "converged": bool(self.converged),
            "warnings": list(self.warnings),
            "seed": self.seed,
            "version": self.version,
            **{k: v for k, v in self.extra.items() if _jsonable(v)},
        }


def _jsonable(v: object) -> bool:
    return isinstance(v, str | int | float | bool | list | dict | type(None))


class LogLinear:
    """A log-linear model specification on given data; :meth:`fit` computes it."""

    def __init__(
        self,
        histories: CaptureHistories,
        terms: Iterable[str | Sequence[int]] = (),
    ) -> None:
        self.histories = histories
        self.terms = parse_terms(terms, histories.lists)

    def fit(self, *, check: bool = True, beta0: np.ndarray | None = None) -> LogLinearResult:
        """Fit by maximum likelihood.

        With ``check`` the existence/identifiability test runs first and a
        model that fails raises :class:`EstimationError` (code ``no_mle``,
        ``not_identifiable`` or ``no_mle_not_identifiable``) instead of
        returning a meaningless number.
        """
        h = self.histories
        y_all = h.cell_counts().astype(float)
        spec = build_spec(h.lists, y_all, self.terms, h.structural_zeros)
        if check:
            from .identifiability import check_spec

            code = check_spec(spec, y_all)
            if code:
                raise EstimationError(
                    {1: "no_mle", 2: "not_identifiable", 3: "no_mle_not_identifiable"}[code],
                    {
                        1: "the maximum likelihood estimate does not exist (infinite).",
                        2: "the model is not identifiable from these data.",
                        3: "the estimate is infinite and the model not identifiable.",
                    }[code],
                    terms=[term_name(t, h.lists) for t in self.terms],
                    checkident=code,
                )
        return fit_spec(spec, y_all, h.observed, beta0=beta0)


def fit_spec(
    spec: ModelSpec,
    y_all: np.ndarray,
    observed: int,
    *,
    beta0: np.ndarray | None = None,
    with_cov: bool = True,
) -> LogLinearResult:
    """Fit a prepared model; shared by :class:`LogLinear` and the selection code."""
    y = y_all[spec.cells]
    X = spec.X
    beta, mu, conv, its = newton_poisson(X, y, beta0)
    names = ["(Intercept)", *spec.lists, *(term_name(t, spec.lists) for t in spec.fitted)]
    warnings: list[str] = []
    if not conv:
        warnings.append("The fit did not converge.")
    if with_cov:
        info = (X.T * mu) @ X
        try:
            cov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            cov = np.full_like(info, np.nan)
            warnings.append("The information matrix is singular.")
        se = np.sqrt(np.abs(np.diag(cov)))
    else:
        cov = None
        se = np.full(len(beta), np.nan)
    ll = poisson_loglik(y, mu)
    dev = poisson_deviance(y, mu)
    p = spec.n_params
    hidden = float(np.exp(beta[0]))
    if spec.neg_inf:
        warnings.append(
            "No one is on both lists of "
            + ", ".join(term_name(t, spec.lists) for t in spec.neg_inf)
            + "; these interactions are set to minus infinity."
        )
    return LogLinearResult(
        lists=spec.lists,
        terms=tuple(term_name(t, spec.lists) for t in spec.terms),
        neg_inf_terms=tuple(term_name(t, spec.lists) for t in spec.neg_inf),
        observed=int(observed),
        estimate=observed + hidden,
        hidden=hidden,
        deviance=dev,
        df=int(len(y) - X.shape[1]),
        loglik=ll,
        aic=-2 * ll + 2 * p,
        bic=-2 * ll + math.log(max(observed, 1)) * p,
        n_params=p,
        coefficients=dict(zip(names, map(float, beta), strict=True)),
        std_errors=dict(zip(names, map(float, se), strict=True)),
        converged=conv,
        iterations=its,
        warnings=tuple(warnings),
        spec=spec,
        y=y,
        mu=mu,
        cov=cov,
    )


# --------------------------------------------------------------------- batch
def pool_context() -> Any:
    """Start method for worker processes: forkserver where the OS has it.

    Plain fork copies a multi-threaded caller (a web server, a test runner with a browser
    thread) and can deadlock the child; forkserver children fork from a clean,
    single-threaded server that has imported this package once.
    """
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return None
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["zichtbaar.estimate.intervals"])
    return ctx


def pair_terms(k: int) -> list[Term]:
    return list(combinations(range(k), 2))


def _batch_chunk(args: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> tuple[np.ndarray, ...]:
    masks, y, beta_main, k = args
    return _fit_batch_local(masks, y, beta_main, k)


def _fit_batch_local(
    masks: np.ndarray, y: np.ndarray, beta_main: np.ndarray, k: int, maxit: int = 60
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Newton on many two-way models at once.

    ``masks`` (B x npairs, bool) says which pairs each model has. All models
    share the full design; a model's absent columns get an identity block in
    the Hessian (their step is zero) and its minus-infinity cells get zero
    weight. The Hessian of every model comes from one matrix product
    ``mu @ P`` where P holds the products of design columns.
    Returns (hidden, loglik, deviance, n_params, status) with status 0 = ok,
    1 = did not converge, 2 = singular.
    """
    pairs = pair_terms(k)
    X = design_matrix(k, pairs)
    n, p = X.shape
    B = masks.shape[0]
    overlap = np.array([y[X[:, 1 + k + j] > 0].sum() for j in range(len(pairs))])
    empty = overlap == 0
    colmask = np.ones((B, p))
    colmask[:, 1 + k:] = masks & ~empty
    cellmask = np.ones((B, n))
    for j in np.flatnonzero(empty):
        has = X[:, 1 + k + j] > 0
        cellmask[np.ix_(masks[:, j], has)] = 0.0
    n_params = (1 + k + masks.sum(axis=1)).astype(float)
    P = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    eye = np.eye(p).reshape(p * p)
    # H = (mu @ P) * hmask + hadd: absent columns become identity rows/columns
    hmask = (colmask[:, :, None] * colmask[:, None, :]).reshape(B, p * p)
    hadd = eye[None, :] * np.repeat(1 - colmask, p, axis=1).reshape(B, p, p).transpose(
        0, 2, 1).reshape(B, p * p)
    beta = np.zeros((B, p))
    beta[:, : 1 + k] = beta_main
    status = np.zeros(B, dtype=np.int8)
    # identifiability: the design on the kept cells must have full column rank;
    # only models with minus-infinity terms lose cells, so only they are checked
    singular = np.zeros(B, dtype=bool)
    lost = np.flatnonzero(cellmask.min(axis=1) == 0)
    if lost.size:
        gram = ((cellmask[lost] @ P) * hmask[lost] + hadd[lost]).reshape(-1, p, p)
        d = np.sqrt(np.maximum(np.einsum("bii->bi", gram), 1e-300))
        corr = gram / d[:, :, None] / d[:, None, :]
        sign, logdet = np.linalg.slogdet(corr)
        singular[lost] = (sign <= 0) | (logdet < math.log(1e-12))
    status[singular] = 2
    yb = y[None, :] * cellmask
    yX = yb @ X
    with np.errstate(divide="ignore", invalid="ignore"):
        const = np.sum(np.where(yb > 0, yb * np.log(yb), 0.0) - yb, axis=1)
    active = np.flatnonzero(~singular)
    dev_old = np.full(B, np.inf)
    step_old = np.full(B, np.inf)
    for _ in range(maxit + 1):
        if active.size == 0:
            break
        b = beta[active]
        eta = np.clip(b @ X.T, -700, 700)
        mu = np.exp(eta)
        mu *= cellmask[active]
        dev = 2 * (const[active] - np.sum(b * yX[active], axis=1) + mu.sum(axis=1))
        done = (np.abs(dev - dev_old[active]) / (np.abs(dev) + 0.1) < 1e-10) & (
            step_old[active] < 1e-5
        )
        dev_old[active] = dev
        if done.any():
            keep = ~done
            active, b, mu = active[keep], b[keep], mu[keep]
            if active.size == 0:
                break
        grad = (yX[active] - mu @ X) * colmask[active]
        H = mu @ P
        H *= hmask[active]
        H += hadd[active]
        Hs = H.reshape(-1, p, p)
        try:
            step = np.linalg.solve(Hs, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            # some model went singular (a fitted value underflowed): solve one by one
            # and take those models out as not identifiable
            step = np.zeros_like(grad)
            bad = np.zeros(active.size, dtype=bool)
            for i in range(active.size):
                try:
                    step[i] = np.linalg.solve(Hs[i], grad[i])
                except np.linalg.LinAlgError:
                    bad[i] = True
            if bad.any():
                status[active[bad]] = 2
                singular[active[bad]] = True
                active, b, step = active[~bad], b[~bad], step[~bad]
        big = np.abs(step).max(axis=1)
        step *= np.minimum(1.0, 5.0 / np.maximum(big, 1e-300))[:, None]
        beta[active] = b + step
        step_old[active] = np.minimum(big, 5.0)
    status[active] = 1
    mu = np.exp(np.clip(beta @ X.T, -700, 700)) * cellmask
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.sum(np.where(yb > 0, yb * np.log(mu), 0.0) - mu - gammaln(yb + 1), axis=1)
        dev = 2 * np.sum(np.where(yb > 0, yb * np.log(yb / mu), 0.0) - (yb - mu), axis=1)
    hidden = np.exp(np.clip(beta[:, 0], -700, 700))
    ll[status == 2] = np.nan
    return hidden, ll, dev, n_params, status


def fit_batch(
    histories: CaptureHistories, masks: np.ndarray, *, workers: int | None = None
) -> dict[str, np.ndarray]:
    """Fit every two-way model in ``masks`` (B x k(k-1)/2 booleans).

    Returns arrays: hidden, estimate, loglik, deviance, aic, bic, n_params,
    status. Large batches are split over processes.
    """
    import os

    k = histories.n_lists
    y = histories.cell_counts().astype(float)
    main = LogLinear(histories).fit(check=False)
    beta_main = np.array(list(main.coefficients.values()))
    masks = np.asarray(masks, dtype=bool)
    B = masks.shape[0]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if B >= 4096 else 1
    chunk = max(256, -(-B // (workers * 4)))
    parts = [masks[i : i + chunk] for i in range(0, B, chunk)]
    if workers > 1 and len(parts) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            outs = list(pool.map(_batch_chunk, [(m, y, beta_main, k) for m in parts]))
    else:
        outs = [_fit_batch_local(m, y, beta_main, k) for m in parts]
    hidden, ll, dev, npar, status = (np.concatenate(x) for x in zip(*outs, strict=True))
    n = histories.observed
    return {
        "hidden": hidden,
        "estimate": n + hidden,
        "loglik": ll,
        "deviance": dev,
        "aic": -2 * ll + 2 * npar,
        "bic": -2 * ll + math.log(n) * npar,
        "n_params": npar,
        "status": status,
    }
