"""The one gate every monitor number passes on its way out of the platform.

Dashboards, reports, CSV/XLSX exports, the SDG/Eurostat/GLOTIP shapes and the API never read
``IndicatorValue`` rows or raw counts into their output themselves: they ask this module for a
``Table``, and a ``Table`` can only be made here, after the disclosure rules of its indicator
have been applied through ``zichtbaar.disclosure`` (primary ``<T``, secondary ``x`` by
optimisation over the table's totals, shares only over large enough groups, estimates rounded).

Audiences: ``public`` and ``national`` get protected tables (national figures are published
only after the rules); ``internal`` is one organisation looking at its own detail inside the
platform: exact numbers, marked "not for publication" on every rendering, never offered as a
public download.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.utils.translation import gettext as _

from zichtbaar.disclosure import DisclosureRules, protect_table
from zichtbaar.disclosure.audit import SECONDARY, primary_marker

from . import labels
from .keys import Period, normalise_dims
from .models import IndicatorValue
from .selectors import vintage_on

Audience = Literal["public", "national", "internal"]
AUDIENCES: tuple[str, ...] = ("public", "national", "internal")
Status = Literal["shown", "primary", "secondary", "withheld", "missing"]
COUNT_UNITS = frozenset({"persons", "count", "registrations"})
MINOR_AGE_BANDS = frozenset({"under_12", "12_15", "16_17", "<=15", "<18", "minor", "0_17",
                             "under_18"})
MISSING = "."  # CBS: figure unknown / not available
WITHHELD = "x"  # shares and medians of too small a group: the same mark as a secondary cell
PLATFORM = "platform"

_GATE = object()


class PublishError(ValueError):
    """A request for a table that cannot be answered (unknown indicator, bad filter)."""


@dataclass(frozen=True)
class Cell:
    """One published cell: ``text`` as printed, ``value`` only when the number may be shown."""

    text: str
    value: float | None = None
    status: Status = "shown"
    lower: float | None = None
    upper: float | None = None

    @property
    def shown(self) -> bool:
        return self.status == "shown"


@dataclass(frozen=True)
class Table:
    """A table as it may leave the platform; only this module can make one."""

    key: str
    title: str
    unit: str
    row_header: str
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    audience: Audience
    disclosure_class: str
    rule_version: str
    threshold: int | None
    indicator_ids: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    as_of: dt.date | None = None
    row_keys: tuple[str, ...] = ()
    col_keys: tuple[str, ...] = ()
    gate: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.gate is not _GATE:
            raise TypeError("a monitor Table is made by zichtbaar.monitor.publish only, "
                            "after disclosure control")
        if len(self.cells) != len(self.row_labels) or any(
                len(line) != len(self.col_labels) for line in self.cells):
            raise ValueError("cells do not match the labels")

    @property
    def internal(self) -> bool:
        return self.audience == "internal"

    @property
    def has_suppression(self) -> bool:
        return any(c.status in ("primary", "secondary", "withheld")
                   for line in self.cells for c in line)

    def column(self, j: int) -> list[float | None]:
        return [line[j].value for line in self.cells]

    def to_rows(self) -> list[list[str]]:
        """Header plus one line per row, as strings (CSV, XLSX, PDF tables)."""
        return [[self.row_header, *self.col_labels],
                *([label, *(c.text for c in line)]
                  for label, line in zip(self.row_labels, self.cells, strict=True))]

    def legend(self) -> list[str]:
        """The signs used in this table, explained in the reader's language."""
        used = {c.status for line in self.cells for c in line}
        out = []
        if "primary" in used and self.threshold:
            out.append(_("<%(t)s: fewer than %(t)s, not shown to protect the people counted")
                       % {"t": self.threshold})
        if "secondary" in used or "withheld" in used:
            out.append(_("x: not shown, because it would reveal a small number or is based on "
                         "too few people"))
        if "missing" in used:
            out.append(_(".: figure not available"))
        return out


# --- rules per indicator -------------------------------------------------------------------

def rules() -> DisclosureRules:
    return DisclosureRules()


