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
history, not per person), and 8 independent chains run side by side so that each numpy call
serves all of them (one multinomial, one standard-gamma and one Poisson call a sweep; n0 and
its classes are drawn as the Poisson-Gamma mixture the negative binomial is). Burn-in and
samples x thinning are totals over the chains, so the sampler spends as many sweeps as R's
single chain; the draws are stored chain after chain and R-hat over the chains is checked.
Randomness only comes from ``numpy.random.Generator(PCG64(seed))``: the same seed gives the
same draws, but not R's (GSL) stream, so results match R only up to Monte Carlo error.
With R's settings (burn-in 100,000, 1,000 draws thinned by 100) N's draws have an effective
sample size of roughly 100-300 on kosovo4, so the Monte Carlo error of the posterior median
is about 1% and that of the 2.5% / 97.5% quantiles 3-8%: agreement with R is therefore
checked as median within 3% and intervals overlapping on most of their length, not digit
for digit (tests/estimate/test_lcmcr.py). Cost: bench/estimate.py (kosovo4 reference chain
about 3.7 times less CPU than one chain; R: 4.6 s).
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

__all__ = [
    "DEFAULT_BURNIN", "DEFAULT_CHAINS", "DEFAULT_THINNING", "LCMCRResult", "lcmcr", "lcmcr_from",
]

#: Burn-in and thinning default to the settings of the R reference run (Silverman 2020,
#: ``lcmCR_PostSampl(burnin=100000, samples=1000, thinning=100)``), spread over the chains.
DEFAULT_BURNIN = 100_000
DEFAULT_THINNING = 100
_WARMUP = 500  # LCMCR's fixed warm-up inside lcmCR() before the user's burn-in
_N0_FACTOR = 20  # LCMCR redraws n0 while n0 > 20 n: in effect a prior bound N <= 21 n
_MAX_K = 200
_MAX_ITERATIONS = 50_000_000  # guards a web request against a chain that runs for hours
#: Independent chains run side by side, each numpy call serving all of them: the sampler's
#: cost is the per-call overhead of ~25 small numpy calls a sweep, so 8 chains cost little
#: more per sweep than one. Burn-in and samples x thinning are totals over the chains (R's
#: single chain spends 100,000 + 100,000 sweeps; 8 chains spend 12,500 + 12,500 each).
DEFAULT_CHAINS = 8
_MAX_CHAINS = 64
_RHAT_LIMIT = 1.1  # split-free Gelman-Rubin R-hat above this: the chains disagree


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


