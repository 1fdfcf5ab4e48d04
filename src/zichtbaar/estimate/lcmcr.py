"""Bayesian non-parametric latent-class capture-recapture (Manrique-Vallier 2016; R ``LCMCR``).

The population is a truncated stick-breaking mixture of K latent classes; within a class the
k lists capture independently with probabilities lambda[j, c] ~ Beta(1, 1). Class weights
nu follow a Dirichlet process, nu = stick-breaking(V), V_c ~ Beta(1, alpha), alpha ~
Gamma(a_alpha, b_alpha). The number never captured, n0, is sampled by data augmentation
under the improper prior p(N) ~ 1/N, which makes n0 | rest negative binomial. This is the
Gibbs sampler of ``LCMCR::lcmCR`` (C++ class ``CNPLCM_CR_Basic_Freq``), step for step:

1. class counts per observed history: multinomial(count_m, p(class | history));
2. lambda[j, c] ~ Beta(1 + captured, 1 + not captured), augmented units included;
3. stick-breaking weights nu | counts (sampled on the log scale, as LCMCR does, so tiny
   classes do not underflow);
4. n0 ~ NegBin(n, 1 - P(history = 0)), redrawn while n0 > 20 n as LCMCR does (so N is
   bounded by 21 n), then the n0 unseen units' classes ~ multinomial;
5. alpha ~ Gamma(a_alpha + K - 1, b_alpha - log nu_K).

Speed: all updates work on the aggregated table (one multinomial draw per distinct observed
history, not per person), so an iteration costs a handful of small numpy calls whatever n.
Randomness only comes from ``numpy.random.Generator(PCG64(seed))``: the same seed gives the
same draws, but not R's (GSL) stream, so results match R only up to Monte Carlo error.
With R's settings (burn-in 100,000, 1,000 draws thinned by 100) N's draws have an effective
sample size of roughly 100-300 on kosovo4, so the Monte Carlo error of the posterior median
is about 1% and that of the 2.5% / 97.5% quantiles 3-8%: agreement with R is therefore
checked as median within 3% and intervals overlapping on most of their length, not digit
for digit (tests/estimate/test_lcmcr.py). Cost: about 40 microseconds an iteration, 8 s
for the reference chain on kosovo4 (R: 4.6 s).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zichtbaar import __version__

from .histories import InputError, history_arrays
from .loglinear import EstimationError

__all__ = ["DEFAULT_BURNIN", "DEFAULT_THINNING", "LCMCRResult", "lcmcr", "lcmcr_from"]

#: Burn-in and thinning default to the settings of the R reference run (Silverman 2020,
#: ``lcmCR_PostSampl(burnin=100000, samples=1000, thinning=100)``): the sampler is fast
#: enough (about 6-10 s for 200,000 iterations on kosovo4) that there is no need to cut them.
DEFAULT_BURNIN = 100_000
DEFAULT_THINNING = 100
_WARMUP = 500  # LCMCR's fixed warm-up inside lcmCR() before the user's burn-in
_N0_FACTOR = 20  # LCMCR redraws n0 while n0 > 20 n: in effect a prior bound N <= 21 n
_MAX_K = 200
_MAX_ITERATIONS = 50_000_000  # guards a web request against a chain that runs for hours


@dataclass(frozen=True)
class LCMCRResult:
    """Posterior of the population size N under the Dirichlet-process latent-class model."""

    observed: int
    lists: tuple[str, ...]
    samples: np.ndarray = field(repr=False)  # posterior draws of N (observed + n0)
    seed: int | None
    settings: dict[str, Any]
    alpha_samples: np.ndarray = field(repr=False)
    k_star_samples: np.ndarray = field(repr=False)  # occupied classes per draw
    warnings: tuple[str, ...] = ()
    method: str = (
        "Dirichlet-process latent-class model (Manrique-Vallier 2016), Gibbs sampler as "
        "R LCMCR::lcmCR"
    )
    ci_method: str = "equal-tailed posterior credible interval (quantiles)"
    version: str = __version__

    @property
    def estimate(self) -> float:
        """Posterior median of N (what LCMCR users and Silverman 2020 report)."""
        return float(np.median(self.samples))

    @property
    def model(self) -> str:
        """Short model name, e.g. ``"LCMCR K=5"``."""
        return f"LCMCR K={self.settings.get('K')}"

    @property
    def median(self) -> float:
        return self.estimate

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @property
    def hidden(self) -> float:
        """Posterior median of the number never registered."""
        return self.estimate - self.observed

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    @property
    def ci(self) -> tuple[float, float]:
        """Equal-tailed credible interval (2.5% and 97.5% quantiles by default)."""
        tail = (1.0 - self.level) / 2.0
        lo, hi = np.quantile(self.samples, [tail, 1.0 - tail])
        return float(lo), float(hi)

    def quantiles(self, probs: Sequence[float] = (0.025, 0.1, 0.5, 0.9, 0.975)) -> dict[str, float]:
        values = np.quantile(self.samples, list(probs))
        return {f"{100 * p:g}%": float(v) for p, v in zip(probs, values, strict=True)}

    def effective_sample_size(self) -> float:
        """Effective sample size of the N draws (initial positive sequence, Geyer 1992)."""
        return _ess(self.samples)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "model": self.model,
            "observed": self.observed,
            "lists": list(self.lists),
            "estimate": self.estimate,
            "median": self.median,
            "mean": self.mean,
            "hidden": self.hidden,
            "ci": list(self.ci),
            "ci_method": self.ci_method,
            "quantiles": self.quantiles(),
            "effective_sample_size": self.effective_sample_size(),
            # a posterior, not a maximum-likelihood fit: no deviance, df, AIC or BIC
            "deviance": None,
            "df": None,
            "AIC": None,
            "BIC": None,
            "seed": self.seed,
            "settings": dict(self.settings),
            "n_samples": int(self.samples.size),
            "warnings": list(self.warnings),
            "version": self.version,
        }


def _ess(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 4 or np.var(x) == 0:
        return float(n)
    xc = x - x.mean()
    f = np.fft.rfft(xc, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (n * np.var(x))
    total = 0.0
    for t in range(0, n - 1, 2):
        pair = acf[t] + acf[t + 1]
        if pair <= 0:
            break
        total += pair
    return float(n / max(2.0 * total - 1.0, 1e-12))


def _geweke_z(x: np.ndarray) -> float:
    """Geweke (1992) z-score: mean of the first 10% against the last 50% of the draws."""
    n = x.size
    if n < 20:
        return 0.0
    a, b = x[: n // 10], x[n // 2 :]
    var = np.var(a) / _ess(a) + np.var(b) / _ess(b)
    if var <= 0:
        return 0.0 if a.mean() == b.mean() else math.inf
    return float((a.mean() - b.mean()) / math.sqrt(var))


def _check(
    patterns: Any, counts: Any, lists: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and aggregate: one row per distinct observed history (``InputError``)."""
    pat, cnt = history_arrays(patterns, counts, lists)
    m, k = pat.shape
    if k < 2:
        raise InputError("too_few_lists", f"At least two lists are needed; found {k}.",
                         n_lists=k)
    for r in range(m):
        bad = np.flatnonzero((pat[r] != 0) & (pat[r] != 1))
        if bad.size:
            j = int(bad[0])
            raise InputError(
                "not_binary",
                f"Row {r + 1}, list {lists[j]!r}: list values must be 0 or 1, "
                f"found {pat[r, j]:g}.", row=r + 1, column=str(lists[j]),
                value=f"{pat[r, j]:g}",
            )
        c = cnt[r]
        if not math.isfinite(c):
            raise InputError("bad_count", f"Row {r + 1}: the count is not a number.",
                             row=r + 1, value=str(c))
        if c < 0:
            raise InputError("negative_count", f"Row {r + 1}: a count cannot be negative "
                             f"({c:g}).", row=r + 1, value=f"{c:g}")
        if c != round(c):
            raise InputError("fractional_count", f"Row {r + 1}: a count must be a whole "
                             f"number ({c:g}).", row=r + 1, value=f"{c:g}")
        if c > 0 and not pat[r].any():
            raise InputError(
                "all_zero_history",
                f"Row {r + 1}: this history is on no list (all zeros); the people nobody "
                "registered cannot be in the data.", row=r + 1,
            )
    keep = cnt > 0
    if not keep.any():
        raise InputError("empty", "All counts are zero; there is nothing to estimate.")
    # repeated histories (e.g. one row per person or per covariate value) are summed
    uniq, inverse = np.unique(pat[keep], axis=0, return_inverse=True)
    freq = np.zeros(len(uniq), dtype=np.int64)
    np.add.at(freq, inverse.ravel(), cnt[keep].astype(np.int64))
    return uniq.astype(np.float64), freq