def rules_class(*, catalogue_class: str, dims: Iterable[str], minors: bool,
                subnational: bool) -> str:
    """Which disclosure class protects a table: the strictest that applies (monitor.md §6.2)."""
    if minors or catalogue_class == "count_minors":
        return "minors"
    if subnational:
        return "subnational"
    if len(set(dims)) >= 3:
        return "multidimensional"
    return "national"


def _round_estimate(value: float) -> int:
    """Estimates are model outputs: printed to a precision they have (5 below 100, else 10)."""
    base = 5 if abs(value) < 100 else 10
    return int(base * round(value / base))


def _plain(value: float, unit: str) -> str:
    if unit in COUNT_UNITS or float(value).is_integer():
        return str(round(value))
    decimals = 1 if unit in ("percent", "rate_per_100k", "hours", "months", "years") else 2
    return f"{value:.{decimals}f}"


def _cell(value: float, unit: str, lower: float | None = None,
          upper: float | None = None) -> Cell:
    return Cell(_plain(value, unit), float(value), "shown", lower, upper)


def protect_counts(grid: Sequence[Sequence[int | None]], *, disclosure_class: str = "national",
                   per_row: bool = True, threshold: int | None = None,
                   ) -> tuple[list[list[Cell]], list[Cell], int, str]:
    """Protect a rows × columns count grid; returns (cells, row totals, threshold, version).

    ``per_row`` protects each row as its own table (rows are periods: nothing is summed over
    them); otherwise one table with row, column and grand totals is protected together and
    the caller publishes those totals. ``None`` is a missing cell, never counted.
    """
    book = rules()
    cls = book.for_class(disclosure_class)
    t = threshold or cls.threshold
    version = book.with_threshold(cls.name, t).version
    out: list[list[Cell]] = [[Cell(MISSING, None, "missing") for _ in line] for line in grid]
    totals: list[Cell] = [Cell(MISSING, None, "missing") for _ in grid]

    def as_cell(c: int | str) -> Cell:
        if isinstance(c, int):
            return Cell(str(c), float(c), "shown")
        return Cell(c, None, "secondary" if c == SECONDARY else "primary")

    blocks = [[i] for i in range(len(grid))] if per_row else [list(range(len(grid)))]
    for rows in blocks:
        cols = sorted({j for i in rows for j, v in enumerate(grid[i]) if v is not None})
        if not cols:
            continue
        counts = [[int(grid[i][j] or 0) if grid[i][j] is not None else 0 for j in cols]
                  for i in rows]
        if any(v < 0 for line in counts for v in line):
            raise PublishError("counts are never negative")
        table = protect_table(counts, [str(i) for i in rows], [str(j) for j in cols],
                              rules=book, disclosure_class=cls.name, threshold=t)
        for a, i in enumerate(rows):
            for b, j in enumerate(cols):
                out[i][j] = as_cell(table.grid[a][b])
            totals[i] = as_cell(table.grid[a][-1])
        if not per_row:
            totals.append(as_cell(table.grid[-1][-1]))
            out.append([Cell(MISSING, None, "missing") for _ in grid[0]])
            for b, j in enumerate(cols):
                out[-1][j] = as_cell(table.grid[-1][b])
    return out, totals, t, version


def _share(numerator: Decimal | None, denominator: Decimal | None, value: Decimal,
           threshold: int, min_denominator: int) -> Cell:
    """A percentage is shown only over a large enough group and never when its count is
    small: with the group size published, 2% of 100 is the count 2."""
    if numerator is None or denominator is None:
        return _cell(float(value), "percent")
    n, d = int(numerator), int(denominator)
    if d < min_denominator or 0 < n < threshold:
        return Cell(WITHHELD, None, "withheld")
    return _cell(float(value), "percent")


# --- indicator tables ----------------------------------------------------------------------

@dataclass
class _Point:
    value: Decimal
    lower: Decimal | None = None
    upper: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    notes: set[str] = field(default_factory=set)

    def add(self, other: _Point) -> None:
        """National platform figures are the sum of the organisations' cells; an interval
        of one organisation's estimate says nothing about the sum, so it is dropped."""
        self.value += other.value
        self.lower = self.upper = None
        for name in ("numerator", "denominator"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, None if mine is None or theirs is None else mine + theirs)
        self.notes |= other.notes


