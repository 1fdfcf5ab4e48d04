"""Existence and identifiability of the maximum likelihood estimate.

Equivalent of SparseMSE ``checkident``: the Fienberg-Rinaldo linear program
(is there a strictly positive table with the observed margins?) and the rank
of the design on the cells the model keeps. Codes: 0 fine, 1 no finite MLE,
2 not identifiable, 3 both. Existence depends only on which kept cells are
zero, so results are cached on that pattern; the bootstrap asks the same
question thousands of times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from scipy.optimize import linprog

from .histories import CaptureHistories
from .loglinear import ModelSpec, build_spec, parse_terms

__all__ = ["checkident", "count_triples"]


def _lp_objective(A: np.ndarray, t: np.ndarray) -> float:
    """max s subject to A y = t, y_i >= s, y >= 0, s >= 0 (SparseMSE's LP)."""
    npar, nobs = A.shape
    c = np.zeros(nobs + 1)
    c[-1] = -1.0
    A_eq = np.hstack([A, np.zeros((npar, 1))])
    A_ub = np.hstack([-np.eye(nobs), np.ones((nobs, 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(nobs), A_eq=A_eq, b_eq=t, method="highs")
    if res.status != 0:  # pragma: no cover - the observed table is always feasible
        return 0.0
    return float(-res.fun)


@lru_cache(maxsize=65536)
def _exists_cached(X_bytes: bytes, shape: tuple[int, int], zero_mask: bytes) -> bool:
    X = np.frombuffer(X_bytes, dtype=float).reshape(shape)
    zeros = np.frombuffer(zero_mask, dtype=bool)
    # margins of any table with this zero pattern: use 1 on the positive cells
    y = (~zeros).astype(float)
    return _lp_objective(X.T, X.T @ y) > 1e-9


def mle_exists(X: np.ndarray, y: np.ndarray) -> bool:
    """True when the extended MLE is finite (LP objective > 0)."""
    zeros = y <= 0
    if not zeros.any():
        return True
    return _exists_cached(np.ascontiguousarray(X, dtype=float).tobytes(), X.shape,
                          zeros.tobytes())


def check_spec(spec: ModelSpec, y_all: np.ndarray) -> int:
    """checkident code for a prepared model."""
    y = y_all[spec.cells]
    X = spec.X
    rankdef = X.shape[1] - np.linalg.matrix_rank(X)
    exists = mle_exists(X, y) if rankdef == 0 else _lp_objective(X.T, X.T @ y) > 1e-9
    return int(not exists) + 2 * int(rankdef > 0)


def checkident(
    histories: CaptureHistories,
    terms: Iterable[str | Sequence[int]] = (),
) -> int:
    """SparseMSE ``checkident`` code (0 ok, 1 no MLE, 2 not identifiable, 3 both)."""
    y_all = histories.cell_counts().astype(float)
    spec = build_spec(histories.lists, y_all, parse_terms(terms, histories.lists),
                      histories.structural_zeros)
    return check_spec(spec, y_all)


def count_triples(histories: CaptureHistories) -> int:
    """Number of triples of lists in which every pair overlaps (SparseMSE).

    Zero means the model with all two-list effects is not identifiable.
    """
    z = histories.patterns[histories.counts > 0].astype(int)
    adj = (z.T @ z > 0).astype(int)
    np.fill_diagonal(adj, 0)
    return int(np.sum(adj * (adj @ adj)) // 6)
