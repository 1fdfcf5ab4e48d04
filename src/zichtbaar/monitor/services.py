"""Every write of the monitor: catalogue versions, values and their vintages.

A value is never overwritten: each change adds an ``IndicatorVintage`` with its as-of date,
reason, provenance and author, inside one transaction with its audit entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from zichtbaar.accounts.roles import has_capability
from zichtbaar.audit.record import record

from . import catalogue as catalogue_mod
from . import derive
from .events import MonitorAuditEvent
from .keys import Period, dims_key, normalise_dims
from .models import CatalogueVersion, IndicatorValue, IndicatorVintage, Kind
from .selectors import vintage_on

REFERENCE_FILE = catalogue_mod.DATA_DIR / "reference_series.yaml"
POPULATION_FILE = catalogue_mod.DATA_DIR / "population.yaml"
SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
PLATFORM_SOURCE = "platform"
FIRST_PUBLISHED = "eerste publicatie"  # the reason of a first vintage (stored, Dutch first)
# Stored with the value, so written in Dutch like the publication titles of the data file.
DATE_PRECISION_NOTES = {"month": "Publicatiedatum alleen op de maand bekend.",
                        "year": "Publicatiedatum alleen op het jaar bekend."}


class MonitorError(Exception):
    """A refused operation; ``code`` keys a sentence shown to the user."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from. ``as_of`` is the publication date (today when None)."""

    publication: str = ""
    page: str = ""
    source_url: str = ""
    note: str = ""
    as_of: dt.date | None = None


@dataclass
class WriteReport:
    created: int = 0
    unchanged: int = 0
    by_indicator: dict[str, int] = field(default_factory=dict)

    def count(self, indicator_id: str, created: bool) -> None:
        if created:
            self.created += 1
            self.by_indicator[indicator_id] = self.by_indicator.get(indicator_id, 0) + 1
        else:
            self.unchanged += 1


# --- catalogue -----------------------------------------------------------------------------

def current_catalogue() -> CatalogueVersion:
    """The newest version; seeded from the repository file on first use."""
    return CatalogueVersion.current(catalogue_mod.load_file)


def catalogue() -> catalogue_mod.Catalogue:
    return catalogue_mod.Catalogue(current_catalogue().data)


@transaction.atomic
def catalogue_version_create(*, actor: Any, data: Mapping[str, Any], note: str = ""
                             ) -> CatalogueVersion:
    """A new version; old versions stay, and each vintage names the version it was made with.

    Raises ``CatalogueError`` (naming the place) for invalid data.
    """
    if actor is not None and not has_capability(actor, "monitor.catalogue.manage"):
        raise MonitorError("forbidden")
    catalogue_mod.validate(data)
    current_catalogue()  # the seed stays the first version
    if CatalogueVersion.objects.filter(version=data["version"]).exists():
        raise MonitorError("version_exists", data["version"])
    version = CatalogueVersion.objects.create(version=data["version"], data=dict(data),
                                              note=note[:300], created_by=actor)
    record(MonitorAuditEvent.CATALOGUE_CREATED, actor=actor, object_type="monitor_catalogue",
           object_id=version.pk, detail={"version": version.version})
    return version


# --- values and vintages -------------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = derive.quantize(value)
    except ArithmeticError:
        raise MonitorError("not_a_number", repr(value)) from None
    if not number.is_finite():
        raise MonitorError("not_a_number", repr(value))
    return number


def _check_cell(book: catalogue_mod.Catalogue, indicator_id: str, dims: Mapping[str, str],
                source: str) -> Mapping[str, Any]:
    try:
        indicator = book.get(indicator_id)
    except catalogue_mod.CatalogueError:
        raise MonitorError("unknown_indicator", indicator_id) from None
    unknown = sorted(set(dims) - set(indicator["dimensions"]))
    if unknown:
        raise MonitorError("unknown_dimension", f"{indicator_id} has no dimension "
                           f"{', '.join(unknown)} (it has {', '.join(indicator['dimensions'])})")
    if not SOURCE_PATTERN.match(source):
        raise MonitorError("bad_source", source)
    return indicator


def _same(vintage: IndicatorVintage | None, value: Decimal, lower: Decimal | None,
          upper: Decimal | None) -> bool:
    return (vintage is not None and vintage.value == value and vintage.lower == lower
            and vintage.upper == upper)