def _points(indicator_id: str, *, source: str | None, organisation: Any,
            audience: Audience, on: dt.date | None, filters: Mapping[str, str],
            by: str | None, periods: set[Period] | None
            ) -> tuple[dict[tuple[Period, str], _Point], str]:
    query = IndicatorValue.objects.filter(indicator_id=indicator_id)
    if audience == "internal":
        query = query.filter(organisation=organisation)
    else:
        query = query.filter(organisation__isnull=True) | query.filter(
            organisation__isnull=False, source=PLATFORM)
    sources = sorted(set(query.values_list("source", flat=True)))
    if source is None:
        # One publisher per table: the platform's own figures, else the first official series.
        source = PLATFORM if PLATFORM in sources else (sources[0] if sources else PLATFORM)
    query = query.filter(source=source).prefetch_related("vintages")
    national: dict[tuple[Period, str], _Point] = {}
    summed: dict[tuple[Period, str], _Point] = {}
    for cell in query:
        period = Period(cell.period_start, cell.period_end)
        if periods is not None and period not in periods:
            continue
        dims = normalise_dims(cell.dims)
        if any(dims.get(k) != v for k, v in filters.items()):
            continue
        rest = {k: v for k, v in dims.items() if k not in filters}
        if by is None:
            if rest:
                continue
            column = ""
        else:
            if set(rest) != {by}:
                continue
            column = rest[by]
        vintage = vintage_on(cell, on)
        if vintage is None:
            continue
        point = _Point(vintage.value, vintage.lower, vintage.upper, vintage.numerator,
                       vintage.denominator,
                       {vintage.publication} if vintage.publication else set())
        key = (period, column)
        if audience == "internal" or cell.organisation_id is None:
            national[key] = point
        elif key in summed:
            summed[key].add(point)
        else:
            summed[key] = point
    # A national cell where one exists; otherwise the sum of the organisations' own cells.
    found = {**summed, **national}
    return found, source