def _bad_option(option: str, value: object, choices: str) -> InputError:
    return InputError("bad_option", f"{option} must be {choices}, got {value!r}.",
                      option=option, value=str(value), choices=choices)


def lcmcr(
    patterns: np.ndarray,
    counts: np.ndarray,
    lists: Sequence[str],
    K: int = 5,
    a_alpha: float = 0.25,
    b_alpha: float = 0.25,
    burnin: int = DEFAULT_BURNIN,
    samples: int = 1000,
    thinning: int = DEFAULT_THINNING,
    seed: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    level: float = 0.95,
) -> LCMCRResult:
    """Sample the posterior of N with LCMCR's Gibbs sampler.

    The defaults reproduce the reference call ``lcmCR(K=5, a_alpha=0.25, b_alpha=0.25)``
    then ``lcmCR_PostSampl(burnin=100000, samples=1000, thinning=100)``. ``progress`` is
    called as ``progress(fraction_done, message)`` about a hundred times (the CLI and the
    web job show it). Give ``seed`` for
    reproducible draws; ``seed=None`` draws fresh entropy and records nothing reusable.
    """
    for option, value, low in (("K", K, 2), ("burnin", burnin, 0), ("samples", samples, 1),
                               ("thinning", thinning, 1)):
        if not isinstance(value, int | np.integer) or value < low:
            raise _bad_option(option, value, f"a whole number of at least {low}")
    if K > _MAX_K:
        raise _bad_option("K", K, f"at most {_MAX_K}")
    if burnin + samples * thinning > _MAX_ITERATIONS:
        raise _bad_option("burnin + samples * thinning", burnin + samples * thinning,
                          f"at most {_MAX_ITERATIONS:,}")
    for option, value in (("a_alpha", a_alpha), ("b_alpha", b_alpha)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise _bad_option(option, value, "a positive number")
    if not (isinstance(level, int | float) and 0.0 < level < 1.0):
        raise _bad_option("level", level, "between 0 and 1")
    if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
        raise _bad_option("seed", seed, "a non-negative whole number")
    x, freq = _check(patterns, counts, lists)
    n = int(freq.sum())
    n0_max = _N0_FACTOR * n
    m, J = x.shape
    rng = np.random.Generator(np.random.PCG64(seed))

    # --- initial state, as CNPLCM_CR_Basic_Freq::Initializes
    marg = (x * freq[:, None]).sum(axis=0) / n
    lam = np.repeat(marg[:, None], K, axis=1)  # (J, K)
    if K > 4:
        nu = np.concatenate([np.full(4, 0.25 * 0.9), np.full(K - 4, 0.1 / (K - 4))])
    else:
        nu = np.full(K, 1.0 / K)
    log_nu = np.log(nu)
    alpha = 0.3 / K
    count0 = np.zeros(K, dtype=np.int64)
    n0 = 0
    k_star = 0
    xa_t = np.vstack([x.T, np.ones(m)])  # (J + 1, m): captured counts and class totals at once
    jk = J * K
    log_1m = np.log1p(-lam)
    const = log_1m.sum(axis=0) + log_nu  # log P(all-zero history, class c), reused below
    zeros_k = np.zeros(K, dtype=np.int64)

    def sweep(update_alpha: bool) -> None:
        # Small-array work is done with Python floats: at K ~ 5 that is cheaper than numpy.
        nonlocal lam, log_1m, const, log_nu, alpha, count0, n0, k_star
        # 1. classes of the observed units: one multinomial per distinct history
        logp = x @ (np.log(lam) - log_1m)
        logp += const
        logp -= np.maximum.reduce(logp, axis=1, keepdims=True)
        prob = np.exp(logp)
        prob /= np.add.reduce(prob, axis=1, keepdims=True)
        z = rng.multinomial(freq, prob)  # (m, K)
        tab = xa_t @ z  # rows 0..J-1: captured per list and class; row J: class sizes
        n_k = (tab[J] + count0).tolist()
        k_star = K - n_k.count(0)
        caught = tab[:J]
        # 2.+3. one Gamma call for lambda ~ Beta(1 + caught, 1 + not caught) and for the
        # sticks V_c ~ Beta(1 + n_c, alpha + n_{>c}); the second stick shape gets +1 and a
        # uniform power (log G(b) = log G(b + 1) + log(U) / b) so tiny b cannot underflow.
        remaining = n + n0
        stick_a, stick_b = [], []
        for c in range(K - 1):
            remaining -= n_k[c]
            stick_a.append(1.0 + n_k[c])
            stick_b.append(alpha + remaining)
        shapes = np.concatenate(
            ((1.0 + caught).ravel(), (1.0 + np.asarray(n_k) - caught).ravel(), stick_a, stick_b)
        )
        shapes[2 * jk + K - 1 :] += 1.0
        g = rng.standard_gamma(shapes)
        ga = g[:jk]
        lam = (ga / (ga + g[jk : 2 * jk])).reshape(J, K)
        np.maximum(lam, 1e-300, out=lam)  # keep log(lam) and log(1 - lam) finite
        np.minimum(lam, 1.0 - 1e-15, out=lam)
        gs = g[2 * jk :].tolist()
        us = rng.random(K - 1).tolist()
        acc = 0.0
        lnu = []
        for c in range(K - 1):
            lg1 = math.log(gs[c])
            lg2 = math.log(gs[K - 1 + c]) + math.log(us[c]) / stick_b[c]
            top = lg1 if lg1 > lg2 else lg2
            lsum = top + math.log(math.exp(lg1 - top) + math.exp(lg2 - top))
            lnu.append(lg1 - lsum + acc)
            acc += lg2 - lsum
        lnu.append(acc)
        log_nu = np.array(lnu)
        # 4. the never-captured: n0 ~ NegBin(n, 1 - p0), their classes ~ multinomial
        log_1m = np.log1p(-lam)
        const = np.add.reduce(log_1m, axis=0) + log_nu
        p0_k = np.exp(const)
        p0 = math.fsum(p0_k.tolist())
        if p0 > 0.0:
            p_seen = 1.0 - min(p0, 1.0 - 1e-15)
            n0 = int(rng.negative_binomial(n, p_seen))
            if n0 > n0_max:
                n0 = _redraw_n0(rng, n, p_seen, n0_max)
            count0 = rng.multinomial(n0, p0_k / p0) if n0 > 0 else zeros_k
        else:
            n0, count0 = 0, zeros_k
        # 5. concentration parameter
        if update_alpha:
            alpha = float(rng.gamma(a_alpha + K - 1.0, 1.0 / (b_alpha - acc)))

    for _ in range(_WARMUP):  # LCMCR's warm-up: no alpha update
        sweep(update_alpha=False)
    order = np.argsort(-log_nu, kind="stable")  # LCMCR reorders classes by weight
    lam, log_nu, count0 = lam[:, order], log_nu[order], count0[order]
    log_1m = log_1m[:, order]
    const = const[order]

    total = burnin + samples * thinning
    report_every = max(total // 100, 1)
    out_n = np.empty(samples, dtype=np.int64)
    out_alpha = np.empty(samples)
    out_kstar = np.empty(samples, dtype=np.int64)

    def report(done: int) -> None:
        if progress is None:
            return
        if done <= burnin:
            progress(done / total, f"burn-in {done:,} of {burnin:,} iterations")
        else:
            drawn = (done - burnin) // thinning
            progress(done / total, f"sampling: {drawn:,} of {samples:,} draws")

    done = 0
    for _ in range(burnin):
        sweep(True)
        done += 1
        if done % report_every == 0:
            report(done)
    for s in range(samples):
        for _ in range(thinning):
            sweep(True)
            done += 1
            if done % report_every == 0:
                report(done)
        out_n[s] = n + n0
        out_alpha[s] = alpha
        out_kstar[s] = k_star
    if done % report_every != 0:
        report(done)

    warnings: list[str] = []
    ess = _ess(out_n.astype(float))
    geweke = _geweke_z(out_n.astype(float))
    if abs(geweke) > 3.0:
        warnings.append(
            f"the first 10% and the last 50% of the draws disagree (Geweke z = {geweke:.1f}): "
            "the chain has probably not converged (LCMCR chains can stay for a long time in "
            "one mode); rerun with a longer burn-in or other seeds and compare"
        )
    if ess < 100:
        warnings.append(
            f"effective sample size of N is only {ess:.0f}: increase burnin, samples or "
            "thinning before relying on the interval"
        )
    settings = {
        "K": K,
        "a_alpha": a_alpha,
        "b_alpha": b_alpha,
        "burnin": burnin,
        "samples": samples,
        "thinning": thinning,
        "warmup": _WARMUP,
        "level": level,
        "prior_N": "improper 1/N (as LCMCR)",
        "prior_lambda": "Beta(1, 1)",
        "rng": "numpy PCG64",
    }
    return LCMCRResult(
        observed=n,
        lists=tuple(str(s) for s in lists),
        samples=out_n,
        seed=seed,
        settings=settings,
        alpha_samples=out_alpha,
        k_star_samples=out_kstar,
        warnings=tuple(warnings),
    )


def _redraw_n0(rng: np.random.Generator, n: int, p_seen: float, n0_max: int) -> int:
    """n0 given that n0 <= n0_max, like LCMCR's ``do { ... } while (n0 > 20 n)``.

    A few redraws first (the usual case, same as R); if the bound is far in the tail, draw
    from the truncated distribution by inversion instead of looping for ever.
    """
    for _ in range(20):
        n0 = int(rng.negative_binomial(n, p_seen))
        if n0 <= n0_max:
            return n0
    from scipy.stats import nbinom

    u = rng.random() * float(nbinom.cdf(n0_max, n, p_seen))
    return int(min(nbinom.ppf(u, n, p_seen), n0_max))


def lcmcr_from(histories: Any, **kwargs: Any) -> LCMCRResult:
    """:func:`lcmcr` for any object with ``.patterns``, ``.counts`` and ``.lists``."""
    try:
        patterns, counts, lists = histories.patterns, histories.counts, histories.lists
    except AttributeError as exc:  # pragma: no cover - message only
        raise TypeError("expected an object with .patterns, .counts and .lists") from exc
    if getattr(histories, "structural_zeros", ()):
        raise EstimationError(
            "lcmcr_structural_zeros",
            "The latent-class model (LCMCR) cannot leave out impossible list combinations "
            "(structural zeros); use the log-linear methods, which can.",
        )
    return lcmcr(np.asarray(patterns), np.asarray(counts), list(lists), **kwargs)
