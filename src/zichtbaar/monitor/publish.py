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
    With ``totals=False`` no sum of the cells is published, so nothing can be worked out
    from one: each cell is protected on its own (yearly volumes of different things side
    by side), which spares the complementary suppressions totals would need.
    """
    if audience not in AUDIENCES:
        raise PublishError(f"unknown audience {audience!r}")
    total = total_label or _("Total")
    raw = [[int(counts.get((r, c), 0)) for c, _l in cols] for r, _l in rows]
    if any(v < 0 for line in raw for v in line):
        raise PublishError("counts are never negative")
    if not rows or not cols:
        totals = False
        out: list[list[Cell]] = [[] for _r in rows]
        version = "internal" if audience == "internal" else rules().version
        threshold = None if audience == "internal" else rules().threshold(disclosure_class)
    elif audience == "internal":
        cells = [[Cell(str(v), float(v)) for v in line] for line in raw]
        row_tot = [Cell(str(sum(line)), float(sum(line))) for line in raw]
        col_tot = [Cell(str(sum(col)), float(sum(col))) for col in zip(*raw, strict=False)]
        grand = sum(map(sum, raw))
        out = [[*line, t] for line, t in zip(cells, row_tot, strict=True)]
        out.append([*col_tot, Cell(str(grand), float(grand))])
        version, threshold = "internal", None
        if not totals:
            out = [line[:-1] for line in out[:-1]]
    elif not totals:
        threshold = rules().threshold(disclosure_class)
        version = rules().version
        out = [[Cell(primary_marker(threshold), None, "primary") if 0 < v < threshold
                else Cell(str(v), float(v)) for v in line] for line in raw]
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
                indicator_ids: Sequence[str] = (), exclusive: bool = False) -> Table:
    """Shares of one group (``whole`` people) by category, each with its count.

    A count is hidden when it is small, and also when the people OUTSIDE it are few (30 of
    32 tells that 2 are not). With ``exclusive`` the categories split the group (each person
    in at most one): they are protected together with the group size as their total, so a
    hidden category cannot be worked out as the group minus the others. Multi-answer items
    (``exclusive=False``) are a yes/no split per category. Shares need a large enough group.
    """
    book = rules()
    cls = book.for_class(disclosure_class)
    t = cls.threshold
    counts = [int(parts.get(row_key, 0)) for row_key, _label in rows]
    if any(n < 0 for n in counts) or whole < 0:
        raise PublishError("counts are never negative")
    if exclusive and sum(counts) > whole:
        raise PublishError("exclusive categories add up to more than the group")
    if any(n > whole for n in counts):
        raise PublishError("a category is larger than its group")
    lines: list[tuple[Cell, Cell]] = []
    if audience == "internal":
        for n in counts:
            pct = 100.0 * n / whole if whole else None
            lines.append((Cell(str(n), float(n)),
                          Cell(f"{pct:.0f}", pct) if pct is not None
                          else Cell(MISSING, None, "missing")))
        whole_cell = Cell(str(whole), float(whole))
    else:
        if exclusive and counts:
            rest = whole - sum(counts)  # not coded / not in any row: hidden, still counted
            joint, _totals, _t, _v = protect_counts([[*counts, rest]], disclosure_class=cls.name,
                                                    threshold=t)
            count_cells = joint[0][:len(counts)]
        else:
            count_cells = [Cell(primary_marker(t), None, "primary") if 0 < n < t
                           else Cell(str(n), float(n)) for n in counts]
        whole_cell = (Cell(primary_marker(t), None, "primary") if 0 < whole < t
                      else Cell(str(whole), float(whole)))
        for n, count in zip(counts, count_cells, strict=True):
            if count.shown and 0 < whole - n < t:
                count = Cell(WITHHELD, None, "withheld")
            if whole < cls.min_denominator or not count.shown or not whole_cell.shown:
                pct_cell = Cell(WITHHELD, None, "withheld")
            else:
                pct = 100.0 * n / whole
                pct_cell = Cell(f"{pct:.0f}", pct)
            lines.append((count, pct_cell))
    total_line = (whole_cell, Cell("100", 100.0) if whole_cell.shown and whole
                  else Cell(WITHHELD, None, "withheld"))
    return Table(key=key, title=title, unit="percent", row_header=row_header,
                 row_labels=(*(label for _k, label in rows), _("Total")),
                 col_labels=(_("Number"), _("Share (%)")),
                 cells=(*lines, total_line), audience=audience,
                 disclosure_class=cls.name,
                 rule_version="internal" if audience == "internal" else book.version,
                 threshold=None if audience == "internal" else t,
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


# --- export shapes -------------------------------------------------------------------------
# The international layouts of research/monitor.md §2.1 (SDG 16.2.2, Eurostat crim_thb, UNODC
# GLOTIP) as protected tables in long format: one table row per record, its dimension codes
# in ``row_keys`` joined by "|" in the order of ``SHAPE_DIMENSIONS[key]``, the measures across.
# Protection happens on the platform's own (finer) categories, exactly as a dashboard table of
# the same cells would be protected; only then are protected cells merged into the layout's
# categories. A merged cell is shown only when every part is shown, so a layout can never
# reveal a sum of cells that another output path hides.

TOTAL = "total"
KEY_SEP = "|"
GEO = "NL"

SHAPE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "sdg_16_2_2": ("variant", "geo", "year", "sex", "age", "form"),
    "eurostat_crim_thb_status": ("geo", "year", "leg_stat", "sex"),
    "eurostat_crim_thb_citizenship": ("geo", "year", "citizen"),
    "eurostat_crim_thb_form": ("geo", "year", "form"),
    "eurostat_crim_thb_vsage": ("geo", "year", "sex", "age"),
    "glotip_victims": ("geo", "year", "group", "form"),
}
SHAPE_MEASURES: dict[str, tuple[str, ...]] = {
    "sdg_16_2_2": ("victims", "victims_lower", "victims_upper", "population", "per_100000",
                   "per_100000_lower", "per_100000_upper"),
    **{key: ("persons",) for key in SHAPE_DIMENSIONS if key != "sdg_16_2_2"},
}

_MINOR = {"under_12", "12_15", "16_17", "<18", "minor", "0_17", "under_18"}
_ADULT = {"18_23", "18_plus", "24_plus", "adult"}
# "<=15" overlaps the other minor bands and "domestic_sexual" is a part of "sexual": both are
# sub-categories published on their own, never merged into a layout (they would count twice).
_OVERLAPPING = {"age_band": {"<=15"}, "form": {"domestic_sexual"}}


def _sex_code(value: str) -> str:
    return value if value in ("female", "male") else "unknown"


def _age_code(value: str) -> str:
    return "minor" if value in _MINOR else "adult" if value in _ADULT else "unknown"


_THREE_FORMS = {"sexual": "sexual", "labour": "forced_labour"}  # Eurostat: sexual/labour/other
_GLOTIP_FORMS = {"sexual": "sexual", "labour": "forced_labour",
                 "criminal": "forced_criminality", "begging": "begging",
                 "forced_marriage": "forced_marriage", "organ_removal": "organ_removal",
                 "mixed": "mixed"}
_CITIZEN = {"nl": "reporting_country", "dutch": "reporting_country",
            "reporting_country": "reporting_country", "eu": "other_eu",
            "other_eu": "other_eu", "non_eu": "non_eu"}


@dataclass(frozen=True)
class _Axis:
    """One dimension of a layout: the platform dimensions it reads and how to code them."""

    name: str
    reads: tuple[str, ...]
    codes: tuple[str, ...]
    code: Any  # Callable[[Mapping[str, str]], str]


_SEX = _Axis("sex", ("sex",), ("female", "male", "unknown"), lambda d: _sex_code(d["sex"]))
_AGE = _Axis("age", ("age_band",), ("minor", "adult", "unknown"),
             lambda d: _age_code(d["age_band"]))
_FORM3 = _Axis("form", ("form",), ("sexual", "forced_labour", "other"),
               lambda d: _THREE_FORMS.get(d["form"], "other"))
_GLOTIP_FORM = _Axis("form", ("form",), (*dict.fromkeys(_GLOTIP_FORMS.values()), "other"),
                     lambda d: _GLOTIP_FORMS.get(d["form"], "other"))
_GROUP = _Axis("group", ("sex", "age_band"), ("women", "men", "girls", "boys", "unknown"),
               lambda d: {("female", "adult"): "women", ("male", "adult"): "men",
                          ("female", "minor"): "girls", ("male", "minor"): "boys"}.get(
                   (_sex_code(d["sex"]), _age_code(d["age_band"])), "unknown"))
_CITIZEN_AXIS = _Axis("citizen", ("nationality_group",),
                      ("reporting_country", "other_eu", "non_eu", "unknown"),
                      lambda d: _CITIZEN.get(d["nationality_group"], "unknown"))


def _cross_points(indicator_id: str, *, filters: Mapping[str, str], on: dt.date | None,
                  source: str | None, periods: set[Period] | None
                  ) -> tuple[dict[Period, dict[tuple[tuple[str, str], ...], _Point]], str]:
    """National cells of one indicator per period, keyed by their other dimensions (any
    set of them): what ``_points`` gives for one dimension, for every breakdown at once."""
    query = IndicatorValue.objects.filter(indicator_id=indicator_id)
    query = query.filter(organisation__isnull=True) | query.filter(
        organisation__isnull=False, source=PLATFORM)
    sources = sorted(set(query.values_list("source", flat=True)))
    if source is None:
        source = PLATFORM if PLATFORM in sources else (sources[0] if sources else PLATFORM)
    national: dict[Period, dict[tuple[tuple[str, str], ...], _Point]] = defaultdict(dict)
    summed: dict[Period, dict[tuple[tuple[str, str], ...], _Point]] = defaultdict(dict)
    for cell in query.filter(source=source).prefetch_related("vintages"):
        period = Period(cell.period_start, cell.period_end)
        if periods is not None and period not in periods:
            continue
        dims = normalise_dims(cell.dims)
        if any(dims.get(k) != v for k, v in filters.items()):
            continue
        rest = tuple(sorted((k, v) for k, v in dims.items() if k not in filters))
        if any(v in _OVERLAPPING.get(k, ()) for k, v in rest):
            continue
        vintage = vintage_on(cell, on)
        if vintage is None:
            continue
        point = _Point(vintage.value, vintage.lower, vintage.upper, vintage.numerator,
                       vintage.denominator,
                       {vintage.publication} if vintage.publication else set())
        if cell.organisation_id is None:
            national[period][rest] = point
        elif rest in summed[period]:
            summed[period][rest].add(point)
        else:
            summed[period][rest] = point
    found = {p: {**summed.get(p, {}), **national.get(p, {})}
             for p in set(national) | set(summed)}
    return found, source


def _merge(cells: Sequence[Cell]) -> Cell:
    """Protected cells merged into one category: a sum only of cells that are all shown."""
    present = [c for c in cells if c.status != "missing"]
    if not present:
        return Cell(MISSING, None, "missing")
    if all(c.shown for c in present):
        total = sum(c.value or 0.0 for c in present)
        return Cell(str(round(total)), float(total))
    if len(present) == 1:
        return present[0]
    return Cell(SECONDARY, None, "secondary")


def _level_cells(points: Mapping[tuple[tuple[str, str], ...], _Point], axes: Sequence[_Axis],
                 level: tuple[str, ...], *, catalogue_class: str
                 ) -> tuple[dict[tuple[str, ...], Cell], str, int, str]:
    """Protect one breakdown (``level``: the platform dimensions of the cells) on its own
    categories, then merge into the layout's codes. Rows are every broken-down axis but the
    last (flattened), columns the last; margins come from the same protected table."""
    used = [a for a in axes if set(a.reads) <= set(level)]
    raw = {k: p for k, p in points.items() if tuple(sorted(d for d, _v in k)) == level}
    minors = any(d == "age_band" and v in _MINOR for k in raw for d, v in k)
    cls = rules_class(catalogue_class=catalogue_class, dims=level, minors=minors,
                      subnational=False)
    row_axes, col_axis = used[:-1], used[-1]
    row_reads = [d for a in row_axes for d in a.reads]

    def parts(key: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        dims = dict(key)
        return tuple(dims[d] for d in row_reads), tuple(dims[d] for d in col_axis.reads)

    lookup = {parts(k): int(p.value) for k, p in raw.items()}
    rows = sorted({r for r, _c in lookup})
    cols = sorted({c for _r, c in lookup})
    grid: list[list[int | None]] = [[lookup.get((r, c)) for c in cols] for r in rows]
    protected, totals, threshold, version = protect_counts(grid, disclosure_class=cls,
                                                           per_row=False)
    cell_of: dict[tuple[Any, Any], Cell] = {}  # raw (row, col) → protected cell; TOTAL margins
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cell_of[(r, c)] = protected[i][j]
        cell_of[(r, TOTAL)] = totals[i]
    for j, c in enumerate(cols):
        cell_of[(TOTAL, c)] = protected[-1][j]
    cell_of[(TOTAL, TOTAL)] = totals[-1]

    def row_code(r: tuple[str, ...]) -> tuple[str, ...]:
        values = dict(zip(row_reads, r, strict=True))
        return tuple(str(a.code(values)) for a in row_axes)

    def col_code(c: tuple[str, ...]) -> str:
        return str(col_axis.code(dict(zip(col_axis.reads, c, strict=True))))

    targets: list[tuple[tuple[str, ...], list[Any]]]
    if row_axes:
        targets = [(code, [r for r in rows if row_code(r) == code])
                   for code in sorted({row_code(r) for r in rows})]
        targets.append((tuple(TOTAL for _a in row_axes), [TOTAL]))
    else:
        targets = [((), list(rows))]
    out: dict[tuple[str, ...], Cell] = {}
    for target_row, raw_rows in targets:
        for target_col in [*sorted({col_code(c) for c in cols}), TOTAL]:
            raw_cols = ([TOTAL] if target_col == TOTAL
                        else [c for c in cols if col_code(c) == target_col])
            codes = dict(zip([a.name for a in row_axes], target_row, strict=True))
            codes[col_axis.name] = target_col
            out[tuple(codes.get(a.name, TOTAL) for a in axes)] = _merge(
                [cell_of[(r, c)] for r in raw_rows for c in raw_cols])
    return out, cls, threshold, version


def _layout_cells(indicator_id: str, axes: Sequence[_Axis], *, filters: Mapping[str, str],
                  periods: set[Period] | None, on: dt.date | None, source: str | None,
                  catalogue: Any) -> tuple[dict[Period, dict[tuple[str, ...], Cell]],
                                           set[str], set[int], str, set[str]]:
    """Every period of one indicator in a layout: the finest breakdown the cells allow (with
    its margins), coarser breakdowns only for dimensions no finer one covers, and the
    national total from its own cell. Returns cells, classes, thresholds, version, notes."""
    from . import services

    book = catalogue or services.catalogue()
    catalogue_class = book.get(indicator_id).get("disclosure_class", "count")
    found, used_source = _cross_points(indicator_id, filters=normalise_dims(filters), on=on,
                                       source=source, periods=periods)
    readable = {d for a in axes for d in a.reads}
    out: dict[Period, dict[tuple[str, ...], Cell]] = {}
    classes: set[str] = set()
    thresholds: set[int] = set()
    notes = {f"{_('Source')}: {labels.source_label(used_source)}"}
    version = rules().version
    for period, points in sorted(found.items()):
        notes |= {n for p in points.values() for n in p.notes}
        cells: dict[tuple[str, ...], Cell] = {}
        levels = sorted({tuple(sorted(d for d, _v in k)) for k in points}, key=len,
                        reverse=True)
        published: list[set[str]] = []
        for level in levels:
            if not level or not set(level) <= readable:
                continue
            if not all(set(a.reads) <= set(level) or not set(a.reads) & set(level)
                       for a in axes):
                continue  # half of a combined axis (sex without age for women/men/…)
            if any(set(level) < seen for seen in published):
                continue  # a margin of a finer table already published
            published.append(set(level))
            level_cells, cls, threshold, version = _level_cells(
                points, axes, level, catalogue_class=catalogue_class)
            classes.add(cls)
            thresholds.add(threshold)
            for codes, cell in level_cells.items():
                if all(c == TOTAL for c in codes) and () in points:
                    continue  # the national total has a cell of its own
                cells.setdefault(codes, cell)
        if () in points:
            grid, _totals, threshold, version = protect_counts(
                [[int(points[()].value)]], disclosure_class="national")
            thresholds.add(threshold)
            classes.add("national")
            cells[tuple(TOTAL for _a in axes)] = grid[0][0]
        out[period] = cells
    return out, classes, thresholds, version, notes


def _layout_table(key: str, title: str, records: Sequence[tuple[tuple[str, ...], str,
                                                                Sequence[Cell]]], *,
                  classes: set[str], thresholds: set[int], version: str, notes: Sequence[str],
                  indicator_ids: Sequence[str], on: dt.date | None, unit: str) -> Table:
    strictest = max(thresholds) if thresholds else rules().threshold()
    cls = next((c for c in ("minors", "multidimensional", "subnational", "national")
                if c in classes), "national")
    return Table(key=key, title=title, unit=unit, row_header=_("Record"),
                 row_labels=tuple(label for _k, label, _c in records),
                 col_labels=tuple(SHAPE_MEASURES[key]),
                 cells=tuple(tuple(c) for _k, _l, c in records), audience="national",
                 disclosure_class=cls, rule_version=version, threshold=strictest,
                 indicator_ids=tuple(indicator_ids), notes=tuple(notes), as_of=on,
                 row_keys=tuple(KEY_SEP.join(k) for k, _l, _c in records),
                 col_keys=tuple(SHAPE_MEASURES[key]), gate=_GATE)


def _ordered(cells: Mapping[tuple[str, ...], Cell], axes: Sequence[_Axis]
             ) -> list[tuple[tuple[str, ...], Cell]]:
    order = [{code: n for n, code in enumerate([*a.codes, TOTAL])} for a in axes]
    return sorted(cells.items(), key=lambda kv: tuple(
        o.get(c, len(o)) for o, c in zip(order, kv[0], strict=True)))


def _record_label(codes: Sequence[str]) -> str:
    return " · ".join(str(SHAPE_CODE_LABELS.get(c, c)) for c in codes)


def _periods(years: Sequence[int] | None) -> set[Period] | None:
    return {Period.year(y) for y in years} if years else None


def _year(period: Period) -> str:
    return str(period.start.year) if period.is_year else str(period)


def _rate(count: Cell, population: float | None) -> Cell:
    """Per 100,000 from the protected count: a suppressed count gives a suppressed rate."""
    if count.status == "missing" or population is None or population <= 0:
        return Cell(MISSING, None, "missing")
    if not count.shown or count.value is None:
        return Cell(WITHHELD, None, "withheld")
    return _cell(count.value * 100_000 / population, "rate_per_100k")


def _population(periods: set[Period] | None, on: dt.date | None
                ) -> dict[Period, float]:
    found, _source = _cross_points("AL1-00", filters={}, on=on, source=None, periods=periods)
    return {p: float(points[()].value) for p, points in found.items() if () in points}


def sdg_16_2_2_table(*, years: Sequence[int] | None = None, on: dt.date | None = None,
                     source: str | None = None, catalogue: Any = None) -> Table:
    """SDG 16.2.2: victims per 100,000 inhabitants by sex, age and form, in a "detected"
    variant (registered presumed victims, AL1-01) and an "estimated" variant (MSE, AL1-18).

    The denominator is the whole resident population (AL1-00) for every breakdown, as the
    SDG definition states (total victims / resident population × 100,000), so breakdowns add
    up to the total rate. Rates are computed from the published (protected or rounded) count.
    """
    wanted = _periods(years)
    population = _population(wanted, on)
    axes = (_SEX, _AGE, _FORM3)
    records: list[tuple[tuple[str, ...], str, list[Cell]]] = []
    detected, classes, thresholds, version, notes = _layout_cells(
        "AL1-01", axes, filters={}, periods=wanted, on=on, source=source, catalogue=catalogue)
    missing = Cell(MISSING, None, "missing")
    for period, cells in sorted(detected.items()):
        pop = population.get(period)
        pop_cell = _cell(pop, "persons") if pop else missing
        for codes, count in _ordered(cells, axes):
            full = ("detected", GEO, _year(period), *codes)
            records.append((full, _record_label(full), [count, missing, missing, pop_cell,
                                                        _rate(count, pop), missing, missing]))
    estimated, e_notes = _estimated_cells(axes, wanted, on, catalogue, thresholds)
    for period, cells in sorted(estimated.items()):
        pop = population.get(period)
        pop_cell = _cell(pop, "persons") if pop else missing
        for codes, (count, low, high) in _ordered(cells, axes):  # type: ignore[arg-type]
            full = ("estimated", GEO, _year(period), *codes)
            records.append((full, _record_label(full), [
                count, low, high, pop_cell, _rate(count, pop), _rate(low, pop),
                _rate(high, pop)]))
    notes = {*notes, *e_notes,
             _("detected: registered presumed victims (AL1-01); estimated: multiple systems "
               "estimate (AL1-18), rounded, with its interval"),
             _("Rates per 100,000 of the whole resident population (AL1-00), computed from "
               "the published count; a suppressed count gives a suppressed rate"),
             _("A person exploited in several forms is counted once per form; totals over "
               "forms are sums of the cells")}
    return _layout_table("sdg_16_2_2", _("SDG 16.2.2: victims of human trafficking per "
                                         "100,000 inhabitants"), records,
                         classes=classes, thresholds=thresholds, version=version,
                         notes=sorted(notes), indicator_ids=("AL1-01", "AL1-18", "AL1-00"),
                         on=on, unit="rate_per_100k")


def _estimated_cells(axes: Sequence[_Axis], periods: set[Period] | None, on: dt.date | None,
                     catalogue: Any, thresholds: set[int]
                     ) -> tuple[dict[Period, dict[tuple[str, ...], tuple[Cell, Cell, Cell]]],
                                set[str]]:
    """MSE estimates are model outputs, not additive counts: each is rounded (and a small
    one withheld) on its own; categories that merge are summed before rounding, without an
    interval, since the interval of a sum is not the sum of the intervals."""
    found, used_source = _cross_points("AL1-18", filters={}, on=on, source=None,
                                       periods=periods)
    threshold = rules().threshold("national")
    out: dict[Period, dict[tuple[str, ...], tuple[Cell, Cell, Cell]]] = {}
    notes = {f"{_('Source')} (estimated): {labels.source_label(used_source)}"} if found else set()
    missing = Cell(MISSING, None, "missing")
    for period, points in sorted(found.items()):
        groups: dict[tuple[str, ...], list[_Point]] = defaultdict(list)
        for key, point in points.items():
            dims = dict(key)
            if not set(dims) <= {d for a in axes for d in a.reads}:
                continue
            if any(set(a.reads) & set(dims) and not set(a.reads) <= set(dims) for a in axes):
                continue
            codes = tuple(a.code(dims) if set(a.reads) <= set(dims) else TOTAL for a in axes)
            groups[codes].append(point)
        cells = {}
        for codes, parts in groups.items():
            minors = "minor" in codes
            t = rules().threshold("minors") if minors else threshold
            thresholds.add(t)
            if len(parts) == 1:
                point = parts[0]
            else:
                point = _Point(sum((p.value for p in parts), Decimal(0)))
            shown = _estimate(point, "persons", t)
            low = (Cell(str(round(shown.lower)), shown.lower) if shown.lower is not None
                   else missing)
            high = (Cell(str(round(shown.upper)), shown.upper) if shown.upper is not None
                    else missing)
            cells[codes] = (shown, low, high)
        out[period] = cells
    return out, notes


def _simple_shape(key: str, title: str, indicator_id: str, axes: Sequence[_Axis], *,
                  years: Sequence[int] | None, on: dt.date | None, source: str | None,
                  catalogue: Any, extra_notes: Sequence[str] = ()) -> Table:
    wanted = _periods(years)
    found, classes, thresholds, version, notes = _layout_cells(
        indicator_id, axes, filters={}, periods=wanted, on=on, source=source,
        catalogue=catalogue)
    records = []
    for period, cells in sorted(found.items()):
        for codes, cell in _ordered(cells, axes):
            full = (GEO, _year(period), *codes)
            records.append((full, _record_label(full), [cell]))
    return _layout_table(key, title, records, classes=classes, thresholds=thresholds,
                         version=version, notes=sorted({*notes, *extra_notes}),
                         indicator_ids=(indicator_id,), on=on, unit="persons")


def eurostat_citizenship_table(*, years: Sequence[int] | None = None,
                               on: dt.date | None = None, source: str | None = None,
                               catalogue: Any = None) -> Table:
    """Eurostat crim_thb: registered victims by citizenship (reporting country / other EU /
    non-EU)."""
    return _simple_shape("eurostat_crim_thb_citizenship",
                         _("Eurostat crim_thb: registered victims by citizenship"), "AL1-01",
                         (_CITIZEN_AXIS,), years=years, on=on, source=source,
                         catalogue=catalogue)


def eurostat_form_table(*, years: Sequence[int] | None = None, on: dt.date | None = None,
                        source: str | None = None, catalogue: Any = None) -> Table:
    """Eurostat crim_thb: registered victims by form (sexual / forced labour / other)."""
    return _simple_shape(
        "eurostat_crim_thb_form", _("Eurostat crim_thb: registered victims by form of "
                                    "exploitation"), "AL1-01", (_FORM3,), years=years, on=on,
        source=source, catalogue=catalogue,
        extra_notes=[_("other: criminal exploitation, organ removal, other and unknown forms")])


def eurostat_sex_age_table(*, years: Sequence[int] | None = None, on: dt.date | None = None,
                           source: str | None = None, catalogue: Any = None) -> Table:
    """Eurostat crim_thb_vsage: registered victims by sex and age (minor / adult)."""
    return _simple_shape("eurostat_crim_thb_vsage",
                         _("Eurostat crim_thb_vsage: registered victims by sex and age"),
                         "AL1-01", (_SEX, _AGE), years=years, on=on, source=source,
                         catalogue=catalogue)


def glotip_victims_table(*, years: Sequence[int] | None = None, on: dt.date | None = None,
                         source: str | None = None, catalogue: Any = None) -> Table:
    """UNODC GLOTIP: detected victims as women / men / girls / boys by form of exploitation."""
    return _simple_shape(
        "glotip_victims", _("UNODC GLOTIP: detected victims by group and form of "
                            "exploitation"), "AL1-01", (_GROUP, _GLOTIP_FORM), years=years,
        on=on, source=source, catalogue=catalogue,
        extra_notes=[_("girls and boys: under 18; forms the Dutch registration does not "
                       "distinguish (begging, forced marriage, mixed) are not filled in")])


_LEGAL_STATUS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("victims", "AL1-01", {}), ("suspected", "AL1-08", {"measure": "suspects"}),
    ("prosecuted", "AL1-09", {}), ("convicted", "AL1-11", {"measure": "convictions"}))


def eurostat_status_table(*, years: Sequence[int] | None = None, on: dt.date | None = None,
                          source: str | None = None, catalogue: Any = None) -> Table:
    """Eurostat crim_thb: persons by legal status (victims / suspected / prosecuted /
    convicted) and sex; a stage without a split by sex has its total only."""
    wanted = _periods(years)
    records: list[tuple[tuple[str, ...], str, list[Cell]]] = []
    classes: set[str] = set()
    thresholds: set[int] = set()
    notes: set[str] = {_("prosecuted: cases registered at the Public Prosecution Service "
                         "(OM), which counts cases rather than persons")}
    version = rules().version
    per_period: dict[Period, list[tuple[tuple[str, ...], Cell]]] = defaultdict(list)
    for status, indicator, filters in _LEGAL_STATUS:
        found, cls, ths, version, found_notes = _layout_cells(
            indicator, (_SEX,), filters=filters, periods=wanted, on=on,
            source=source if indicator == "AL1-01" else None, catalogue=catalogue)
        classes |= cls
        thresholds |= ths
        notes |= {f"{status}: {n}" for n in found_notes}
        for period, cells in found.items():
            per_period[period].extend(((status, *codes), cell)
                                      for codes, cell in _ordered(cells, (_SEX,)))
    for period, items in sorted(per_period.items()):
        for codes, cell in items:
            full = (GEO, _year(period), *codes)
            records.append((full, _record_label(full), [cell]))
    return _layout_table("eurostat_crim_thb_status",
                         _("Eurostat crim_thb: persons by legal status and sex"), records,
                         classes=classes, thresholds=thresholds, version=version,
                         notes=sorted(notes),
                         indicator_ids=tuple(i for _s, i, _f in _LEGAL_STATUS), on=on,
                         unit="persons")


SHAPE_CODE_LABELS: dict[str, Any] = {}  # filled below, after the gettext-marked names


def _code_labels() -> dict[str, Any]:
    from django.utils.translation import gettext_lazy

    return {
        "detected": gettext_lazy("detected"), "estimated": gettext_lazy("estimated"),
        TOTAL: gettext_lazy("total"), "female": gettext_lazy("female"),
        "male": gettext_lazy("male"), "unknown": gettext_lazy("unknown"),
        "minor": gettext_lazy("under 18"), "adult": gettext_lazy("18 or older"),
        "sexual": gettext_lazy("sexual exploitation"),
        "forced_labour": gettext_lazy("forced labour"),
        "forced_criminality": gettext_lazy("forced criminality"),
        "begging": gettext_lazy("begging"), "forced_marriage": gettext_lazy("forced marriage"),
        "organ_removal": gettext_lazy("organ removal"), "mixed": gettext_lazy("mixed"),
        "other": gettext_lazy("other"), "women": gettext_lazy("women"),
        "men": gettext_lazy("men"), "girls": gettext_lazy("girls"),
        "boys": gettext_lazy("boys"), "victims": gettext_lazy("victims"),
        "suspected": gettext_lazy("suspected"), "prosecuted": gettext_lazy("prosecuted"),
        "convicted": gettext_lazy("convicted"),
        "reporting_country": gettext_lazy("reporting country"),
        "other_eu": gettext_lazy("other EU"), "non_eu": gettext_lazy("non-EU"),
    }


SHAPE_CODE_LABELS.update(_code_labels())

SHAPES: dict[str, Any] = {
    "sdg_16_2_2": sdg_16_2_2_table,
    "eurostat_crim_thb_status": eurostat_status_table,
    "eurostat_crim_thb_citizenship": eurostat_citizenship_table,
    "eurostat_crim_thb_form": eurostat_form_table,
    "eurostat_crim_thb_vsage": eurostat_sex_age_table,
    "glotip_victims": glotip_victims_table,
}


def shape_table(key: str, *, years: Sequence[int] | None = None, on: dt.date | None = None,
                source: str | None = None) -> Table:
    """One standard layout by its key (``SHAPES``); always national and protected."""
    try:
        make = SHAPES[key]
    except KeyError:
        raise PublishError(_("Unknown export shape %(key)s") % {"key": key}) from None
    table: Table = make(years=years, on=on, source=source)
    return table