def _vintage_add(*, indicator_id: str, period: Period, dims: Mapping[str, str],
                 organisation_id: int | None, source: str, kind: str, value: Decimal,
                 lower: Decimal | None, upper: Decimal | None, as_of: dt.date, reason: str,
                 provenance: Provenance, actor: Any, catalogue_version: str,
                 numerator: Decimal | None = None, denominator: Decimal | None = None,
                 only_if_changed_on: dt.date | None = None,
                 ) -> tuple[IndicatorValue, IndicatorVintage | None]:
    """Add one vintage (the cell is created with it). With ``only_if_changed_on``, nothing is
    added when the value published on that date is already the same."""
    if (lower is not None and lower > value) or (upper is not None and upper < value):
        raise MonitorError("interval_order", f"{lower} ≤ {value} ≤ {upper} does not hold")
    key = dims_key(dims)
    lookup = {"indicator_id": indicator_id, "period_start": period.start,
              "period_end": period.end, "dims_key": key, "source": source,
              "organisation_id": organisation_id}
    cell = IndicatorValue.objects.select_for_update().filter(**lookup).first()
    if cell is not None and cell.kind != kind:
        raise MonitorError("kind_mismatch", f"{indicator_id} {period} from {source} is "
                           f"{cell.kind}, not {kind}")
    if cell is not None and only_if_changed_on is not None and _same(
            vintage_on(cell, only_if_changed_on), value, lower, upper):
        return cell, None
    if cell is None:
        cell = IndicatorValue.objects.create(**lookup, dims=dict(dims), kind=kind, value=value,
                                             lower=lower, upper=upper, as_of=as_of)
    vintage = IndicatorVintage.objects.create(
        series=cell, number=cell.vintage_count + 1, value=value, lower=lower, upper=upper,
        numerator=numerator, denominator=denominator, as_of=as_of, reason=reason[:300],
        publication=provenance.publication[:300], page=provenance.page[:32],
        source_url=provenance.source_url[:500], note=provenance.note,
        catalogue_version=catalogue_version, entered_by=actor if _is_user(actor) else None)
    newest = cell.vintages.order_by("-as_of", "-number").first()
    assert newest is not None
    cell.vintage_count = vintage.number
    cell.value, cell.lower, cell.upper, cell.as_of = (newest.value, newest.lower, newest.upper,
                                                      newest.as_of)
    cell.save(update_fields=["vintage_count", "value", "lower", "upper", "as_of", "updated_at"])
    return cell, vintage


def _require_enter(actor: Any) -> None:
    """``actor=None`` is the system (demo, scheduled command); a person needs the capability."""
    if actor is not None and not has_capability(actor, "monitor.values.enter"):
        raise MonitorError("forbidden")


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def _audit_vintage(actor: Any, cell: IndicatorValue, vintage: IndicatorVintage) -> None:
    event = (MonitorAuditEvent.VALUE_ENTERED if vintage.number == 1
             else MonitorAuditEvent.VALUE_REVISED)
    record(event, actor=actor, object_type="monitor_value", object_id=cell.pk,
           detail={"indicator": cell.indicator_id, "period": [cell.period_start,
                                                              cell.period_end],
                   "dims": cell.dims_key, "source": cell.source, "vintage": vintage.number,
                   "as_of": vintage.as_of})


def _manual_add(*, actor: Any, indicator_id: str, period: Period, dims: Mapping[str, Any],
                value: Any, provenance: Provenance, reason: str, lower: Any, upper: Any,
                organisation_id: int | None, source: str, numerator: Any = None,
                denominator: Any = None) -> tuple[IndicatorValue, IndicatorVintage]:
    clean = normalise_dims(dims)
    row = current_catalogue()
    indicator = _check_cell(catalogue_mod.Catalogue(row.data), indicator_id, clean, source)
    if source == PLATFORM_SOURCE:
        raise MonitorError("reserved_source", "the platform's own figures are computed")
    if indicator["type"] == "derived":
        raise MonitorError("derived_not_typed", f"{indicator_id} is calculated from "
                           f"{', '.join(indicator.get('derived_from', []))}")
    if not provenance.publication.strip():
        raise MonitorError("provenance_missing", "name the publication the value comes from")
    amount = _decimal(value)
    assert amount is not None
    revision = IndicatorValue.objects.filter(
        indicator_id=indicator_id, period_start=period.start, period_end=period.end,
        dims_key=dims_key(clean), source=source, organisation_id=organisation_id).exists()
    if revision and not reason.strip():
        raise MonitorError("reason_missing", "a revision says why")
    cell, vintage = _vintage_add(
        indicator_id=indicator_id, period=period, dims=clean, organisation_id=organisation_id,
        source=source, kind=Kind.MANUAL, value=amount, lower=_decimal(lower),
        upper=_decimal(upper), as_of=provenance.as_of or timezone.localdate(),
        reason=reason.strip() or FIRST_PUBLISHED, provenance=provenance, actor=actor,
        catalogue_version=row.version, numerator=_decimal(numerator),
        denominator=_decimal(denominator))
    assert vintage is not None
    return cell, vintage


