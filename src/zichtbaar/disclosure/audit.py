"""The attacker's view: every suppressed cell's feasible interval, from the published table only.

An attacker knows the published cells, that the table adds up (every row, every column, the
grand total), that counts are whole and non-negative, and what the markers mean:

* ``<T`` (primary): the count is between 1 and T-1 (zeros are shown as 0);
* ``x`` (secondary): the count is at least T. A complement is never 0 or 1..T-1 — zeros are
  never chosen as complements and 1..T-1 would have been primary — so an attacker who knows
  the policy knows this too, and we assume they do.

For each suppressed cell we minimise and maximise it over that polytope (two LPs, HiGHS). The
constraint matrix of a two-way table with its margins is a network matrix (totally unimodular)
and every bound is whole, so the LP optima are whole and every integer between them is a
feasible value: the interval is exactly what the attacker can learn.

**Protection rule** (a sliding protection level, in tau-argus terms, with no fixed upper or
lower level): a primary cell is protected when its feasible interval is at least ``w`` wide,
``hi - lo >= w``, with ``w`` the disclosure class's protection width (default 1: no suppressed
cell can ever be worked out exactly — the requirement of the issue and of monitor.md §6.2). The
marker itself limits the interval to ``[1, T-1]``, so ``w`` is capped at ``T-2``. Why not
demand the whole marker range: sibling primaries under a small total narrow each other whatever
is hidden (in ``2 + 1 = 3`` the 2 can be 1 or 2, never 3 or 4), so that rule would make many
ordinary sub-national tables unpublishable. A stricter class can ask for a larger ``w``.
Secondary cells need no protection of their own.

Nothing here needs the true values, so the check can be run by anyone on any published table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .rules import InputError

__all__ = ["SECONDARY", "Audit", "Cell", "audit_table", "primary_marker", "required_width"]

Cell = int | str
SECONDARY = "x"


def primary_marker(threshold: int) -> str:
    return f"<{threshold}"


@dataclass(frozen=True)
class Audit:
    """Feasible interval per suppressed cell (``hi`` None = unbounded) and the verdict."""

    threshold: int
    intervals: Mapping[tuple[int, int], tuple[int, int | None]]
    primary: tuple[tuple[int, int], ...]
    exposed: tuple[tuple[int, int], ...]

    @property
    def safe(self) -> bool:
        return not self.exposed


def _bounds(grid: Sequence[Sequence[Cell]], threshold: int
            ) -> tuple[np.ndarray, dict[tuple[int, int], tuple[float, float | None]]]:
    """Published values (0 where suppressed) and the marker bounds of the suppressed cells."""
    marker = primary_marker(threshold)
    rows, cols = len(grid), len(grid[0])
    known = np.zeros((rows, cols), dtype=float)
    hidden: dict[tuple[int, int], tuple[float, float | None]] = {}
    for i, line in enumerate(grid):
        if len(line) != cols:
            raise InputError("ragged_table", "Every row of the table needs the same length.",
                             row=i + 1)
        for j, cell in enumerate(line):
            if cell == marker:
                hidden[(i, j)] = (1.0, float(threshold - 1))
            elif cell == SECONDARY:
                hidden[(i, j)] = (float(threshold), None)
            elif isinstance(cell, int | np.integer) and not isinstance(cell, bool) and cell >= 0:
                known[i, j] = float(cell)
            else:
                raise InputError("bad_cell", f"Cell {cell!r} is neither a count nor "
                                 f"{marker!r} or {SECONDARY!r}.", row=i + 1, column=str(j + 1))
    return known, hidden


def _equations(rows: int, cols: int) -> list[list[tuple[int, int, float]]]:
    """Additivity of a table whose last row and column are totals, as signed cell lists."""
    m, n = rows - 1, cols - 1
    eqs = [[(i, j, 1.0) for j in range(n)] + [(i, n, -1.0)] for i in range(m + 1)]
    eqs += [[(i, j, 1.0) for i in range(m)] + [(m, j, -1.0)] for j in range(n + 1)]
    return eqs


def required_width(threshold: int, width: int = 1) -> int:
    """The width actually demanded: ``<T`` admits only T-1 values, so at most T-2."""
    return max(0, min(width, threshold - 2))


def audit_table(grid: Sequence[Sequence[Cell]], threshold: int, width: int = 1) -> Audit:
    """Compute every suppressed cell's feasible interval and list the exposed primary cells.

    ``grid`` is the published table including its totals (last row and column). Raises
    InputError when the published cells contradict each other.
    """
    from scipy.optimize import linprog

    if not grid or not grid[0] or len(grid) < 2 or len(grid[0]) < 2:
        raise InputError("empty_table", "A table needs at least one cell and its totals.")
    known, hidden = _bounds(grid, threshold)
    rows, cols = known.shape
    order = sorted(hidden)
    index = {cell: k for k, cell in enumerate(order)}
    a_rows: list[np.ndarray] = []
    b: list[float] = []
    for eq in _equations(rows, cols):
        coef = np.zeros(len(order))
        rhs = 0.0
        for i, j, s in eq:
            if (i, j) in index:
                coef[index[(i, j)]] += s
            else:
                rhs -= s * known[i, j]
        if coef.any():
            a_rows.append(coef)
            b.append(rhs)
        elif abs(rhs) > 1e-9:
            raise InputError("not_additive", "The published cells do not add up to their totals.")
    primary = tuple(c for c in order if hidden[c][1] is not None)
    if not order:
        return Audit(threshold, {}, (), ())
    a_eq = np.array(a_rows) if a_rows else None
    b_eq = np.array(b) if b else None
    bounds = [hidden[c] for c in order]
    # Every LP optimum is a feasible table: a cell already seen at its own bound in one of
    # them needs no LP for that end. This skips most of the 2 x (suppressed cells) LPs.
    seen_lo = np.full(len(order), np.inf)
    seen_hi = np.full(len(order), -np.inf)
    lo_bound = np.array([lo for lo, _hi in bounds])
    hi_bound = np.array([np.inf if hi is None else hi for _lo, hi in bounds])
    ends = np.zeros((len(order), 2))
    for k, cell in enumerate(order):
        for side, sign in ((0, 1.0), (1, -1.0)):
            if side == 0 and seen_lo[k] <= lo_bound[k]:
                ends[k, 0] = lo_bound[k]
                continue
            if side == 1 and seen_hi[k] >= hi_bound[k]:
                ends[k, 1] = hi_bound[k]
                continue
            c = np.zeros(len(order))
            c[k] = sign
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds",
                          options={"presolve": False})
            if res.status == 2:
                raise InputError("not_additive",
                                 "The published cells and markers cannot all be true.")
            if res.status == 3:
                ends[k, 1] = np.inf
                continue
            if res.status != 0:
                raise RuntimeError(f"LP for cell {cell} failed: {res.message}")
            ends[k, side] = sign * float(res.fun)
            seen_lo = np.minimum(seen_lo, res.x)
            seen_hi = np.maximum(seen_hi, res.x)
    intervals: dict[tuple[int, int], tuple[int, int | None]] = {
        cell: (round(ends[k, 0]), None if np.isinf(ends[k, 1]) else round(ends[k, 1]))
        for k, cell in enumerate(order)}
    need = required_width(threshold, width)
    exposed = tuple(c for c in primary
                    if (intervals[c][1] or 0) - intervals[c][0] < need)
    return Audit(threshold, intervals, primary, exposed)
