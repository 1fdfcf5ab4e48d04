"""Rounding to base 5 (CBS practice), the alternative to suppression for drill-down dashboards.

Every cell is rounded to the nearest multiple of the base, and every total is rounded
independently from its unrounded value, so rounded rows need not add up to their rounded
totals: that is the point (adding rounded cells would otherwise let a reader undo it).
Never mix rounded and unrounded values of one table in one view; the result carries the flag
``rounded`` and ``ProtectedTable.percentages`` refuses it (percentages come from unrounded data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .audit import Cell
from .primary import ProtectedTable, count_grid
from .rules import DisclosureRules, InputError

__all__ = ["round_table", "round_to_base"]


def round_to_base(value: int, base: int = 5) -> int:
    """Nearest multiple of ``base``; a tie (even bases only) rounds up. 1 and 2 become 0."""
    if base < 2:
        raise InputError("bad_base", f"Rounding base must be >= 2, not {base}.")
    if value < 0:
        raise InputError("bad_count", f"Count {value} is negative.")
    return ((2 * value + base) // (2 * base)) * base


def round_table(counts: Any, row_labels: Sequence[object] | None = None,
                col_labels: Sequence[object] | None = None, *, base: int = 5,
                rules: DisclosureRules | None = None, disclosure_class: str | None = None,
                row_header: str = "") -> ProtectedTable:
    """Round every cell and, independently, every total to ``base``."""
    rules = rules or DisclosureRules()
    cls = rules.for_class(disclosure_class)
    grid, rows, cols = count_grid(counts, row_labels, col_labels)
    shown: tuple[tuple[Cell, ...], ...] = tuple(
        tuple(round_to_base(int(v), base) for v in line) for line in grid)
    return ProtectedTable(rows, cols, shown, cls.threshold, rules.version, cls.name,
                          f"round_base_{base}", ("rounded",), row_header, {}, None,
                          cls.protection_width)
