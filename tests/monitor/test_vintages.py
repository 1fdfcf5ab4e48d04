"""Values entered by hand: a published value is never overwritten, revisions are vintages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zichtbaar.accounts.roles import Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import selectors, services
from zichtbaar.monitor.models import IndicatorValue, IndicatorVintage
from zichtbaar.monitor.services import MonitorError, Provenance

pytestmark = pytest.mark.django_db

FIRST = Provenance(publication="Synthetisch jaarbericht 2026", page="12",
                   source_url="https://example.invalid/jaarbericht-2026",
                   as_of=dt.date(2027, 3, 1))
SECOND = Provenance(publication="Synthetisch jaarbericht 2027", page="8",
                    as_of=dt.date(2028, 3, 1))
DIMS = {"form": "sexual", "age_band": "<18", "region": ""}


def _enter(actor, value, provenance=FIRST, reason="", **extra):  # type: ignore[no-untyped-def]
    return services.value_enter(actor=actor, indicator_id="AL1-01", period=2026, dims=DIMS,
                                value=value, provenance=provenance, reason=reason,
                                source="comensha", **extra)


def test_a_revision_keeps_the_earlier_value(researcher) -> None:  # type: ignore[no-untyped-def]
    first = _enter(researcher, 120)
    second = _enter(researcher, 112, SECOND, reason="Dubbele registraties verwijderd")
    cell = IndicatorValue.objects.get()
    assert cell.dims == {"age_band": "<18", "form": "sexual"}  # empty region dropped
    assert (cell.value, cell.as_of, cell.vintage_count) == (112, dt.date(2028, 3, 1), 2)
    first.refresh_from_db()
    assert (first.number, first.value, first.page, first.entered_by) == (1, 120, "12", researcher)
    assert (second.number, second.reason) == (2, "Dubbele registraties verwijderd")
    events = list(AuditEntry.objects.filter(event__startswith="monitor_value")
                  .order_by("seq").values_list("event", "actor_id"))
    assert events == [("monitor_value_entered", researcher.pk),
                      ("monitor_value_revised", researcher.pk)]


def test_as_published_on_a_date_returns_that_days_vintage(researcher) -> None:  # type: ignore[no-untyped-def]
    _enter(researcher, 120)
    _enter(researcher, 112, SECOND, reason="Herzien")

    def on(day: dt.date) -> Decimal | None:
        found = selectors.value_as_published("AL1-01", 2026, DIMS, on=day, source="comensha")
        return found.value if found else None

    assert on(dt.date(2027, 2, 28)) is None
    assert on(dt.date(2027, 3, 1)) == 120
    assert on(dt.date(2028, 2, 29)) == 120
    assert on(dt.date(2028, 3, 1)) == 112
    published = selectors.value_as_published("AL1-01", 2026, {"form": "sexual", "age_band": "<18"},
                                             on=dt.date(2027, 6, 1), source="comensha")
    assert published is not None
    assert (published.vintage, published.publication, published.page) == (
        1, "Synthetisch jaarbericht 2026", "12")


def test_a_vintage_row_cannot_be_changed(researcher) -> None:  # type: ignore[no-untyped-def]
    vintage = _enter(researcher, 120)
    vintage.value = Decimal(1)
    with pytest.raises(ValueError, match="never changed"):
        vintage.save()
    assert IndicatorVintage.objects.get().value == 120


def test_an_interval_is_kept_and_must_contain_the_value(researcher) -> None:  # type: ignore[no-untyped-def]
    vintage = services.value_enter(actor=researcher, indicator_id="AL1-18", period=2026,
                                   dims={}, value=5200, lower=4100, upper=7300,
                                   provenance=FIRST, source="wodc")
    assert (vintage.lower, vintage.upper) == (4100, 7300)
    with pytest.raises(MonitorError) as refused:
        services.value_enter(actor=researcher, indicator_id="AL1-18", period=2025, dims={},
                             value=5200, lower=5300, upper=7300, provenance=FIRST,
                             source="wodc")
    assert refused.value.code == "interval_order"


@pytest.mark.parametrize(("change", "code"), [
    ({"indicator_id": "AL1-02"}, "derived_not_typed"),
    ({"indicator_id": "AL9-01"}, "unknown_indicator"),
    ({"dims": {"shoe_size": "42"}}, "unknown_dimension"),
    ({"provenance": Provenance()}, "provenance_missing"),
    ({"source": "Niet Goed"}, "bad_source"),
    ({"source": "platform"}, "reserved_source"),
    ({"value": "veel"}, "not_a_number"),
])
def test_bad_entries_are_refused(researcher, change, code) -> None:  # type: ignore[no-untyped-def]
    arguments = {"actor": researcher, "indicator_id": "AL1-01", "period": 2026, "dims": DIMS,
                 "value": 10, "provenance": FIRST, "source": "comensha", **change}
    with pytest.raises(MonitorError) as refused:
        services.value_enter(**arguments)
    assert refused.value.code == code
    assert not IndicatorVintage.objects.exists()


def test_a_revision_must_say_why(researcher) -> None:  # type: ignore[no-untyped-def]
    _enter(researcher, 120)
    with pytest.raises(MonitorError) as refused:
        _enter(researcher, 112, SECOND)
    assert refused.value.code == "reason_missing"
    assert IndicatorVintage.objects.count() == 1


def test_only_researchers_and_admins_enter_values(make_user, research_org, researcher,  # type: ignore[no-untyped-def]
                                                  make_org) -> None:
    coordinator = make_user(Role.COORDINATOR, research_org, password=None)
    with pytest.raises(MonitorError) as refused:
        _enter(coordinator, 1)
    assert refused.value.code == "forbidden"
    for write in (services.reference_values_load, services.values_derive):
        with pytest.raises(MonitorError):
            write(actor=coordinator)
    with pytest.raises(MonitorError):
        services.values_compute(2026, actor=coordinator)
    other = make_org("Gemeente Test")
    with pytest.raises(MonitorError) as theirs:
        _enter(researcher, 1, organisation=other)
    assert theirs.value.code == "forbidden"
    own = _enter(researcher, 7, organisation=research_org)
    assert own.series.organisation == research_org
    assert selectors.value_as_published("AL1-01", 2026, DIMS, source="comensha") is None
    assert selectors.value_as_published("AL1-01", 2026, DIMS, source="comensha",
                                        organisation=research_org).value == 7  # type: ignore[union-attr]
