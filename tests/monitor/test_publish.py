"""The gate every monitor number passes: protected tables per audience and indicator."""

from __future__ import annotations

import datetime as dt

import pytest

from zichtbaar.monitor import publish, services
from zichtbaar.monitor.compute import Row
from zichtbaar.monitor.services import Provenance

pytestmark = pytest.mark.django_db

PROV = Provenance(publication="Synthetisch overzicht", as_of=dt.date(2026, 6, 1))


def _enter(actor, indicator, value, dims=None, *, year=2025, source="comensha",  # type: ignore[no-untyped-def]
           organisation=None, **extra):
    return services.value_enter(actor=actor, indicator_id=indicator, period=year, dims=dims or {},
                                value=value, provenance=PROV, source=source,
                                organisation=organisation, **extra)


def _platform(indicator, value, organisation, *, year=2025, dims=None, **extra):  # type: ignore[no-untyped-def]
    services.values_store([Row(indicator, dims or {}, value, organisation.pk, "helpline",
                               **extra)], year)


def test_a_table_cannot_be_made_past_the_gate() -> None:
    with pytest.raises(TypeError, match="publish only"):
        publish.Table(key="k", title="t", unit="count", row_header="", row_labels=(),
                      col_labels=(), cells=(), audience="public", disclosure_class="national",
                      rule_version="v", threshold=5)


def test_small_counts_by_form_are_suppressed_with_a_complement(researcher) -> None:  # type: ignore[no-untyped-def]
    for form, n in {"sexual": 120, "labour": 40, "criminal": 3, "other": 25}.items():
        _enter(researcher, "AL1-01", n, {"form": form})
    table = publish.indicator_table("AL1-01", audience="public", by="form")
    line = dict(zip(table.col_keys, table.cells[0], strict=True))
    assert line["criminal"].text == "<5" and line["criminal"].value is None
    # The row total is published elsewhere: a second cell must hide the 3.
    assert sum(c.status == "secondary" for c in table.cells[0]) >= 1
    assert "3" not in {c.text for c in table.cells[0]}
    assert table.threshold == 5 and table.rule_version.startswith("disclosure-")
    assert any("<5" in text for text in table.legend())


def test_minor_age_band_raises_the_threshold_to_ten(researcher) -> None:  # type: ignore[no-untyped-def]
    _enter(researcher, "AL1-01", 7, {"form": "sexual", "age_band": "<18"})
    table = publish.indicator_table("AL1-01", audience="national",
                                    filters={"form": "sexual", "age_band": "<18"})
    assert (table.disclosure_class, table.threshold) == ("minors", 10)
    assert table.cells[0][0].text == "<10"


def test_internal_view_is_exact_and_marked(research_org) -> None:  # type: ignore[no-untyped-def]
    _platform("AL3-10", 3, research_org)
    internal = publish.indicator_table("AL3-10", audience="internal", organisation=research_org)
    assert internal.cells[0][0].text == "3" and internal.internal
    public = publish.indicator_table("AL3-10", audience="public")
    assert public.cells[0][0].text == "<5"


def test_national_platform_figure_is_the_sum_of_organisations(  # type: ignore[no-untyped-def]
        research_org, make_org) -> None:
    from zichtbaar.accounts.roles import OrganisationType

    other = make_org("Tweede", OrganisationType.RESEARCH)
    _platform("AL3-10", 3, research_org)
    _platform("AL3-10", 4, other)
    table = publish.indicator_table("AL3-10", audience="public")
    assert table.cells[0][0].text == "7"


def test_share_of_a_small_group_is_withheld(research_org) -> None:  # type: ignore[no-untyped-def]
    _platform("AL3-04", 25, research_org, numerator=3, denominator=12)
    _platform("AL3-04", 30, research_org, year=2024, numerator=30, denominator=100)
    table = publish.indicator_table("AL3-04", audience="public")
    shown = dict(zip(table.row_labels, table.cells, strict=True))
    assert shown["2025"][0].status == "withheld" and shown["2025"][0].value is None
    assert shown["2024"][0].text == "30"


def test_count_table_closes_the_leak_through_the_totals() -> None:
    rows = [("a", "A"), ("b", "B")]
    cols = [("x", "X"), ("y", "Y")]
    counts = {("a", "x"): 2, ("a", "y"): 30, ("b", "x"): 40, ("b", "y"): 50}
    table = publish.count_table("t", "T", row_header="r", rows=rows, cols=cols, counts=counts,
                                audience="public")
    assert table.cells[0][0].text == "<5"
    # With row and column totals printed, three more cells must go.
    hidden = [c for line in table.cells for c in line if not c.shown]
    assert len(hidden) >= 4
    assert table.cells[-1][-1].text == "122"
    assert table.to_rows()[0] == ["r", "X", "Y", "Totaal"]  # the reader's language


def test_unknown_dimension_is_a_clear_error() -> None:
    with pytest.raises(publish.PublishError, match="geen dimensie"):
        publish.indicator_table("AL3-10", audience="public", by="shoe_size")


def test_exclusive_shares_cannot_be_worked_out_from_the_group_size() -> None:
    rows = [("a", "A"), ("b", "B"), ("c", "C")]
    table = publish.share_table("s", "S", row_header="r", rows=rows,
                                parts={"a": 40, "b": 3, "c": 27}, whole=70, audience="public",
                                exclusive=True)
    counts = {k: line[0] for k, line in zip(table.row_keys, table.cells, strict=True)}
    assert counts["b"].text == "<5"
    # 70 − 40 − 27 would give the 3 back: a second category goes.
    assert not counts["a"].shown or not counts["c"].shown
    assert counts["total"].text == "70"


def test_a_share_that_leaves_few_outside_is_withheld() -> None:
    table = publish.share_table("s", "S", row_header="r", rows=[("yes", "Ja")],
                                parts={"yes": 30}, whole=32, audience="public")
    assert table.cells[0][0].status == "withheld" and table.cells[0][1].value is None
    assert "30" not in [c.text for line in table.cells for c in line]


def test_count_table_without_totals_protects_each_cell_alone() -> None:
    rows = [("2024", "2024"), ("2025", "2025")]
    cols = [("signals", "Signalen"), ("handovers", "Overdrachten")]
    counts = {("2024", "signals"): 80, ("2024", "handovers"): 40, ("2025", "signals"): 60,
              ("2025", "handovers"): 3}
    table = publish.count_table("c", "C", row_header="Jaar", rows=rows, cols=cols,
                                counts=counts, audience="public", totals=False)
    assert [[c.text for c in line] for line in table.cells] == [["80", "40"], ["60", "<5"]]
    empty = publish.count_table("e", "E", row_header="Jaar", rows=[], cols=cols, counts={},
                                audience="public")
    assert empty.cells == () and empty.to_rows() == [["Jaar", "Signalen", "Overdrachten"]]
