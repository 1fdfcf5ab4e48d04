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
   classes do not underflow; the second shape alpha + n_{>c} is summed from whole counts,
   so a tiny alpha is not lost to rounding and cannot collapse to 0);
4. n0 ~ NegBin(n, 1 - P(history = 0)), redrawn while n0 > 20 n as LCMCR does (so N is
   bounded by 21 n), then the n0 unseen units' classes ~ multinomial;
5. alpha ~ Gamma(a_alpha + K - 1, b_alpha - log nu_K).

Steps 4 and 1 both condition on lambda and nu only, so each sweep draws n0 first and then
the classes of every unit, seen and unseen, in one multinomial call (the unseen are one
more row, the all-zero history with count n0): the same Markov chain as LCMCR's order.

Speed: all updates work on the aggregated table (one multinomial row per distinct history,
not per person). The default is R's design, one chain of R's length, whose sweep is
compiled with numba (``_lcmcr_jit.py``): kosovo4 with R's settings takes about 2 s of CPU
against R's 4.6 s (bench/lcmcr.py). ``chains`` > 1 runs the chains side by side in numpy,
each numpy call serving all of them: a sweep is about 20 numpy calls on preallocated
buffers, because the bookkeeping between the random draws (class table -> gamma shapes;
log gammas -> log P(history, class) and alpha's rate) is linear with small integer
coefficients and is folded into fixed matrices (``_Maps``) applied with one matrix product
each. Burn-in and samples x thinning are then totals over the chains, so the sampler
spends as many sweeps as R's single chain, but each chain burns in for only a share of it
(see DEFAULT_CHAINS); the draws are stored chain after chain and R-hat is checked.
Randomness only comes from ``numpy.random.Generator(PCG64(seed))``: the same seed gives the
same draws, but not R's (GSL) stream, so results match R only up to Monte Carlo error.
With R's settings (burn-in 100,000, 1,000 draws thinned by 100) N's draws have an effective
sample size of roughly 100-300 on kosovo4, so the Monte Carlo error of the posterior median
is about 1% and that of the 2.5% / 97.5% quantiles 3-8%: agreement with R is therefore
checked as median within 3% and intervals overlapping on most of their length, not digit
for digit (tests/estimate/test_lcmcr.py). Cost: bench/lcmcr.py (kosovo4 with R's settings
against R's 4.6 s and the previous sampler).
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
#: One chain of R's length, as R runs it, compiled (numba; _lcmcr_jit.py). ``chains`` > 1
#: runs that many chains side by side in numpy, each numpy call serving all of them, with
#: burn-in and samples x thinning as totals over the chains (8 chains: 12,500 + 12,500
#: sweeps each). That splits the burn-in too: on rcapture_hiv 8 chains do not all leave the
#: spread starting state in 12,500 sweeps (median 2.5%, 97.5% quantile 15% above one long
#: chain and R), so the default is one chain.
DEFAULT_CHAINS = 1
_MAX_CHAINS = 64
_RHAT_LIMIT = 1.1  # split-free Gelman-Rubin R-hat above this: the chains disagree
#: Fold the histories into the sweep's two matrix products while they stay this small
#: (multiply-adds per product); larger tables take the two-step products, fewer flops.
_FUSE_FLOPS = 100_000


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


class _Maps:
    """The sweep's bookkeeping as fixed matrices: one matmul instead of ~20 numpy calls.

    Gamma shapes (rows of the sweep's ``shp``): lambda's a and b (J*K each), the sticks' a
    and b + 1 (K - 1 each), alpha's and n's (n0's gamma); then the sticks' b itself (K - 1, for the
    uniform power). ``l1t`` maps the class table (caught per list and class, then the class
    sizes) to them and ``l2t`` maps (alpha, 1). The logs ``y`` (log of every gamma draw,
    log(a + b) of lambda's pairs, the sticks' log(U) / b and log(G1 + G2 U^(1/b))) map
    linearly by ``rw`` to w = (log lambda / (1 - lambda), log P(all-zero history, class),
    b_alpha - log nu_K) and by ``rnu`` to log nu (``y`` ends with a constant 1 for
    b_alpha). The coefficients are small integers, so the maps
    are exact.
    """

    def __init__(self, x: np.ndarray, K: int, a_alpha: float, b_alpha: float,
                 n: int) -> None:
        J = x.shape[1]
        JK, k1 = J * K, K - 1
        ya, yb, y1 = 0, JK, 2 * JK
        y2 = y1 + k1
        yal = y2 + k1
        S = yal + 2  # alpha's shape, then n's (the gamma behind n0's negative binomial)
        ys, yw = S, S + JK
        yl = yw + k1
        self.S, self.D = S, yl + k1
        self.rows = (ya, yb, y1, y2, yal, yw, yl)
        l1t = np.zeros((S + k1, JK + K))
        l2t = np.zeros((S + k1, 2))
        for j in range(J):
            for c in range(K):
                l1t[ya + j * K + c, j * K + c] = 1.0  # 1 + caught
                l1t[yb + j * K + c, JK + c] = 1.0  # 1 + n_c - caught
                l1t[yb + j * K + c, j * K + c] = -1.0
        l2t[ya:y1, 1] = 1.0
        for c in range(k1):
            l1t[y1 + c, JK + c] = 1.0  # 1 + n_c
            l2t[y1 + c, 1] = 1.0
            l1t[y2 + c, JK + c + 1 : JK + K] = 1.0  # alpha + 1 + n_{>c}
            l2t[y2 + c] = (1.0, 1.0)
            l1t[S + c, JK + c + 1 : JK + K] = 1.0  # b = alpha + n_{>c}
            l2t[S + c, 0] = 1.0
        l2t[yal, 1] = a_alpha + k1
        l2t[yal + 1, 1] = n
        self.l1t, self.l2t = l1t, l2t
        # log nu_c = log V_c + sum_{d<c} log(1 - V_d), with log V = log G1 - lsum and
        # log(1 - V) = log G2 + log(U) / b - lsum
        rnu = np.zeros((self.D, K))
        for c in range(K):
            if c < k1:
                rnu[y1 + c, c] += 1.0
                rnu[yl + c, c] -= 1.0
            for d in range(c):
                rnu[y2 + d, c] += 1.0
                rnu[yw + d, c] += 1.0
                rnu[yl + d, c] -= 1.0
        rnu = np.vstack([rnu, np.zeros(K)])  # y's last row is a constant 1
        rw = np.zeros((self.D + 1, JK + K + 1))
        for j in range(J):
            for c in range(K):
                rw[ya + j * K + c, j * K + c] = 1.0  # log a - log b
                rw[yb + j * K + c, j * K + c] = -1.0
                rw[yb + j * K + c, JK + c] += 1.0  # + log b - log(a + b)
                rw[ys + j * K + c, JK + c] -= 1.0
        rw[:, JK : JK + K] += rnu
        rw[:, -1] = -rnu[:, -1]  # alpha's rate b_alpha - log nu_K
        rw[-1, -1] = b_alpha
        self.rnu, self.rw = rnu, rw
        # the histories (observed, then the never captured) with a 1 for the constants
        m = x.shape[0]
        self.xa1 = np.zeros((m + 1, J + 1))
        self.xa1[:m, :J] = x
        self.xa1[:, J] = 1.0
        self.xa_t = self.xa1.T.copy()  # class table (caught; sizes) = xa_t @ classes
        self.x = x

    @property
    def l1t_full(self) -> np.ndarray:
        """``l1t`` after the class table: gamma shapes straight from the classes."""
        k = self.l1t.shape[1] // (self.x.shape[1] + 1)
        l1t3 = self.l1t.reshape(-1, self.x.shape[1] + 1, k)
        return np.einsum("sjc,jh->shc", l1t3, self.xa_t).reshape(len(self.l1t), -1)

    @property
    def rw_full(self) -> np.ndarray:
        """``rw`` then ``xa1``: log P(history, class) for every history, then alpha's rate."""
        k = (self.rw.shape[1] - 1) // (self.x.shape[1] + 1)
        rw3 = self.rw[:, :-1].reshape(len(self.rw), -1, k)
        folded = np.einsum("hj,djc->dhc", self.xa1, rw3).reshape(len(self.rw), -1)
        return np.hstack([folded, self.rw[:, -1:]])


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

    if C == 1:  # R's design, one long chain: compiled (numba)
        _one_chain(rng, x, freq, n, n0_max, K, a_alpha, b_alpha, burn_c, thinning,
                   out_n[0], out_alpha[0], out_kstar[0], report, report_every)
    else:
        # --- initial state of every chain, as CNPLCM_CR_Basic_Freq::Initializes
        marg = np.clip((x * freq[:, None]).sum(axis=0) / n, 1e-9, 1.0 - 1e-9)  # no log(0)
        if K > 4:
            nu = np.concatenate([np.full(4, 0.25 * 0.9), np.full(K - 4, 0.1 / (K - 4))])
        else:
            nu = np.full(K, 1.0 / K)
        maps = _Maps(x, K, a_alpha, b_alpha, n)
        S, JK, mk = maps.S, J * K, (m + 1) * K
        # w = (log lambda / (1 - lambda), log P(all-zero history, class), b_alpha - log nu_K);
        # log P(history, class) = xa1 @ w, with the never captured as the last history.
        w = np.empty((C, JK + K + 1))
        w[:, :JK] = np.log(marg / (1.0 - marg)).repeat(K)
        w[:, JK : JK + K] = np.log1p(-marg).sum() + np.log(nu)
        w[:, -1] = b_alpha - math.log(nu[-1])
        w3 = w[:, : JK + K].reshape(C, J + 1, K)  # a view: matmul(out=w) updates it
        xa1, xa_t = maps.xa1, maps.xa_t
        # Small tables (kosovo4: 15 histories) fold the histories into the maps too, so that
        # each side of the sweep is one small matrix product; large ones go through w and the
        # class table, which costs fewer flops than the folded maps.
        fused = C * mk * max(maps.D, S + K - 1) <= _FUSE_FLOPS
        lpw = np.empty((C, mk + 1))  # fused: log P(history, class), then alpha's rate
        lp3 = lpw[:, :mk].reshape(C, m + 1, K) if fused else np.empty((C, m + 1, K))
        rate_alpha = lpw[:, -1] if fused else w[:, -1]  # b_alpha - log nu_K
        l1t, l2t, rw = maps.l1t, maps.l2t, maps.rw
        l1t_full, rw_full = (maps.l1t_full, maps.rw_full) if fused else (l1t, rw)
        lp3[...] = xa1 @ w3
        prob = np.empty((C, m + 1, K))
        prob2 = prob.reshape(C * (m + 1), K)
        tot = np.empty((C, m + 1))  # P(history); tot[:, m] = P(never captured)
        tot_flat, tot3, p0 = tot.reshape(-1), tot[:, :, None], tot[:, m]
        ones_k = np.ones(K)
        freq2 = np.zeros((C, m + 1), dtype=np.int64)
        freq2[:, :m] = freq
        freq_flat, freq_n0 = freq2.reshape(-1), freq2[:, m]  # views: n0 is written each sweep
        tab = np.empty((C, J + 1, K))  # captured per list and class; class sizes (row J)
        tab_t = tab.reshape(C, JK + K).T
        shp = np.empty((S + K - 1, C))  # gamma shapes, then the sticks' b = shape - 1
        ab = np.vstack([np.full(C, 0.3 / K), np.ones(C)])  # alpha and a 1 for the constants
        alpha = ab[0]
        base = maps.l2t @ ab  # the shapes' part that does not depend on the classes
        graw = np.empty((S + JK, C))  # gamma draws, then lambda's a + b
        y = np.empty((maps.D + 1, C))  # the logs that maps.rw turns into w; then a 1
        y[-1] = 1.0
        y_t = y.T
        tmp = np.empty((K - 1, C))
        ya, yb, y1, y2, yal, yw, yl = maps.rows
        g_ab, g_a, g_b, g_alpha, g_n = graw[:S], graw[ya:yb], graw[yb:y1], graw[yal], graw[yal + 1]
        g_n[:] = rng.standard_gamma(n, C)  # the first sweep's; later ones come with lambda's
        block = 1024  # the sticks' uniforms are drawn for this many sweeps at once
        logu = np.empty((0, K - 1, C))
        used = block
        n0 = [0] * C
        z = np.zeros((C * (m + 1), K), dtype=np.int64)

        def stable() -> np.ndarray:
            # a history's probability can underflow to 0 (many lists, tiny lambda): normalise
            # on the log scale, as the fast path does not
            q = lp3 - lp3.max(axis=2, keepdims=True)
            np.exp(q, out=q)
            q /= q.sum(axis=2, keepdims=True)
            return q.reshape(C * (m + 1), K)

        poisson = rng.poisson

        def draw_n0() -> list[int]:
            # NegBin(n, P(seen)) as the Poisson-Gamma mixture it is: Poisson(G p0 / (1 - p0)),
            # G ~ Gamma(n) drawn with lambda's gammas. One scalar draw per chain costs less
            # than numpy's array checks (negative_binomial costs three times as much). LCMCR
            # redraws while n0 > 20 n (rare).
            draws = []
            for g, p in zip(g_n.tolist(), p0.tolist(), strict=True):
                d = poisson(g * p / (1.0 - p)) if p < 1.0 - 1e-12 else n0_max + 1
                if d > n0_max:
                    d = _redraw_n0(rng, n, max(1.0 - p, 1e-15), n0_max)
                draws.append(d)
            return draws

        # views and bound methods made once: a slice or attribute lookup in the sweep costs
        # about as much as the arithmetic on these small arrays
        shp_g, shp_b, g_sum = shp[:S], shp[S:], graw[S:]
        y_g, y_w, y_2, y_1, y_l = y[: S + JK], y[yw:yl], y[y2:yal], y[y1:y2], y[yl:-1]
        exp, matmul, divide, add, log, logaddexp = (np.exp, np.matmul, np.divide, np.add, np.log,
                                                    np.logaddexp)
        multinomial, standard_gamma = rng.multinomial, rng.standard_gamma

        def sweep(update_alpha: bool) -> None:
            # Every chain in one numpy call per step, on preallocated buffers: the sampler's
            # cost is the number of numpy calls, so the bookkeeping between the draws is folded
            # into fixed matrices (see _Maps).
            nonlocal logu, used, n0, z
            # 1.+4. n0, then the classes of every unit, seen and unseen, in one multinomial
            # (a row per chain and history; the last row holds the n0 never captured). Given
            # lambda and nu they are independent, so this is LCMCR's steps 4 and 1 at once.
            exp(lp3, out=prob)
            matmul(prob2, ones_k, out=tot_flat)
            n0 = draw_n0()
            freq_n0[:] = n0
            divide(prob, tot3, out=prob)
            try:
                z = multinomial(freq_flat, prob2)
            except ValueError:  # a row underflowed to 0 / 0
                z = multinomial(freq_flat, stable())
            # 2.+3. lambda[j, c] ~ Beta(1 + caught, 1 + not caught) and the sticks
            # V_c ~ Beta(1 + n_c, alpha + n_{>c}) from gamma pairs; the second stick shape gets
            # +1 and a uniform power (log G(b) = log G(b + 1) + log(U) / b) so tiny b cannot
            # underflow. Everything after the draws is on the log scale.
            if fused:
                matmul(l1t_full, z.reshape(C, mk).T, out=shp)
            else:
                matmul(xa_t, z.reshape(C, m + 1, K), out=tab)
                matmul(l1t, tab_t, out=shp)
            add(shp, base, out=shp)
            standard_gamma(shp_g, out=g_ab)
            add(g_a, g_b, out=g_sum)
            log(graw, out=y_g)
            if used == block:
                logu = log(rng.random((block, K - 1, C)))
                used = 0
            divide(logu[used], shp_b, out=y_w)
            used += 1
            add(y_2, y_w, out=tmp)
            logaddexp(y_1, tmp, out=y_l)
            if fused:
                matmul(y_t, rw_full, out=lpw)
            else:
                matmul(y_t, rw, out=w)
                matmul(xa1, w3, out=lp3)
            # 5. concentration parameter: alpha ~ Gamma(a_alpha + K - 1, b_alpha - log nu_K)
            if update_alpha:
                divide(g_alpha, rate_alpha, out=alpha)
                matmul(l2t, ab, out=base)

        with np.errstate(divide="ignore", invalid="ignore", under="ignore", over="ignore"):
            for _ in range(_WARMUP):  # LCMCR's warm-up: no alpha update
                sweep(update_alpha=False)
            # LCMCR then orders the classes by weight; w holds all that is class-specific
            np.matmul(y_t, maps.rw, out=w)
            order = np.argsort(-(y_t @ maps.rnu), axis=1, kind="stable")
            w3[...] = np.take_along_axis(w3, order[:, None, :], axis=2)
            lp3[...] = xa1 @ w3
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
                out_n[:, s] = n0
                out_alpha[:, s] = alpha
                out_kstar[:, s] = K - (z.reshape(C, m + 1, K).sum(axis=1) == 0).sum(axis=1)
            if done % report_every != 0:
                report(done)
    out_n += n
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
        "sweep": "compiled (numba)" if C == 1 else "numpy, chains side by side",
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


def _one_chain(rng: np.random.Generator, x: np.ndarray, freq: np.ndarray, n: int,
               n0_max: int, K: int, a_alpha: float, b_alpha: float, burn: int,
               thinning: int, out_n: np.ndarray, out_alpha: np.ndarray,
               out_kstar: np.ndarray, report: Callable[[int], None],
               report_every: int) -> None:
    """One chain of LCMCR's sweeps, compiled; fills ``out_*`` (n0, alpha, classes used)."""
    from . import _lcmcr_jit as jit

    marg = np.clip((x * freq[:, None]).sum(axis=0) / n, 1e-9, 1.0 - 1e-9)
    lam = np.repeat(marg[:, None], K, axis=1)
    if K > 4:
        nu = np.concatenate([np.full(4, 0.25 * 0.9), np.full(K - 4, 0.1 / (K - 4))])
    else:
        nu = np.full(K, 1.0 / K)
    log_nu = np.log(nu)
    alpha = np.array([0.3 / K])
    n0 = np.zeros(1, dtype=np.int64)
    count0 = np.zeros(K, dtype=np.int64)
    xi = np.ascontiguousarray(x, dtype=np.int64)
    fr = np.ascontiguousarray(freq, dtype=np.int64)

    def run(sweeps: int, update: bool, offset: int = 0, start: int = 0) -> int:
        return int(jit.sweeps(rng, xi, fr, n, n0_max, float(a_alpha), float(b_alpha), lam,
                              log_nu, alpha, n0, count0, sweeps, update,
                              thinning if offset >= 0 else 0, max(offset, 0), out_n,
                              out_alpha, out_kstar, start))

    run(_WARMUP, False, -1)  # LCMCR's warm-up: no alpha update
    order = np.argsort(-log_nu, kind="stable")  # then classes ordered by weight
    lam[:] = lam[:, order]
    log_nu[:] = log_nu[order]
    count0[:] = count0[order]
    total = burn + len(out_n) * thinning
    done = recorded = 0
    while done < total:  # blocks between progress reports
        step = min(report_every - done % report_every, (burn if done < burn else total) - done)
        if done < burn:
            run(step, True, -1)
        else:
            recorded += run(step, True, done - burn, recorded)
        done += step
        if done % report_every == 0 or done == total:
            report(done)


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