def _rhat(draws: np.ndarray) -> float:
    """Gelman-Rubin potential scale reduction of N over chains (rows of ``draws``)."""
    c, s = draws.shape
    if c < 2 or s < 2:
        return math.nan
    w = float(np.mean(np.var(draws, axis=1, ddof=1)))
    b = s * float(np.var(draws.mean(axis=1), ddof=1))
    if w <= 0:
        return 1.0 if b == 0 else math.inf
    return math.sqrt(((s - 1) / s * w + b / s) / w)


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
    chains: int = DEFAULT_CHAINS,
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
    if not isinstance(chains, int | np.integer) or chains < 1 or chains > _MAX_CHAINS:
        raise _bad_option("chains", chains, f"a whole number from 1 to {_MAX_CHAINS}")
    x, freq = _check(patterns, counts, lists)
    n = int(freq.sum())
    n0_max = _N0_FACTOR * n
    m, J = x.shape
    rng = np.random.Generator(np.random.PCG64(seed))
    C = int(min(chains, samples))
    per_chain = -(-samples // C)  # draws per chain; the surplus of the last round is dropped
    burn_c = -(-burnin // C)  # burn-in per chain: all chains together burn R's total

    # --- initial state of every chain, as CNPLCM_CR_Basic_Freq::Initializes
    marg = (x * freq[:, None]).sum(axis=0) / n
    lam = np.broadcast_to(marg[None, :, None], (C, J, K)).copy()  # (C, J, K)
    if K > 4:
        nu = np.concatenate([np.full(4, 0.25 * 0.9), np.full(K - 4, 0.1 / (K - 4))])
    else:
        nu = np.full(K, 1.0 / K)
    log_nu = np.tile(np.log(nu), (C, 1))  # (C, K)
    alpha = np.full(C, 0.3 / K)
    count0 = np.zeros((C, K), dtype=np.int64)
    n0 = np.zeros(C, dtype=np.int64)
    xa_t = np.vstack([x.T, np.ones(m)])  # (J + 1, m): captured counts and class totals at once
    freq_c = np.tile(freq, C)  # one multinomial row per chain and distinct history
    log_1m = np.log1p(-lam)
    logit = np.log(lam) - log_1m  # (C, J, K): log(lam / (1 - lam)), what step 1 needs
    const = log_1m.sum(axis=1) + log_nu  # log P(all-zero history, class c), reused below
    jk = J * K
    # One standard-gamma call a sweep draws every gamma variate of every chain: lambda's two
    # Beta halves, the sticks' two halves, the Gamma(n) behind n0 and alpha's Gamma. The
    # shapes of the last two never change, so they are set once. Shapes are >= 1, so no
    # draw is 0 and every log below is finite.
    o_stick = 2 * jk
    o_fixed = o_stick + 2 * (K - 1)
    shapes = np.empty((C, o_fixed + 2))
    shapes[:, o_fixed] = n
    shapes[:, o_fixed + 1] = a_alpha + K - 1.0
    s_caught = shapes[:, :jk].reshape(C, J, K)  # views written in place each sweep
    s_missed = shapes[:, jk:o_stick].reshape(C, J, K)
    s_stick_a = shapes[:, o_stick : o_stick + K - 1]
    s_stick_b = shapes[:, o_stick + K - 1 : o_fixed]
    block = 1024  # the sticks' uniforms are drawn for this many sweeps at once
    uniforms = np.empty((0, C, K - 1))
    used = 0
    n_k = np.zeros((C, K), dtype=np.int64)
    log_nu_new = np.zeros((C, K))  # the last class has no stick of its own
    near_one = 1.0 - 1e-15

    def sweep(update_alpha: bool) -> None:
        # Every chain in one numpy call per step: the per-call cost is shared by C chains,
        # and the steps are written to need as few numpy calls as possible.
        nonlocal logit, log_1m, const, log_nu, alpha, count0, n0, n_k, uniforms, used
        # 1. classes of the observed units: one multinomial per chain and distinct history
        logp = np.matmul(x, logit)  # (C, m, K)
        logp += const[:, None, :]
        logp -= logp.max(axis=2, keepdims=True)
        prob = np.exp(logp, out=logp)
        prob /= prob.sum(axis=2, keepdims=True)
        z = rng.multinomial(freq_c, prob.reshape(C * m, K)).reshape(C, m, K)
        tab = np.matmul(xa_t, z)  # (C, J + 1, K): captured per list and class; class sizes
        n_k = tab[:, J, :] + count0  # (C, K)
        caught = tab[:, :J, :]
        # 2.+3. lambda ~ Beta(1 + caught, 1 + not caught) and the sticks
        # V_c ~ Beta(1 + n_c, alpha + n_{>c}) from gamma pairs; the second stick shape gets
        # +1 and a uniform power (log G(b) = log G(b + 1) + log(U) / b) so tiny b cannot
        # underflow.
        np.add(caught, 1.0, out=s_caught)
        np.subtract(n_k[:, None, :] + 1.0, caught, out=s_missed)
        np.add(n_k[:, : K - 1], 1.0, out=s_stick_a)
        np.subtract((alpha + (n + n0 + 1))[:, None], np.cumsum(n_k[:, : K - 1], axis=1),
                    out=s_stick_b)
        g = rng.standard_gamma(shapes)
        lg = np.log(g)
        lga = lg[:, :jk].reshape(C, J, K)
        lgb = lg[:, jk:o_stick].reshape(C, J, K)
        logit = lga - lgb  # lambda = ga / (ga + gb)
        log_1m = lgb - np.log(g[:, :jk] + g[:, jk:o_stick]).reshape(C, J, K)
        if used == len(uniforms):
            uniforms = np.log(rng.random((block, C, K - 1)))
            used = 0
        lg1 = lg[:, o_stick : o_stick + K - 1]
        lg2 = lg[:, o_stick + K - 1 : o_fixed] + uniforms[used] / (s_stick_b - 1.0)
        used += 1
        lsum = np.logaddexp(lg1, lg2)
        log_1mv = np.cumsum(lg2 - lsum, axis=1)  # log prod_{d <= c} (1 - V_d)
        log_nu = log_nu_new.copy()
        np.subtract(lg1, lsum, out=log_nu[:, : K - 1])
        log_nu[:, 1:] += log_1mv
        # 4. the never-captured: n0 ~ NegBin(n, 1 - p0) and their classes ~ multinomial,
        # drawn as the Poisson-Gamma mixture they are: G ~ Gamma(n) p0 / (1 - p0), then
        # count0_c ~ Poisson(G p0_c / p0) independently and n0 = sum of count0.
        const = log_1m.sum(axis=1) + log_nu
        p0_k = np.exp(const)
        p_seen = 1.0 - np.minimum(p0_k.sum(axis=1), near_one)
        count0 = rng.poisson(p0_k * (g[:, o_fixed] / p_seen)[:, None])
        n0 = count0.sum(axis=1)
        if n0.max() > n0_max:  # LCMCR redraws n0 while n0 > 20 n (rare)
            for c in np.flatnonzero(n0 > n0_max):
                n0[c] = _redraw_n0(rng, n, float(p_seen[c]), n0_max)
                count0[c] = rng.multinomial(n0[c], p0_k[c] / p0_k[c].sum())
        # 5. concentration parameter
        if update_alpha:
            alpha = g[:, o_fixed + 1] / (b_alpha - log_1mv[:, -1])

    for _ in range(_WARMUP):  # LCMCR's warm-up: no alpha update
        sweep(update_alpha=False)
    order = np.argsort(-log_nu, axis=1, kind="stable")  # LCMCR reorders classes by weight
    logit = np.take_along_axis(logit, order[:, None, :], axis=2)
    log_1m = np.take_along_axis(log_1m, order[:, None, :], axis=2)
    log_nu = np.take_along_axis(log_nu, order, axis=1)
    const = np.take_along_axis(const, order, axis=1)
    count0 = np.take_along_axis(count0, order, axis=1)

    total = burn_c + per_chain * thinning
    report_every = max(total // 100, 1)
    out_n = np.empty((C, per_chain), dtype=np.int64)
    out_alpha = np.empty((C, per_chain))
    out_kstar = np.empty((C, per_chain), dtype=np.int64)

    def report(done: int) -> None:
        if progress is None:
            return
        if done <= burn_c:
            progress(done / total, f"burn-in {done * C:,} of {burn_c * C:,} iterations "
                     f"({C} chains)")
        else:
            drawn = min((done - burn_c) // thinning * C, samples)
            progress(done / total, f"sampling: {drawn:,} of {samples:,} draws")

    done = 0
    for _ in range(burn_c):
        sweep(True)
        done += 1
        if done % report_every == 0:
            report(done)
    for s in range(per_chain):
        for _ in range(thinning):
            sweep(True)
            done += 1
            if done % report_every == 0:
                report(done)
        out_n[:, s] = n + n0
        out_alpha[:, s] = alpha
        out_kstar[:, s] = K - (n_k == 0).sum(axis=1)
    if done % report_every != 0:
        report(done)
    rhat = _rhat(out_n.astype(float)) if C > 1 else math.nan
    # chain after chain, as arviz flattens; the last round's surplus draws are dropped
    out_n = out_n.reshape(-1)[:samples]
    out_alpha = out_alpha.reshape(-1)[:samples]
    out_kstar = out_kstar.reshape(-1)[:samples]

    warnings: list[str] = []
    ess = _ess(out_n.astype(float))
    geweke = _geweke_z(out_n.astype(float))
    if math.isfinite(rhat) and rhat > _RHAT_LIMIT:
        warnings.append(
            f"the {C} chains disagree (R-hat = {rhat:.2f}): the sampler has probably not "
            "converged; rerun with a longer burn-in and compare"
        )
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
        "chains": C,
        "burnin_per_chain": burn_c,
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