def indicator_table(indicator_id: str, *, audience: Audience, by: str | None = None,
                    filters: Mapping[str, str] | None = None, organisation: Any = None,
                    source: str | None = None, on: dt.date | None = None,
                    periods: Sequence[int | Period] | None = None,
                    catalogue: Any = None) -> Table:
    """One indicator as a table: periods down, the categories of ``by`` across.

    ``filters`` fix other dimensions (``{"region": "utrecht"}``); a region filter makes the
    table sub-national, a minor age band makes it a table about minors (threshold 10).
    """
    from . import services

    if audience not in AUDIENCES:
        raise PublishError(f"unknown audience {audience!r}")
    if audience == "internal" and organisation is None:
        raise PublishError("an internal table belongs to one organisation")
    book = catalogue or services.catalogue()
    try:
        item = book.get(indicator_id)
    except Exception as exc:  # CatalogueError; the message names the indicator
        raise PublishError(str(exc)) from None
    filters = normalise_dims(filters)
    allowed = set(item.get("dimensions") or [])
    unknown = [d for d in [*filters, *([by] if by else [])] if d not in allowed]
    if unknown:
        raise PublishError(_("%(id)s has no dimension %(dims)s")
                           % {"id": indicator_id, "dims": ", ".join(unknown)})
    wanted = {Period.of(p) for p in periods} if periods else None
    points, used_source = _points(indicator_id, source=source, organisation=organisation,
                                  audience=audience, on=on, filters=filters, by=by,
                                  periods=wanted)
    row_periods = sorted({p for p, _c in points} | (wanted or set()))
    col_keys = sorted({c for _p, c in points}, key=labels.order_key(by)) if by else [""]
    unit = item["unit"]
    catalogue_class = item.get("disclosure_class", "count")
    minors = (filters.get("age_band") in MINOR_AGE_BANDS
              or (by == "age_band" and any(c in MINOR_AGE_BANDS for c in col_keys)))
    subnational = "region" in filters or by == "region" or audience == "internal"
    cls = rules_class(catalogue_class=catalogue_class, dims=[*filters, *([by] if by else [])],
                      minors=minors, subnational=subnational)
    book_rules = rules()
    threshold = book_rules.threshold(cls)
    min_den = book_rules.for_class(cls).min_denominator
    grid: list[list[Cell]] = []
    version = book_rules.version
    if audience == "internal":
        grid = [[_cell(float(points[(p, c)].value), unit,
                       _float(points[(p, c)].lower), _float(points[(p, c)].upper))
                 if (p, c) in points else Cell(MISSING, None, "missing") for c in col_keys]
                for p in row_periods]
        version, threshold = "internal", None
    elif unit in COUNT_UNITS and catalogue_class in ("count", "count_minors"):
        raw = [[int(points[(p, c)].value) if (p, c) in points else None for c in col_keys]
               for p in row_periods]
        cells, _totals, threshold, version = protect_counts(raw, disclosure_class=cls)
        grid = cells
    else:
        for p in row_periods:
            line = []
            for c in col_keys:
                point = points.get((p, c))
                if point is None:
                    line.append(Cell(MISSING, None, "missing"))
                elif catalogue_class == "share":
                    line.append(_share(point.numerator, point.denominator, point.value,
                                       threshold, min_den))
                elif catalogue_class == "estimate":
                    line.append(_estimate(point, unit, threshold))
                elif catalogue_class == "rate" and point.numerator is not None \
                        and 0 < point.numerator < threshold:
                    line.append(Cell(WITHHELD, None, "withheld"))
                elif point.denominator is not None and point.denominator < min_den \
                        and unit not in COUNT_UNITS:
                    line.append(Cell(WITHHELD, None, "withheld"))  # a median of three chats
                elif unit in COUNT_UNITS and 0 < point.value < threshold \
                        and catalogue_class != "aggregate_public":
                    line.append(Cell(primary_marker(threshold), None, "primary"))
                else:
                    line.append(_cell(float(point.value), unit, _float(point.lower),
                                      _float(point.upper)))
            grid.append(line)
    notes = sorted({n for point in points.values() for n in point.notes})
    name = labels.indicator_name(item)
    return Table(
        key=indicator_id + (f".{by}" if by else ""), title=name, unit=unit,
        row_header=_("Period"), row_labels=tuple(str(p) for p in row_periods),
        col_labels=tuple(labels.value_label(by, c) for c in col_keys) if by
        else (labels.unit_label(unit),),
        cells=tuple(tuple(line) for line in grid), audience=audience, disclosure_class=cls,
        rule_version=version, threshold=threshold, indicator_ids=(indicator_id,),
        notes=tuple([f"{_('Source')}: {labels.source_label(used_source)}", *notes]), as_of=on,
        row_keys=tuple(str(p) for p in row_periods), col_keys=tuple(col_keys), gate=_GATE)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _estimate(point: _Point, unit: str, threshold: int) -> Cell:
    value = float(point.value)
    if unit not in COUNT_UNITS:
        return _cell(value, unit, _float(point.lower), _float(point.upper))
    if 0 < value < threshold:
        return Cell(primary_marker(threshold), None, "primary")
    lower = None if point.lower is None else _round_estimate(math.floor(point.lower))
    upper = None if point.upper is None else _round_estimate(math.ceil(point.upper))
    shown = _round_estimate(value)
    return Cell(str(shown), float(shown), "shown",
                None if lower is None else float(lower), None if upper is None else float(upper))


