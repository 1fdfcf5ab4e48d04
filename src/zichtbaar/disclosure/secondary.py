"""Secondary suppression: choose complementary cells so no primary cell can be narrowed.

The model (Fischetti & Salazar's, as in tau-argus OPTIMAL and sdcTable OPT, specialised to a
two-way table with margins):

* A two-way table with its totals is a network: one node per row equation (the totals row
  included) and per column equation (the totals column included), one arc per cell. Changing
  suppressed cells while keeping the published ones and every total consistent is a
  circulation on the arcs of the suppressed cells.
* A primary cell ``p`` must be able to move by ``w`` in total (up plus down; the sliding
  protection of ``audit``, default ``w`` = 1). It can move up by ``L`` exactly when the maximum
  flow from its head to its tail over the other suppressed cells is at least ``L`` (down: tail
  to head), and never further than its own marker range ``[1, T-1]``. Each suppressed cell
  carries a capacity each way, capped at ``w``: up unlimited for a complement, to T-1 for a
  primary; down to 1 for a primary, to T for a complement (complements are never below T).
* The master problem is a 0/1 MILP over the non-zero cells: minimise information loss subject
  to capacity cuts. When a pattern fails, the minimum cuts of the two failing flows give a
  linear cut (capacities crossing the up cut + those crossing the down cut >= w, or p's own
  room where that is the limit) that every protecting pattern satisfies and this one violates;
  add it and solve again (Benders / cut generation). Star cuts around every primary cell's two
  ends are added up front, which is all most tables need.

Information loss is the sum of the suppressed counts (``cost="value"``, tau-argus's default for
frequency tables, which spares the large margins) or the number of suppressed cells
(``cost="count"``). Zeros are never complements: a suppressed zero can only hide an upward
move, and allowing it would make ``x`` mean "0 or at least T", which an attacker could exploit.

If HiGHS fails or runs out of time, a greedy fallback takes over: while a primary cell is
exposed, suppress the published cells on the cheapest route that lets it move (for an inner
cell usually the rectangle through the smallest cells of its own row and column). Every
result is then audited with the LP of ``audit``; should that ever find an exposed cell,
every non-zero cell is suppressed, and if even that fails nothing is published
(``ProtectionError``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .primary import ProtectedTable, count_grid, primary_mask, publish
from .rules import DisclosureRules, ProtectionError

__all__ = ["protect_table"]

Cost = Literal["value", "count"]


@dataclass(frozen=True)
class _Cut:
    coef: np.ndarray   # over the non-zero cells
    rhs: float


@dataclass(frozen=True)
class _Flow:
    """How far a primary cell can move one way: ``amount``; ``coef`` is the minimum cut when
    the published cells are what limits it (None when its own marker range does)."""

    amount: int
    coef: np.ndarray | None
    residual: np.ndarray | None
    up: bool


class _Network:
    """The table as a network over its non-zero cells, with the protection width."""

    def __init__(self, grid: np.ndarray, threshold: int, width: int) -> None:
        m, n = grid.shape[0] - 1, grid.shape[1] - 1
        self.nodes = m + n + 2
        ii, jj = np.nonzero(grid > 0)
        self.pos = list(zip(ii.tolist(), jj.tolist(), strict=True))
        self.values = grid[ii, jj].astype(np.int64)
        self.primary = self.values < threshold
        # Row equation i is node i (i = m: the totals row); column equation j is node m+1+j.
        # Inner cell: column j -> row i. Row total: row i -> column n. Column total:
        # row m -> column j. Grand total: column n -> row m. Raising a cell is flow along
        # its arc, lowering it flow against it.
        inner_r, inner_c = ii < m, jj < n
        rnode, cnode = ii, m + 1 + jj
        self.tail = np.where(inner_r & inner_c, cnode, np.where(inner_r, rnode,
                             np.where(inner_c, m, m + 1 + n)))
        self.head = np.where(inner_r & inner_c, rnode, np.where(inner_r, m + 1 + n,
                             np.where(inner_c, cnode, m)))
        big = np.iinfo(np.int32).max
        self.up_room = np.where(self.primary, threshold - 1 - self.values, big)
        self.down_room = np.where(self.primary, self.values - 1, self.values - threshold)
        self.width = max(0, min(width, threshold - 2))
        self.protected = np.flatnonzero(self.primary).tolist() if self.width else []

    def _caps(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """Capacities along (raise) and against (lower) each arc; p's own arc is the one
        being protected, so it carries nothing."""
        fwd = np.minimum(self.up_room, self.width)
        bwd = np.minimum(self.down_room, self.width)
        fwd[p] = bwd[p] = 0
        return fwd, bwd

    def _ends(self, p: int, up: bool) -> tuple[int, int]:
        t, h = int(self.tail[p]), int(self.head[p])
        return (h, t) if up else (t, h)

    def _room(self, p: int, up: bool) -> int:
        return int(min(self.up_room[p] if up else self.down_room[p], self.width))

    def _side_coef(self, p: int, up: bool, side: np.ndarray) -> np.ndarray:
        # The graph is the same both ways; only p's ends swap (see ``_ends``).
        fwd, bwd = self._caps(p)
        st, sh = side[self.tail], side[self.head]
        return (np.where(st & ~sh, fwd, 0) + np.where(sh & ~st, bwd, 0)).astype(float)

    def flow(self, p: int, up: bool, chosen: np.ndarray) -> _Flow:
        from scipy.sparse import csr_array
        from scipy.sparse.csgraph import breadth_first_order, maximum_flow

        room = self._room(p, up)
        if room == 0:
            return _Flow(0, None, None, up)
        fwd, bwd = self._caps(p)
        cap = np.zeros((self.nodes, self.nodes), dtype=np.int32)
        np.add.at(cap, (self.tail, self.head), np.where(chosen, fwd, 0).astype(np.int32))
        np.add.at(cap, (self.head, self.tail), np.where(chosen, bwd, 0).astype(np.int32))
        source, sink = self._ends(p, up)
        res = maximum_flow(csr_array(cap), source, sink)
        residual = cap - res.flow.toarray()
        if res.flow_value >= room:
            return _Flow(room, None, residual, up)
        reach = breadth_first_order(csr_array((residual > 0).astype(np.int8)), source,
                                    directed=True, return_predecessors=False)
        side = np.zeros(self.nodes, dtype=bool)
        side[reach] = True
        return _Flow(int(res.flow_value), self._side_coef(p, up, side), residual, up)

    def check(self, p: int, chosen: np.ndarray) -> tuple[_Cut | None, _Flow, _Flow]:
        """None when p's interval is wide enough under ``chosen``, else the cut it violates:
        (what limits the raise) + (what limits the lowering) >= width."""
        up, down = self.flow(p, True, chosen), self.flow(p, False, chosen)
        if up.amount + down.amount >= self.width:
            return None, up, down
        coef = np.zeros(len(self.values))
        rhs = float(self.width)
        for f in (up, down):
            if f.coef is None:
                rhs -= f.amount
            else:
                coef += f.coef
        return _Cut(coef, rhs), up, down

    def violated(self, chosen: np.ndarray, first_only: bool = False
                 ) -> list[tuple[int, _Cut, _Flow, _Flow]]:
        out = []
        for p in self.protected:
            cut, up, down = self.check(p, chosen)
            if cut is not None:
                out.append((p, cut, up, down))
                if first_only:
                    break
        return out

    def star_cuts(self) -> list[_Cut]:
        """For each primary cell, the cuts around its two ends in both directions: the
        "something else in its row, its column, and a way round" conditions."""
        cuts = []
        for p in self.protected:
            options = []
            for up in (True, False):
                source, sink = self._ends(p, up)
                only_source = np.arange(self.nodes) == source
                bounds: list[tuple[np.ndarray | None, int]] = [(None, self._room(p, up))]
                if self._room(p, up):
                    bounds += [(self._side_coef(p, up, only_source), 0),
                               (self._side_coef(p, up, np.arange(self.nodes) != sink), 0)]
                options.append(bounds)
            for cu, ku in options[0]:
                for cd, kd in options[1]:
                    if cu is None and cd is None:
                        continue
                    rhs = self.width - ku - kd
                    if rhs > 0:
                        coef = np.zeros(len(self.values))
                        for c in (cu, cd):
                            if c is not None:
                                coef += c
                        cuts.append(_Cut(coef, float(rhs)))
        return cuts


def _milp(net: _Network, weights: np.ndarray, deadline: float
          ) -> tuple[np.ndarray | None, str]:
    """Cut generation over the MILP master; returns the pattern and how it ended."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    cuts = net.star_cuts()
    seen = {(c.coef.tobytes(), c.rhs) for c in cuts}
    lower = net.primary.astype(float)
    size = len(weights)
    for _ in range(500):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "time_limit"
        constraints = []
        if cuts:
            constraints.append(LinearConstraint(np.array([c.coef for c in cuts]),
                                                [c.rhs for c in cuts], np.inf))
        res = milp(weights, integrality=np.ones(size), bounds=Bounds(lower, np.ones(size)),
                   constraints=constraints,
                   options={"time_limit": max(remaining, 0.1), "disp": False})
        if res.status == 2:
            return None, "infeasible"
        if res.x is None:
            return None, "time_limit" if res.status == 1 else "solver_failed"
        chosen = res.x > 0.5
        failing = net.violated(chosen)
        if not failing:
            return chosen, "optimal" if res.status == 0 else "time_limit"
        fresh = [cut for _p, cut, _u, _d in failing if (cut.coef.tobytes(), cut.rhs) not in seen]
        if not fresh:
            return None, "solver_failed"
        for cut in fresh:
            seen.add((cut.coef.tobytes(), cut.rhs))
            cuts.append(cut)
    return None, "iteration_limit"