@transaction.atomic
def value_enter(*, actor: Any, indicator_id: str,
                period: int | Period | tuple[dt.date, dt.date], dims: Mapping[str, Any] | None,
                value: Any, provenance: Provenance, reason: str = "", lower: Any = None,
                upper: Any = None, organisation: Any = None, source: str,
                numerator: Any = None, denominator: Any = None) -> IndicatorVintage:
    """Enter a published value by hand; a value already there gets a new vintage.

    A researcher enters national figures or their own organisation's. Derived indicators
    are refused: they are calculated (``values_derive``), never typed.
    """
    _require_enter(actor)
    if (actor is not None and organisation is not None
            and organisation.pk != actor.organisation_id):
        raise MonitorError("forbidden", "another organisation's values")
    cell, vintage = _manual_add(
        actor=actor, indicator_id=indicator_id, period=Period.of(period), dims=dims or {},
        value=value, provenance=provenance, reason=reason, lower=lower, upper=upper,
        organisation_id=organisation.pk if organisation is not None else None, source=source,
        numerator=numerator, denominator=denominator)
    _audit_vintage(actor, cell, vintage)
    return vintage


# --- reference values ----------------------------------------------------------------------

def _reference_entries(reference: Path, population: Path) -> Iterable[dict[str, Any]]:
    """Flatten both data files into one entry per published value."""
    data = yaml.safe_load(reference.read_text(encoding="utf-8"))
    publications = data["publications"]
    for series in data["series"]:
        for item in series["values"]:
            pub_key = item["publication"]
            if pub_key not in publications:
                raise MonitorError("unknown_publication",
                                   f"{series['indicator']}: {pub_key!r} is not listed")
            pub = publications[pub_key]
            notes = [item.get("note", ""), pub.get("note", "")]
            notes.append(DATE_PRECISION_NOTES.get(pub.get("date_precision", "day"), ""))
            period = (Period.year(item["year"]) if "year" in item
                      else Period(item["start"], item["end"]))
            yield {"indicator_id": series["indicator"], "source": series["source"],
                   "dims": series.get("dims", {}), "period": period, "value": item["value"],
                   "lower": item.get("lower"), "upper": item.get("upper"),
                   "reason": item.get("reason", FIRST_PUBLISHED),
                   "former_titles": pub.get("former_titles", []),
                   "provenance": Provenance(
                       publication=pub["title"], page=str(item.get("page", "")),
                       source_url=pub.get("url", ""),
                       note=" ".join(n for n in notes if n).strip(), as_of=pub["date"])}
    pop = yaml.safe_load(population.read_text(encoding="utf-8"))
    month, day = pop["as_of_month_day"]
    for year, count in sorted(pop["values"].items()):
        yield {"indicator_id": pop["indicator"], "source": pop["source"], "dims": {},
               "period": Period.year(int(year)), "value": count, "lower": None, "upper": None,
               "reason": FIRST_PUBLISHED, "former_titles": pop.get("former_titles", []),
               "provenance": Provenance(publication=pop["publication"], source_url=pop["url"],
                                        note=pop["note"], as_of=dt.date(int(year), month, day))}


@transaction.atomic
def reference_values_load(*, actor: Any = None, reference: Path = REFERENCE_FILE,
                          population: Path = POPULATION_FILE) -> WriteReport:
    """Load the published Dutch series and the population; running it again adds nothing.

    A value counts as loaded under its publication's current title or a former one
    (``former_titles``): a reworded title is no new publication.
    """
    _require_enter(actor)
    report = WriteReport()
    for entry in _reference_entries(reference, population):
        period, provenance = entry["period"], entry["provenance"]
        existing = IndicatorVintage.objects.filter(
            series__indicator_id=entry["indicator_id"], series__source=entry["source"],
            series__period_start=period.start, series__period_end=period.end,
            series__dims_key=dims_key(entry["dims"]), series__organisation__isnull=True,
            as_of=provenance.as_of, value=_decimal(entry["value"]),
            publication__in=[t[:300] for t in (provenance.publication,
                                               *entry["former_titles"])]).exists()
        if existing:
            report.count(entry["indicator_id"], False)
            continue
        _manual_add(actor=actor, indicator_id=entry["indicator_id"], period=period,
                    dims=entry["dims"], value=entry["value"], provenance=provenance,
                    reason=entry["reason"], lower=entry["lower"], upper=entry["upper"],
                    organisation_id=None, source=entry["source"])
        report.count(entry["indicator_id"], True)
    record(MonitorAuditEvent.REFERENCE_LOADED, actor=actor, object_type="monitor_reference",
           detail={"created": report.created, "unchanged": report.unchanged})
    return report


