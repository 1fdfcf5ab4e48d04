"""Secondary suppression: the leak through totals, optimality, the audit against brute force,
and a property test that every suppressed cell of a random table stays protected."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zichtbaar.disclosure import (
    DisclosureClass,
    DisclosureRules,
    ProtectedTable,
    ProtectionError,
    audit_table,
    protect_table,
    suppress_primary,
)
from zichtbaar.disclosure.primary import count_grid, publish

LEAKY = [[3, 10, 12], [20, 30, 40], [15, 25, 35]]


def _full(counts: Sequence[Sequence[int]]) -> np.ndarray:
    return count_grid(counts)[0]


def _cost(t: ProtectedTable, counts: Sequence[Sequence[int]]) -> int:
    grid = _full(counts)
    return int(sum(grid[i, j] for i, j in t.suppressed if t.grid[i][j] == "x"))


def _assert_protected(t: ProtectedTable, counts: Sequence[Sequence[int]]) -> None:
    """What must hold for every protected table, checked against the true counts."""
    grid = _full(counts)
    T = t.threshold
    width = max(0, min(t.protection_width, T - 2))
    for i, line in enumerate(t.grid):
        for j, cell in enumerate(line):
            v = int(grid[i, j])
            if 1 <= v < T:
                assert cell == f"<{T}", (i, j)
            elif cell == "x":
                assert v >= T, "a complement is never zero or primary"
            else:
                assert cell == v, "published cells are the true counts"
    assert t.safe is True
    again = audit_table(t.grid, T, t.protection_width)    # from the published table alone
    assert dict(again.intervals) == dict(t.intervals)
    for (i, j), (lo, hi) in again.intervals.items():
        v = int(grid[i, j])
        assert lo <= v and (hi is None or v <= hi), "the interval holds the true value"
        if t.grid[i][j] == f"<{T}":
            assert lo >= 1 and hi is not None and hi <= T - 1
            assert hi - lo >= width


def test_naive_primary_suppression_leaks_through_the_row_total() -> None:
    naive = suppress_primary(LEAKY)
    assert naive.cells[0] == ("<5", 10, 12)
    assert naive.row_totals[0] == 25
    # 25 - 10 - 12 = 3: the attacker's feasible interval is the single true value.
    assert naive.intervals[(0, 0)] == (3, 3)
    assert naive.safe is False
    assert audit_table(naive.grid, 5).exposed == ((0, 0),)

    protected = protect_table(LEAKY)
    _assert_protected(protected, LEAKY)
    lo, hi = protected.intervals[(0, 0)]
    assert lo < 3 < hi or (lo <= 3 <= hi and hi > lo)
    assert audit_table(protected.grid, 5).exposed == ()


def test_a_primary_total_is_protected_as_well() -> None:
    # Row 0 total is 4 (primary); column 2's total 3 is primary too.
    counts = [[2, 2, 0], [30, 40, 1], [25, 20, 2]]
    naive = suppress_primary(counts)
    assert naive.row_totals[0] == "<5" and naive.col_totals[2] == "<5"
    assert naive.safe is False
    t = protect_table(counts)
    _assert_protected(t, counts)
    assert t.row_totals[0] == "<5"


def test_the_optimal_pattern_hides_less_than_the_greedy_one() -> None:
    rng = np.random.default_rng(7)
    for _ in range(15):
        counts = rng.choice([0, 1, 2, 3, 6, 9, 15, 40], size=(5, 5)).tolist()
        try:
            best = protect_table(counts)
        except ProtectionError:
            continue
        greedy = protect_table(counts, method="greedy")
        _assert_protected(best, counts)
        _assert_protected(greedy, counts)
        assert best.method in ("milp", "primary_only")
        assert _cost(best, counts) <= _cost(greedy, counts)


def test_cost_count_minimises_the_number_of_complements() -> None:
    counts = [[3, 100, 6, 6], [6, 100, 6, 6], [50, 50, 50, 50]]
    by_value = protect_table(counts)
    by_count = protect_table(counts, cost="count")
    _assert_protected(by_value, counts)
    _assert_protected(by_count, counts)
    assert len(by_count.suppressed) <= len(by_value.suppressed)
    assert _cost(by_value, counts) <= _cost(by_count, counts)
    assert "cost_count" in by_count.flags


def test_zeros_stay_visible_and_are_never_complements() -> None:
    counts = [[3, 0, 40], [0, 0, 30], [20, 0, 50]]
    t = protect_table(counts)
    _assert_protected(t, counts)
    assert t.cells[1][:2] == (0, 0) and t.cells[0][1] == 0


def test_greedy_fallback_when_the_solver_has_no_time() -> None:
    t = protect_table(LEAKY, time_limit=0)
    assert t.method == "greedy"
    assert "milp_time_limit" in t.flags
    _assert_protected(t, LEAKY)


def test_a_small_total_split_into_ones_cannot_be_protected() -> None:
    # Row 0: four "<5" cells under a "<5" total: each is at least 1 and together at most 4,
    # so each is exactly 1, whatever is hidden. Nothing may be published; the table with
    # every non-zero cell hidden proves that this is intrinsic.
    counts = [[1, 1, 1, 1, 0], [20, 30, 40, 50, 60]]
    with pytest.raises(ProtectionError, match="cannot be protected") as err:
        protect_table(counts, row_labels=["a", "b"], col_labels=list("vwxyz"))
    assert err.value.cell is not None and err.value.cell[0] == 0
    assert "'a' x" in str(err.value)
    grid = _full(counts)
    status = np.where(grid >= 5, 2, (grid > 0).astype(int)).astype(np.int8)
    everything = publish(grid, status, row_labels=("a", "b"), col_labels=tuple("vwxyz"),
                         threshold=5, rules=DisclosureRules(), disclosure_class="national",
                         method="test")
    assert everything.safe is False


def test_a_wider_protection_width_is_honoured() -> None:
    rules = DisclosureRules(classes={"national": DisclosureClass("national", 10,
                                                                 protection_width=4)})
    counts = [[3, 12, 40, 7], [15, 22, 18, 30], [25, 5, 60, 44]]
    t = protect_table(counts, rules=rules)
    assert t.protection_width == 4
    _assert_protected(t, counts)
    narrow = protect_table(counts, threshold=10)
    assert len(narrow.suppressed) <= len(t.suppressed)


def test_threshold_two_marks_that_the_marker_is_exact() -> None:
    t = protect_table([[1, 5], [7, 9]], threshold=2)
    assert t.cells[0][0] == "<2"
    assert "marker_exact" in t.flags


# --- The audit against brute force ---------------------------------------------------------

def _brute_intervals(grid: Sequence[Sequence[object]], T: int, cap: int
                     ) -> dict[tuple[int, int], set[int]]:
    """Every whole, non-negative table consistent with the published one (values <= cap)."""
    m, n = len(grid) - 1, len(grid[0]) - 1

    def allowed(cell: object, v: int) -> bool:
        if cell == f"<{T}":
            return 1 <= v <= T - 1
        if cell == "x":
            return v >= T
        return v == cell

    def domain(cell: object) -> range:
        if cell == f"<{T}":
            return range(1, T)
        if cell == "x":
            return range(T, cap + 1)
        return range(int(cell), int(cell) + 1)   # type: ignore[call-overload]  # published

    row_options = []
    for i in range(m):
        options = [vals for vals in itertools.product(*(domain(grid[i][j]) for j in range(n)))
                   if allowed(grid[i][n], sum(vals))]
        row_options.append(options)
    seen: dict[tuple[int, int], set[int]] = {
        (i, j): set() for i in range(m + 1) for j in range(n + 1) if isinstance(grid[i][j], str)}
    for rows in itertools.product(*row_options):
        cols = [sum(r[j] for r in rows) for j in range(n)]
        if not all(allowed(grid[m][j], cols[j]) for j in range(n)):
            continue
        total = sum(cols)
        if not allowed(grid[m][n], total):
            continue
        full = [[*r, sum(r)] for r in rows] + [[*cols, total]]
        for (i, j), values in seen.items():
            values.add(full[i][j])
    return seen


def test_feasible_intervals_match_brute_force_enumeration() -> None:
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(250):
        m, n = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        counts = rng.choice([0, 1, 2, 3, 4, 5, 6, 8], size=(m, n)).tolist()
        T = int(rng.choice([3, 4, 5]))
        try:
            t = protect_table(counts, threshold=T)
        except ProtectionError:
            continue
        grid = _full(counts)
        cap = int(grid[-1, -1]) + T
        suppressed = [(i, j) for i, line in enumerate(t.grid) for j, c in enumerate(line)
                      if isinstance(c, str) and i < m and j < n]
        if np.prod([T if t.grid[i][j] != "x" else cap for i, j in suppressed]) > 20_000:
            continue
        brute = _brute_intervals(t.grid, T, cap)
        for cell, (lo, hi) in t.intervals.items():
            values = brute[cell]
            assert int(grid[cell]) in values
            assert min(values) == lo, (counts, T, cell)
            if hi is not None and max(values) < cap:
                assert max(values) == hi, (counts, T, cell)
                # No holes: every whole number in the interval is a possible value.
                assert values == set(range(lo, hi + 1)), (counts, T, cell)
        checked += 1
    assert checked > 80


# --- Property: random tables stay protected ------------------------------------------------

cells = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 7, 9, 12, 20, 35, 80])


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 7).flatmap(lambda m: st.lists(
    st.lists(cells, min_size=1, max_size=7).map(tuple), min_size=m, max_size=m)
    .filter(lambda rows: len({len(r) for r in rows}) == 1)),
    st.integers(2, 10), st.sampled_from(["optimal", "greedy"]))
def test_every_suppressed_cell_of_a_random_table_is_protected(
        rows: list[tuple[int, ...]], T: int, method: str) -> None:
    counts = [list(r) for r in rows]
    try:
        t = protect_table(counts, threshold=T, method=method)  # type: ignore[arg-type]
    except ProtectionError:
        # Only when even hiding every non-zero cell leaves a primary cell exposed.
        grid = _full(counts)
        status = np.where(grid >= T, 2, (grid > 0).astype(int)).astype(np.int8)
        labels = (tuple(map(str, range(len(counts)))), tuple(map(str, range(len(counts[0])))))
        everything = publish(grid, status, row_labels=labels[0], col_labels=labels[1],
                             threshold=T, rules=DisclosureRules(), disclosure_class="national",
                             method="test")
        assert everything.safe is False
        return
    _assert_protected(t, counts)


@pytest.mark.slow
def test_a_twenty_by_twenty_table_is_protected() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(rng.choice([2, 10, 60], size=(20, 20))).tolist()
    t = protect_table(counts)
    assert t.method == "milp"
    _assert_protected(t, counts)