def _path(net: _Network, p: int, f: _Flow, chosen: np.ndarray, weights: np.ndarray
          ) -> tuple[float, list[int]]:
    """Cheapest set of published cells that opens one more unit of room for p, one way."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    if f.coef is None or f.residual is None:
        return np.inf, []
    fwd, bwd = net._caps(p)
    cost = np.zeros((net.nodes, net.nodes))
    cell_at = np.full((net.nodes, net.nodes), -1)
    for k in range(len(net.values)):
        t, h = int(net.tail[k]), int(net.head[k])
        for a, b, room in ((t, h, fwd[k]), (h, t, bwd[k])):
            if chosen[k] and f.residual[a, b] > 0:
                cost[a, b], cell_at[a, b] = 1e-9, k
            elif not chosen[k] and room > 0:
                cost[a, b], cell_at[a, b] = weights[k], k
    source, sink = net._ends(p, f.up)
    dist, pred = dijkstra(csr_array(cost), directed=True, indices=source,
                          return_predecessors=True)
    if not np.isfinite(dist[sink]):
        return np.inf, []
    cells, node = [], sink
    while node != source:
        prev = int(pred[node])
        cells.append(int(cell_at[prev, node]))
        node = prev
    return float(dist[sink]), cells


def _greedy(net: _Network, start: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Cheapest-path heuristic: while a primary cell is exposed, suppress the published cells
    on the cheapest route that lets it move (in a two-way table: the cheapest rectangle
    through the smallest cells of its own row and column, or a route through the totals)."""
    chosen = start.copy()
    while True:
        failing = net.violated(chosen, first_only=True)
        if not failing:
            return chosen
        p, _cut, up, down = failing[0]
        _cost, cells = min(_path(net, p, up, chosen, weights),
                          _path(net, p, down, chosen, weights), key=lambda c: c[0])
        if not cells or all(chosen[k] for k in cells):
            raise ProtectionError("The table cannot be protected.", net.pos[p])
        chosen[cells] = True