# --- derived values ------------------------------------------------------------------------

def _national_totals(indicator_id: str) -> list[IndicatorValue]:
    return list(IndicatorValue.objects.filter(
        indicator_id=indicator_id, organisation__isnull=True, dims_key="{}")
        .exclude(kind=Kind.DERIVED).prefetch_related("vintages"))


def _plain(value: Decimal | None) -> str:
    """944 rather than 944.000000 in a provenance note."""
    return "" if value is None else format(value.normalize(), "f")


def _as_of_dates(*cells: IndicatorValue) -> list[dt.date]:
    return sorted({v.as_of for cell in cells for v in cell.vintages.all()})


def _derived_store(report: WriteReport, *, indicator_id: str, period: Period, source: str,
                   points: Sequence[tuple[dt.date, Decimal, Decimal | None, Decimal | None,
                                          str]],
                   catalogue_version: str, dims: Mapping[str, str] | None = None,
                   numerators: Sequence[Decimal | None] = ()) -> None:
    """Replay the inputs' publication dates: a derived value has a vintage wherever its
    inputs changed, so "as published on D" works for derived indicators too.

    ``numerators`` keep the count under a rate, so disclosure control can withhold a rate
    whose count is small."""
    for n, (as_of, value, lower, upper, note) in enumerate(points):
        _cell, vintage = _vintage_add(
            indicator_id=indicator_id, period=period, dims=dims or {}, organisation_id=None,
            source=source, kind=Kind.DERIVED, value=value, lower=lower, upper=upper,
            as_of=as_of, reason="derived", provenance=Provenance(note=note), actor=None,
            catalogue_version=catalogue_version, only_if_changed_on=as_of,
            numerator=numerators[n] if n < len(numerators) else None)
        report.count(indicator_id, vintage is not None)


@transaction.atomic
def values_derive(*, actor: Any = None) -> WriteReport:
    """Registered per 100,000 (AL1-02), visibility ratio with interval (AL1-03) and the
    revision size between CoMensha and NR counts (AL5-04), for national totals."""
    _require_enter(actor)
    report = WriteReport()
    version = current_catalogue().version
    registered = _national_totals("AL1-01")
    population = {(c.period_start, c.period_end): c for c in _national_totals("AL1-00")}
    estimates: dict[tuple[dt.date, dt.date], IndicatorValue] = {}
    for cell in sorted(_national_totals("AL1-18"), key=lambda c: c.as_of):
        estimates[(cell.period_start, cell.period_end)] = cell  # the newest estimate wins
    by_source: dict[tuple[dt.date, dt.date], dict[str, IndicatorValue]] = {}
    for reg in registered:
        span = (reg.period_start, reg.period_end)
        period = Period(*span)
        by_source.setdefault(span, {})[reg.source] = reg
        pop = population.get(span)
        if pop is not None:
            points = []
            for day in _as_of_dates(reg, pop):
                r, p = vintage_on(reg, day), vintage_on(pop, day)
                if r and p:
                    points.append((day, derive.per_100k(r.value, p.value), None, None,
                                   f"AL1-01 {reg.source} {_plain(r.value)} (vintage {r.number})"
                                   f" / AL1-00 {pop.source} {_plain(p.value)} × 100,000"))
            _derived_store(report, indicator_id="AL1-02", period=period, source=reg.source,
                           points=points, catalogue_version=version)
        est = estimates.get(span)
        if est is not None:
            points = []
            for day in _as_of_dates(reg, est):
                r, e = vintage_on(reg, day), vintage_on(est, day)
                if r and e:
                    ratio, low, high = derive.visibility(r.value, e.value, e.lower, e.upper)
                    points.append((day, ratio, low, high,
                                   f"AL1-01 {reg.source} {_plain(r.value)} (vintage {r.number})"
                                   f" / AL1-18 {est.source} {_plain(e.value)} "
                                   f"[{_plain(e.lower)}, {_plain(e.upper)}]"))
            _derived_store(report, indicator_id="AL1-03", period=period, source=reg.source,
                           points=points, catalogue_version=version)
    for span, sources in by_source.items():
        nr, comensha = sources.get("nr"), sources.get("comensha")
        if nr is None or comensha is None:
            continue
        points = []
        for day in _as_of_dates(nr, comensha):
            n, c = vintage_on(nr, day), vintage_on(comensha, day)
            if n and c:
                points.append((day, derive.revision_size(n.value, c.value), None, None,
                               f"(NR {_plain(n.value)} − CoMensha {_plain(c.value)})"
                               " / CoMensha × 100"))
        _derived_store(report, indicator_id="AL5-04", period=Period(*span),
                       source="nr_vs_comensha", points=points, catalogue_version=version)
    _derive_regional_rates(report, version)
    record(MonitorAuditEvent.VALUES_DERIVED, actor=actor, object_type="monitor_values",
           detail={"created": report.created, "unchanged": report.unchanged})
    return report


