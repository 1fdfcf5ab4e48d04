"""Derived indicators are calculated from published values, with their vintages replayed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zichtbaar.monitor import derive, selectors, services
from zichtbaar.monitor.models import IndicatorValue, Kind

pytestmark = pytest.mark.django_db


def test_visibility_interval_turns_over() -> None:
    ratio, low, high = derive.visibility(Decimal(1000), Decimal(5000), Decimal(4000),
                                         Decimal(8000))
    assert (ratio, low, high) == (Decimal("0.2"), Decimal("0.125"), Decimal("0.25"))
    assert derive.visibility(Decimal(10), Decimal(40), None, None)[1:] == (None, None)
    assert derive.per_100k(Decimal(50), Decimal(1_000_000)) == Decimal(5)
    with pytest.raises(ValueError):
        derive.per_100k(Decimal(1), Decimal(0))


@pytest.fixture
def derived() -> services.WriteReport:
    services.reference_values_load()
    return services.values_derive()


@pytest.mark.parametrize(("year", "published"), [(2019, "7.7"), (2023, "4.9"), (2024, "5.3")])
def test_registered_per_100k_matches_the_figures_derived_in_the_notes(derived, year, published  # type: ignore[no-untyped-def]
                                                                      ) -> None:
    rate = selectors.value_as_published("AL1-02", year, source="nr")
    assert rate is not None and rate.kind == Kind.DERIVED
    assert rate.value.quantize(Decimal("0.1")) == Decimal(published)
    assert "AL1-00 cbs" in rate.note


def test_visibility_ratio_carries_the_estimates_interval(derived) -> None:  # type: ignore[no-untyped-def]
    ratio = selectors.value_as_published("AL1-03", 2019, source="nr")
    assert ratio is not None
    assert ratio.value == derive.quantize(Decimal(1334) / 5000)
    assert ratio.lower == derive.quantize(Decimal(1334) / 7000)  # registered / upper
    assert ratio.upper == derive.quantize(Decimal(1334) / 4000)  # registered / lower
    assert Decimal("0.25") < ratio.value < Decimal("0.34")  # "about 1/4 to 1/3"
    first = selectors.value_as_published("AL1-03", 2015, source="nr")
    assert first is not None and first.value.quantize(Decimal("0.01")) == Decimal("0.21")


def test_revision_size_between_comensha_and_nr(derived) -> None:  # type: ignore[no-untyped-def]
    sizes = {y: selectors.value_as_published("AL5-04", y, source="nr_vs_comensha")
             for y in (2019, 2020)}
    assert {y: v.value.quantize(Decimal("0.1")) for y, v in sizes.items() if v} == {
        2019: Decimal("-2.8"), 2020: Decimal("-2.9")}


def test_a_derived_value_follows_the_vintages_of_its_inputs(derived) -> None:  # type: ignore[no-untyped-def]
    def rate_on(day: dt.date) -> Decimal | None:
        found = selectors.value_as_published("AL1-02", 2014, source="nr", on=day)
        return found.value if found else None

    population = Decimal(16829289)
    assert rate_on(dt.date(2016, 9, 29)) is None
    assert rate_on(dt.date(2017, 1, 1)) == derive.per_100k(Decimal(1561), population)
    assert rate_on(dt.date(2018, 12, 1)) == derive.per_100k(Decimal(1255), population)
    assert rate_on(dt.date(2020, 1, 1)) == derive.per_100k(Decimal(1256), population)
    assert len(selectors.vintages_of("AL1-02", 2014, source="nr")) == 3


def test_deriving_again_adds_nothing_and_a_revision_is_followed(derived, researcher) -> None:  # type: ignore[no-untyped-def]
    assert services.values_derive().created == 0
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=2024, dims={},
                         value=950, source="nr", reason="Synthetische herziening",
                         provenance=services.Provenance(publication="Synthetisch",
                                                        as_of=dt.date(2026, 10, 18)))
    again = services.values_derive()
    assert again.by_indicator == {"AL1-02": 1}  # no estimate or CoMensha count for 2024
    rate = selectors.value_as_published("AL1-02", 2024, source="nr")
    assert rate is not None and rate.vintage == 2 and rate.as_of == dt.date(2026, 10, 18)
    assert not IndicatorValue.objects.filter(kind=Kind.DERIVED, organisation__isnull=False)


def test_registrations_per_police_unit_per_100k(researcher) -> None:  # type: ignore[no-untyped-def]
    """AL4-05 from regional registrations and regional population; a small count is kept as
    the rate's numerator so the published rate can be withheld."""
    from zichtbaar.monitor import publish

    prov = services.Provenance(publication="Synthetische regiotabel", as_of=dt.date(2026, 3, 1))
    for region, registered, people in (("noord_nederland", 120, 1_750_000),
                                       ("limburg", 3, 1_120_000)):
        for indicator, value, source in (("AL1-01", registered, "comensha"),
                                         ("AL1-00", people, "cbs")):
            services.value_enter(actor=researcher, indicator_id=indicator, period=2025,
                                 dims={"region": region}, value=value, provenance=prov,
                                 source=source)
    services.values_derive()
    rate = selectors.value_as_published("AL4-05", 2025, {"region": "noord_nederland"},
                                        source="comensha")
    assert rate is not None and rate.kind == Kind.DERIVED
    assert rate.value.quantize(Decimal("0.01")) == Decimal("6.86")
    table = publish.indicator_table("AL4-05", audience="public", by="region")
    line = dict(zip(table.col_keys, table.cells[0], strict=True))
    assert line["noord_nederland"].text == "6.9"
    assert line["limburg"].status == "withheld"  # 3 registrations: the rate would reveal them
