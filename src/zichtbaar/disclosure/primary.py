"""Count tables, the primary (threshold) rule and the published result, ``ProtectedTable``.

A table is given as its inner counts; the margins (row totals, column totals, grand total) are
computed here, so the table always adds up. Every cell, totals included, with a count of 1 to
T-1 is primary-sensitive and shown as ``<T``; zeros are shown as 0.

``ProtectedTable`` holds only what may be published: the true value of a suppressed cell is
never stored on it, so passing the object on (to a template, an export, an API) cannot leak it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .audit import SECONDARY, Audit, Cell, audit_table, primary_marker, required_width
from .rules import DisclosureRules, InputError

__all__ = ["SECONDARY", "Cell", "ProtectedTable", "count_grid", "is_sensitive",
           "percentage", "primary_marker", "primary_mask", "suppress_primary"]

TOTAL_LABEL = "Totaal"


def is_sensitive(value: int, threshold: int) -> bool:
    """Counts 1..T-1 are sensitive; zero is not (an empty cell reveals no person)."""
    return 1 <= value < threshold


def count_grid(counts: Any, row_labels: Sequence[object] | None = None,
               col_labels: Sequence[object] | None = None
               ) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Inner counts → the full (m+1)×(n+1) integer grid with margins, plus the labels.

    Rejects what would make the suppression meaningless: negative or fractional counts,
    ragged or empty tables, labels that do not match or repeat.
    """
    try:
        raw = np.asarray(counts, dtype=object)
    except ValueError:
        raise InputError("ragged_table", "Every row of the table needs the same length.") \
            from None
    if raw.ndim == 1 and len(raw) and all(isinstance(r, Sequence | np.ndarray) for r in raw):
        raise InputError("ragged_table", "Every row of the table needs the same length.")
    if raw.ndim != 2:
        raise InputError("not_two_way", "A table needs rows and columns (a 2-D array).")
    m, n = raw.shape
    if m == 0 or n == 0:
        raise InputError("empty_table", "The table has no cells.")
    inner = np.zeros((m, n), dtype=np.int64)
    for i in range(m):
        for j in range(n):
            v = raw[i, j]
            ok = isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
            if not ok and isinstance(v, float | np.floating) and float(v).is_integer():
                ok, v = True, int(v)
            if not ok or v < 0:
                raise InputError("bad_count", f"Count {v!r} is not a whole number >= 0.",
                                 row=i + 1, column=str(j + 1))
            inner[i, j] = int(v)
    rows = _labels(row_labels, m, "row")
    cols = _labels(col_labels, n, "column")
    grid = np.zeros((m + 1, n + 1), dtype=np.int64)
    grid[:m, :n] = inner
    grid[:m, n] = inner.sum(axis=1)
    grid[m, :n] = inner.sum(axis=0)
    grid[m, n] = inner.sum()
    return grid, rows, cols


def _labels(labels: Sequence[object] | None, size: int, what: str) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(k + 1) for k in range(size))
    out = tuple(str(x) for x in labels)
    if len(out) != size:
        raise InputError("label_count", f"{len(out)} {what} labels for {size} {what}s.")
    if len(set(out)) != len(out):
        raise InputError("duplicate_label", f"A {what} label occurs twice.")
    return out


def primary_mask(grid: np.ndarray, threshold: int) -> np.ndarray:
    """Boolean mask of the primary-sensitive cells of a full grid (totals included)."""
    return (grid >= 1) & (grid < threshold)


def percentage(part: int | None, whole: int | None, *, min_denominator: int = 20,
               decimals: int = 0) -> float | None:
    """``part`` as a percentage of ``whole``, or None when it may not be shown.

    None when either is suppressed (pass None) or the denominator is below the minimum:
    a percentage of a small group is as revealing as the count.
    """
    if part is None or whole is None or whole < min_denominator or whole <= 0:
        return None
    return round(100.0 * part / whole, decimals)