def _regional(indicator_id: str) -> dict[tuple[dt.date, dt.date, str, str], IndicatorValue]:
    """National cells split by region only: (start, end, region, source) → cell."""
    found = {}
    for cell in (IndicatorValue.objects.filter(indicator_id=indicator_id,
                                               organisation__isnull=True)
                 .exclude(kind=Kind.DERIVED).prefetch_related("vintages")):
        dims = normalise_dims(cell.dims)
        if set(dims) == {"region"}:
            found[(cell.period_start, cell.period_end, dims["region"], cell.source)] = cell
    return found


def _derive_regional_rates(report: WriteReport, version: str) -> None:
    """AL4-05: registrations per police unit per 100,000 of the unit's population."""
    population = {(start, end, region): cell
                  for (start, end, region, _source), cell in _regional("AL1-00").items()}
    for (start, end, region, source), reg in _regional("AL1-01").items():
        pop = population.get((start, end, region))
        if pop is None:
            continue
        points, numerators = [], []
        for day in _as_of_dates(reg, pop):
            r, p = vintage_on(reg, day), vintage_on(pop, day)
            if r and p and p.value > 0:
                points.append((day, derive.per_100k(r.value, p.value), None, None,
                               f"AL1-01 {source} {region} {_plain(r.value)} / AL1-00 "
                               f"{pop.source} {region} {_plain(p.value)} × 100,000"))
                numerators.append(r.value)
        _derived_store(report, indicator_id="AL4-05", period=Period(start, end), source=source,
                       points=points, catalogue_version=version, dims={"region": region},
                       numerators=numerators)


# --- computed values -----------------------------------------------------------------------

def values_compute(year: int, *, actor: Any = None) -> WriteReport:
    """Store the platform's own figures for ``year``; a vintage only where a value changed.

    The as-of date is today: two changed runs on one day give two vintages, and "as published
    on" that day shows the later one.
    """
    from . import compute

    _require_enter(actor)
    return values_store(compute.all_rows(year), year, actor=actor)


@transaction.atomic
def values_store(rows: Iterable[Any], year: int, *, actor: Any = None,
                 as_of: dt.date | None = None) -> WriteReport:
    """Store computed rows (``compute.Row``) for ``year`` as the platform's own figures.

    ``values_compute`` feeds it from the other parts; the demo and benches feed it the
    history the platform would have computed in earlier years.
    """
    _require_enter(actor)
    row = current_catalogue()
    book = catalogue_mod.Catalogue(row.data)
    today = as_of or timezone.localdate()
    period = Period.year(year)
    report = WriteReport()
    for item in rows:
        clean = normalise_dims(item.dims)
        _check_cell(book, item.indicator_id, clean, PLATFORM_SOURCE)
        amount = _decimal(item.value)
        assert amount is not None
        _cell, vintage = _vintage_add(
            indicator_id=item.indicator_id, period=period, dims=clean,
            organisation_id=item.organisation_id, source=PLATFORM_SOURCE,
            kind=Kind.COMPUTED, value=amount, lower=_decimal(item.lower),
            upper=_decimal(item.upper), as_of=today, reason="computed",
            provenance=Provenance(publication=f"zichtbaar {item.part}", note=item.note),
            actor=actor, catalogue_version=row.version, numerator=_decimal(item.numerator),
            denominator=_decimal(item.denominator), only_if_changed_on=today)
        report.count(item.indicator_id, vintage is not None)
    record(MonitorAuditEvent.VALUES_COMPUTED, actor=actor, object_type="monitor_values",
           detail={"year": year, "created": report.created, "unchanged": report.unchanged})
    return report
