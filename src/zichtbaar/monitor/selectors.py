"""Reads of indicator values, current or "as published on date D".

No view uses these yet; when pages come, they add the organisation and role filter here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from .keys import Period, dims_key, normalise_dims
from .models import IndicatorValue, IndicatorVintage


class AmbiguousSeries(LookupError):
    """Several publishers have this cell (say NR and CoMensha); name the ``source``."""


@dataclass(frozen=True)
class PublishedValue:
    indicator_id: str
    period: Period
    source: str
    kind: str
    value: Decimal
    lower: Decimal | None
    upper: Decimal | None
    as_of: dt.date
    vintage: int
    reason: str
    publication: str
    page: str
    source_url: str
    note: str
    organisation_id: int | None = None
    dims: Mapping[str, str] = field(default_factory=dict)


def cells(indicator_id: str, period: int | Period | tuple[dt.date, dt.date] | None = None,
          dims: Mapping[str, Any] | None = None, *, source: str | None = None,
          organisation: Any = None) -> QuerySet[IndicatorValue]:
    """Series cells; ``organisation=None`` means national figures."""
    query = IndicatorValue.objects.filter(indicator_id=indicator_id)
    if period is not None:
        p = Period.of(period)
        query = query.filter(period_start=p.start, period_end=p.end)
    if dims is not None:
        query = query.filter(dims_key=dims_key(dims))
    if source is not None:
        query = query.filter(source=source)
    if organisation is None:
        query = query.filter(organisation__isnull=True)
    else:
        query = query.filter(organisation=organisation)
    return query


def vintage_on(cell: IndicatorValue, on: dt.date | None) -> IndicatorVintage | None:
    """The vintage that was current on ``on`` (the newest when ``on`` is None)."""
    query = cell.vintages.all()
    if on is not None:
        query = query.filter(as_of__lte=on)
    return query.order_by("-as_of", "-number").first()


def _published(cell: IndicatorValue, vintage: IndicatorVintage) -> PublishedValue:
    return PublishedValue(
        indicator_id=cell.indicator_id, period=Period(cell.period_start, cell.period_end),
        source=cell.source, kind=cell.kind, value=vintage.value, lower=vintage.lower,
        upper=vintage.upper, as_of=vintage.as_of, vintage=vintage.number, reason=vintage.reason,
        publication=vintage.publication, page=vintage.page, source_url=vintage.source_url,
        note=vintage.note, organisation_id=cell.organisation_id,
        dims=normalise_dims(cell.dims))


def value_as_published(indicator_id: str, period: int | Period | tuple[dt.date, dt.date],
                       dims: Mapping[str, Any] | None = None, *, on: dt.date | None = None,
                       source: str | None = None, organisation: Any = None,
                       ) -> PublishedValue | None:
    """The value of one cell as it was published on ``on`` (today's when None).

    None when nothing had been published by then. Raises ``AmbiguousSeries`` when several
    publishers have the cell and no ``source`` is named.
    """
    found = list(cells(indicator_id, period, dims or {}, source=source,
                       organisation=organisation))
    if len(found) > 1:
        raise AmbiguousSeries(f"{indicator_id} {Period.of(period)}: sources "
                              f"{', '.join(sorted(c.source for c in found))}; name one")
    if not found:
        return None
    vintage = vintage_on(found[0], on)
    return _published(found[0], vintage) if vintage else None


def series_as_published(indicator_id: str, *, dims: Mapping[str, Any] | None = None,
                        source: str | None = None, organisation: Any = None,
                        on: dt.date | None = None) -> list[PublishedValue]:
    """Every period of a series as published on ``on``, oldest period first."""
    result = []
    for cell in cells(indicator_id, dims=dims if dims is not None else {}, source=source,
                      organisation=organisation).order_by("period_start", "source"):
        vintage = vintage_on(cell, on)
        if vintage is not None:
            result.append(_published(cell, vintage))
    return result


def vintages_of(indicator_id: str, period: int | Period | tuple[dt.date, dt.date],
                dims: Mapping[str, Any] | None = None, *, source: str,
                organisation: Any = None) -> list[IndicatorVintage]:
    """The revision history of one cell, oldest first."""
    cell = cells(indicator_id, period, dims or {}, source=source,
                 organisation=organisation).first()
    return list(cell.vintages.order_by("as_of", "number")) if cell else []