def protect_table(counts: Any, row_labels: Sequence[object] | None = None,
                  col_labels: Sequence[object] | None = None, *,
                  rules: DisclosureRules | None = None, disclosure_class: str | None = None,
                  threshold: int | None = None, cost: Cost = "value",
                  method: Literal["optimal", "greedy"] = "optimal", time_limit: float = 20.0,
                  row_header: str = "") -> ProtectedTable:
    """Primary and secondary suppression of a two-way count table and its margins.

    ``counts`` are the inner counts (rows × columns); totals are computed. The threshold comes
    from ``rules`` for ``disclosure_class`` unless ``threshold`` overrides it (the result's
    ``rule_version`` then says so). The result is audited; an unsafe table is never returned.
    """
    rules = rules or DisclosureRules()
    cls = rules.for_class(disclosure_class)
    if threshold is not None:
        rules = rules.with_threshold(cls.name, threshold)
    cls = rules.for_class(cls.name)
    t, width = cls.threshold, cls.protection_width
    grid, rows, cols = count_grid(counts, row_labels, col_labels)
    net = _Network(grid, t, width)
    weights = (net.values.astype(float) if cost == "value" else np.ones(len(net.values)))
    flags: list[str] = []
    chosen: np.ndarray | None = None
    used = "none"
    if not net.protected:
        chosen, used = net.primary.copy(), "primary_only"
    elif method == "optimal":
        chosen, how = _milp(net, weights, time.monotonic() + time_limit)
        used = "milp"
        if how != "optimal":
            flags.append(f"milp_{how}")
    def refuse(cell: tuple[int, int] | None) -> ProtectionError:
        names = [*rows, "total"], [*cols, "total"]
        where = f" ({names[0][cell[0]]!r} x {names[1][cell[1]]!r})" if cell else ""
        return ProtectionError(
            f"The table cannot be protected: a small count{where} can be worked out from its "
            "row or column whatever else is hidden (for example a small total split into "
            "ones). Merge categories and try again.", cell)

    if chosen is None:
        try:
            chosen, used = _greedy(net, net.primary.copy(), weights), "greedy"
        except ProtectionError as exc:
            raise refuse(exc.cell) from None

    def build(pattern: np.ndarray, how: str) -> ProtectedTable:
        status = primary_mask(grid, t).astype(np.int8)
        for k in np.flatnonzero(pattern & ~net.primary):
            status[net.pos[k]] = 2
        return publish(grid, status, row_labels=rows, col_labels=cols, threshold=t,
                       rules=rules, disclosure_class=cls.name, method=how,
                       flags=[*flags, f"cost_{cost}"], row_header=row_header, width=width)

    table = build(chosen, used)
    if not table.safe:
        flags.append(f"audit_rejected_{used}")
        table = build(np.ones(len(net.values), dtype=bool), "all_nonzero")
        if not table.safe:
            raise refuse(None)
    return table