def count_table(key: str, title: str, *, row_header: str, rows: Sequence[tuple[str, str]],
                cols: Sequence[tuple[str, str]], counts: Mapping[tuple[str, str], int],
                audience: Audience, disclosure_class: str = "national", totals: bool = True,
                total_label: str | None = None, notes: Sequence[str] = (),
                indicator_ids: Sequence[str] = (), unit: str = "count") -> Table:
    """A two-way count table (rows × columns, with their totals) protected as one table:
    what reports and exports use for cross-tabulations of records.

    ``rows``/``cols`` are (key, label) pairs; ``counts`` maps (row key, col key) to a count.
    """
    if audience not in AUDIENCES:
        raise PublishError(f"unknown audience {audience!r}")
    total = total_label or _("Total")
    raw = [[int(counts.get((r, c), 0)) for c, _l in cols] for r, _l in rows]
    if audience == "internal":
        cells = [[Cell(str(v), float(v)) for v in line] for line in raw]
        row_tot = [Cell(str(sum(line)), float(sum(line))) for line in raw]
        col_tot = [Cell(str(sum(col)), float(sum(col))) for col in zip(*raw, strict=False)]
        grand = sum(map(sum, raw))
        out = [[*line, t] for line, t in zip(cells, row_tot, strict=True)]
        out.append([*col_tot, Cell(str(grand), float(grand))])
        version, threshold = "internal", None
    else:
        protected, row_tot, threshold, version = protect_counts(
            raw, disclosure_class=disclosure_class, per_row=False)
        out = [[*line, t] for line, t in zip(protected[:-1], row_tot[:-1], strict=True)]
        out.append([*protected[-1], row_tot[-1]])
    row_labels = [label for _k, label in rows]
    col_labels = [label for _k, label in cols]
    if totals:
        row_labels.append(total)
        col_labels.append(total)
    else:
        out = [line[:-1] for line in out[:-1]]
    return Table(key=key, title=title, unit=unit, row_header=row_header,
                 row_labels=tuple(row_labels), col_labels=tuple(col_labels),
                 cells=tuple(tuple(line) for line in out), audience=audience,
                 disclosure_class=disclosure_class, rule_version=version, threshold=threshold,
                 indicator_ids=tuple(indicator_ids), notes=tuple(notes),
                 row_keys=tuple([k for k, _l in rows] + (["total"] if totals else [])),
                 col_keys=tuple([k for k, _l in cols] + (["total"] if totals else [])),
                 gate=_GATE)


def share_table(key: str, title: str, *, row_header: str, rows: Sequence[tuple[str, str]],
                parts: Mapping[str, int], whole: int, audience: Audience,
                disclosure_class: str = "national", notes: Sequence[str] = (),
                indicator_ids: Sequence[str] = ()) -> Table:
    """Shares of one group (``whole`` people) by category, each with its count: a row is
    shown only when its count is not small and the group is large enough."""
    book = rules()
    cls = book.for_class(disclosure_class)
    lines = []
    for row_key, _label in rows:
        n = int(parts.get(row_key, 0))
        if audience == "internal":
            pct = 100.0 * n / whole if whole else None
            lines.append((Cell(str(n), float(n)),
                          Cell(f"{pct:.0f}", pct) if pct is not None
                          else Cell(MISSING, None, "missing")))
            continue
        if 0 < n < cls.threshold:
            count = Cell(primary_marker(cls.threshold), None, "primary")
        else:
            count = Cell(str(n), float(n))
        if whole < cls.min_denominator or not count.shown:
            pct_cell = Cell(WITHHELD, None, "withheld")
        else:
            pct = 100.0 * n / whole
            pct_cell = Cell(f"{pct:.0f}", pct)
        lines.append((count, pct_cell))
    if audience == "internal":
        whole_cell = Cell(str(whole), float(whole))
    elif 0 < whole < cls.threshold:
        whole_cell = Cell(primary_marker(cls.threshold), None, "primary")
    else:
        whole_cell = Cell(str(whole), float(whole))
    total_line = (whole_cell, Cell("100", 100.0) if whole_cell.shown and whole
                  else Cell(WITHHELD, None, "withheld"))
    return Table(key=key, title=title, unit="percent", row_header=row_header,
                 row_labels=(*(label for _k, label in rows), _("Total")),
                 col_labels=(_("Number"), _("Share (%)")),
                 cells=(*lines, total_line), audience=audience,
                 disclosure_class=cls.name,
                 rule_version="internal" if audience == "internal" else book.version,
                 threshold=None if audience == "internal" else cls.threshold,
                 indicator_ids=tuple(indicator_ids), notes=tuple(notes),
                 row_keys=(*(k for k, _l in rows), "total"), col_keys=("count", "percent"),
                 gate=_GATE)


def year_periods(first: int, last: int) -> list[Period]:
    return [Period.year(y) for y in range(first, last + 1)]


def group_counts(records: Iterable[Mapping[str, Any]], row: str, col: str
                 ) -> dict[tuple[str, str], int]:
    """Count records per (row value, column value): the shape ``count_table`` wants."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for record in records:
        out[(str(record[row]), str(record[col]))] += 1
    return dict(out)