@dataclass(frozen=True)
class ProtectedTable:
    """A two-way table as it may be published, with the audit of its own published cells.

    ``grid`` includes the totals as its last row and column. Cells are ints, ``<T`` (primary)
    or ``x`` (secondary). ``intervals`` gives each suppressed cell's feasible interval as an
    attacker can compute it; ``safe`` is True when no primary cell is narrowed beyond its
    marker (None for rounded tables, which the interval audit does not cover).
    """

    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    grid: tuple[tuple[Cell, ...], ...]
    threshold: int
    rule_version: str
    disclosure_class: str
    method: str
    flags: tuple[str, ...] = ()
    row_header: str = ""
    intervals: Mapping[tuple[int, int], tuple[int, int | None]] = field(default_factory=dict)
    safe: bool | None = None
    protection_width: int = 1

    @property
    def cells(self) -> tuple[tuple[Cell, ...], ...]:
        return tuple(line[:-1] for line in self.grid[:-1])

    @property
    def row_totals(self) -> tuple[Cell, ...]:
        return tuple(line[-1] for line in self.grid[:-1])

    @property
    def col_totals(self) -> tuple[Cell, ...]:
        return self.grid[-1][:-1]

    @property
    def grand_total(self) -> Cell:
        return self.grid[-1][-1]

    @property
    def suppressed(self) -> tuple[tuple[int, int], ...]:
        return tuple((i, j) for i, line in enumerate(self.grid)
                     for j, c in enumerate(line) if isinstance(c, str))

    def to_rows(self, total_label: str = TOTAL_LABEL) -> list[list[str]]:
        """Header plus one line per row and the totals line, as strings for a CSV writer."""
        out = [[self.row_header, *self.col_labels, total_label]]
        labels = [*self.row_labels, total_label]
        for label, line in zip(labels, self.grid, strict=True):
            out.append([label, *(str(c) for c in line)])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "row_header": self.row_header,
            "row_labels": list(self.row_labels), "col_labels": list(self.col_labels),
            "cells": [list(r) for r in self.cells], "row_totals": list(self.row_totals),
            "col_totals": list(self.col_totals), "grand_total": self.grand_total,
            "threshold": self.threshold, "protection_width": self.protection_width,
            "rule_version": self.rule_version,
            "disclosure_class": self.disclosure_class, "method": self.method,
            "flags": list(self.flags), "safe": self.safe,
            "intervals": [{"row": i, "col": j, "low": lo, "high": hi}
                          for (i, j), (lo, hi) in sorted(self.intervals.items())],
        }

    def percentages(self, axis: Literal["row", "col", "total"] = "row", *,
                    min_denominator: int = 20, decimals: int = 0
                    ) -> tuple[tuple[float | None, ...], ...]:
        """Percentages of each cell (totals included) within its row, column or the grand total.

        Computed from the published exact counts only: a cell or denominator that is
        suppressed gives None, as does a denominator below ``min_denominator``. Rounded tables
        are refused, since their percentages must come from the unrounded data.
        """
        if "rounded" in self.flags:
            raise InputError("rounded_table", "Percentages of a rounded table must be "
                             "computed from the unrounded counts.")

        def num(c: Cell) -> int | None:
            return c if isinstance(c, int) else None

        out = []
        for line in self.grid:
            row = []
            for j, c in enumerate(line):
                whole = {"row": line[-1], "col": self.grid[-1][j], "total": self.grand_total}[axis]
                row.append(percentage(num(c), num(whole), min_denominator=min_denominator,
                                      decimals=decimals))
            out.append(tuple(row))
        return tuple(out)


def publish(grid: np.ndarray, status: np.ndarray, *, row_labels: tuple[str, ...],
            col_labels: tuple[str, ...], threshold: int, rules: DisclosureRules,
            disclosure_class: str, method: str, flags: Sequence[str] = (),
            row_header: str = "", width: int = 1) -> ProtectedTable:
    """Turn true counts and a status grid (0 shown, 1 primary, 2 secondary) into the
    published table, audited from its own published cells."""
    marker = primary_marker(threshold)
    shown: tuple[tuple[Cell, ...], ...] = tuple(
        tuple(int(grid[i, j]) if status[i, j] == 0 else marker if status[i, j] == 1
              else SECONDARY for j in range(grid.shape[1])) for i in range(grid.shape[0]))
    result: Audit = audit_table(shown, threshold, width)
    all_flags = list(flags)
    if result.intervals and "c" not in all_flags:
        all_flags.insert(0, "c")
    if result.primary and required_width(threshold, width) == 0:
        # "<2" with zeros shown can only mean 1: the marker protects nothing.
        all_flags.append("marker_exact")
    return ProtectedTable(row_labels, col_labels, shown, threshold, rules.version,
                          disclosure_class, method, tuple(all_flags), row_header,
                          dict(result.intervals), result.safe, width)


def suppress_primary(counts: Any, row_labels: Sequence[object] | None = None,
                     col_labels: Sequence[object] | None = None, *,
                     rules: DisclosureRules | None = None, disclosure_class: str | None = None,
                     threshold: int | None = None, row_header: str = "") -> ProtectedTable:
    """Primary suppression only — usually NOT safe to publish (totals give cells away).

    Kept public so callers and tests can see the leak that ``protect_table`` closes; its
    ``safe`` says whether the audit found one.
    """
    rules = rules or DisclosureRules()
    cls = rules.for_class(disclosure_class)
    if threshold is not None:
        rules = rules.with_threshold(cls.name, threshold)
    t = rules.threshold(cls.name)
    grid, rows, cols = count_grid(counts, row_labels, col_labels)
    status = primary_mask(grid, t).astype(np.int8)
    return publish(grid, status, row_labels=rows, col_labels=cols, threshold=t, rules=rules,
                   disclosure_class=cls.name, method="primary_only", flags=("primary_only",),
                   row_header=row_header, width=rules.for_class(cls.name).protection_width)
