"""LCMCR's Gibbs sweep for one chain, compiled with numba (``lcmcr(chains=1)``).

One long chain is R's own design, and on data with a slowly mixing number of classes it is
the sound one: 8 chains of an eighth of the burn-in each do not all leave the spread
starting state in time (rcapture_hiv: median 2.5% and 97.5% quantile 15% too high). In
numpy a sweep costs about 20 calls, ~60 microseconds whatever the table's size, so one chain
of R's 200,500 sweeps would take 12 s; compiled, a sweep costs its ~110 random draws.
Same steps and draws' distributions as ``lcmcr._Maps``' vectorised sweep; the generator is
the caller's ``numpy.random.Generator`` (numba implements numpy's algorithms on its bit
generator, so a seed gives the same chain every run).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _log_gamma(rng, shape):  # type: ignore[no-untyped-def]
    # log of a Gamma(shape) draw that cannot underflow for tiny shapes (LCMCR's
    # dan_log_gamma_1): log G(shape + 1) + log(U) / shape
    if shape >= 1.0:
        return math.log(rng.standard_gamma(shape))
    return math.log(rng.standard_gamma(shape + 1.0)) + math.log(rng.random()) / shape


@njit(cache=True)
def _multinomial(rng, total, p, out):  # type: ignore[no-untyped-def]
    # conditional binomials on suffix sums (no 1 - cumsum cancellation)
    K = p.shape[0]
    rest = 0.0
    for k in range(K):
        rest += p[k]
    left = total
    for k in range(K - 1):
        if left == 0 or rest <= 0.0:
            out[k] = 0
        else:
            q = min(p[k] / rest, 1.0)
            out[k] = rng.binomial(left, q) if q > 0.0 else 0
            left -= out[k]
        rest -= p[k]
    out[K - 1] = left


@njit(cache=True)
def _truncated_n0(rng, n, p_seen, n0_max):  # type: ignore[no-untyped-def]
    # NegBin(n, p_seen) given n0 <= n0_max, by inversion (LCMCR's redraw loop, far tail)
    log_p, log_q = math.log(p_seen), math.log1p(-p_seen)
    logs = np.empty(n0_max + 1)
    top = -np.inf
    for k in range(n0_max + 1):
        logs[k] = (math.lgamma(n + k) - math.lgamma(k + 1.0) - math.lgamma(n)
                   + n * log_p + k * log_q)
        top = max(top, logs[k])
    acc = np.cumsum(np.exp(logs - top))
    u = rng.random() * acc[-1]
    return int(np.searchsorted(acc, u))


@njit(cache=True)
def sweeps(rng, x, freq, n, n0_max, a_alpha, b_alpha, lam, log_nu, alpha, n0, count0,
           n_sweeps, update_alpha, thinning, offset, out_n, out_alpha, out_kstar, start):  # type: ignore[no-untyped-def]
    """Run ``n_sweeps`` sweeps in place, recording n0, alpha and the occupied classes
    after every sweep whose number (from ``offset``) is a multiple of ``thinning`` (> 0),
    from ``out_*[start]`` on. State: lam (J, K), log_nu (K,), alpha (1,), n0 (1,),
    count0 (K,). Returns the number of draws recorded.
    """
    m, J = x.shape
    K = lam.shape[1]
    logp = np.empty(K)
    p = np.empty(K)
    z = np.empty(K, dtype=np.int64)
    caught = np.empty((J, K))
    size = np.empty(K)
    log_1m = np.empty((J, K))
    recorded = 0
    for it in range(n_sweeps):
        # 1. classes of the observed units, one multinomial per distinct history
        for j in range(J):
            for k in range(K):
                log_1m[j, k] = math.log1p(-lam[j, k])
                caught[j, k] = 0.0
        for k in range(K):
            size[k] = count0[k]
        for h in range(m):
            top = -np.inf
            for k in range(K):
                s = log_nu[k]
                for j in range(J):
                    s += math.log(lam[j, k]) if x[h, j] else log_1m[j, k]
                logp[k] = s
                top = max(top, s)
            for k in range(K):
                p[k] = math.exp(logp[k] - top)
            _multinomial(rng, freq[h], p, z)
            for k in range(K):
                size[k] += z[k]
                for j in range(J):
                    if x[h, j]:
                        caught[j, k] += z[k]
        # 2. lambda[j, k] ~ Beta(1 + caught, 1 + not caught), the unseen included
        for j in range(J):
            for k in range(K):
                ga = rng.standard_gamma(1.0 + caught[j, k])
                gb = rng.standard_gamma(1.0 + size[k] - caught[j, k])
                lam[j, k] = ga / (ga + gb)
                if lam[j, k] <= 0.0:
                    lam[j, k] = 1e-300
                elif lam[j, k] >= 1.0:
                    lam[j, k] = 1.0 - 1e-16
        # 3. sticks V_k ~ Beta(1 + n_k, alpha + n_{>k}) on the log scale; the tail count
        # is a whole number, so alpha is never lost to rounding
        acc = 0.0
        tail = n + n0[0]
        for k in range(K - 1):
            tail -= size[k]
            lg1 = _log_gamma(rng, 1.0 + size[k])
            lg2 = _log_gamma(rng, alpha[0] + tail)
            lsum = max(lg1, lg2) + math.log1p(math.exp(-abs(lg1 - lg2)))
            log_nu[k] = lg1 - lsum + acc
            acc += lg2 - lsum
        log_nu[K - 1] = acc
        # 4. n0 ~ NegBin(n, 1 - p0), redrawn while n0 > 20 n; then the unseen's classes
        top = -np.inf
        for k in range(K):
            s = log_nu[k]
            for j in range(J):
                s += math.log1p(-lam[j, k])
            logp[k] = s
            top = max(top, s)
        p0 = 0.0
        for k in range(K):
            p[k] = math.exp(logp[k] - top)
            p0 += p[k]
        p0 = min(p0 * math.exp(top), 1.0 - 1e-15)
        draw = n0_max + 1
        for _ in range(20):
            draw = rng.negative_binomial(n, 1.0 - p0)
            if draw <= n0_max:
                break
        if draw > n0_max:
            draw = _truncated_n0(rng, n, 1.0 - p0, n0_max)
        n0[0] = draw
        _multinomial(rng, draw, p, count0)
        # 5. alpha ~ Gamma(a_alpha + K - 1, rate b_alpha - log nu_K)
        if update_alpha:
            alpha[0] = rng.standard_gamma(a_alpha + K - 1.0) / (b_alpha - log_nu[K - 1])
        if thinning > 0 and (offset + it + 1) % thinning == 0 \
                and start + recorded < out_n.shape[0]:
            out_n[start + recorded] = n0[0]
            out_alpha[start + recorded] = alpha[0]
            kstar = 0
            for k in range(K):
                if size[k] > 0:
                    kstar += 1
            out_kstar[start + recorded] = kstar
            recorded += 1
    return recorded
