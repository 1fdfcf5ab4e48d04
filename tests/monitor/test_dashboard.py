"""Monitor dashboards: pages per action line, filters, charts, CSV, who sees what, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone, translation

from tests.monitor.conftest import load_monitor_demo
from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import charts, dashboard_views, demo, publish, services
from zichtbaar.monitor.compute import Row
from zichtbaar.monitor.dashboard_forms import DashboardFilterForm
from zichtbaar.monitor.events import MonitorAuditEvent
from zichtbaar.monitor.services import Provenance

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1
SMALL = 3  # a count that must never leave the platform exactly
OTHER_ORG_VALUE = 4321  # distinctive: it must never appear on another organisation's page
PROV = Provenance(publication="Synthetisch overzicht", as_of=dt.date(YEAR, 6, 1))


def _nl(text: object) -> str:
    """A message as the Dutch page shows it (translated or not yet)."""
    with translation.override("nl"):
        return str(text)


@pytest.fixture
def helpline_org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Hulplijn Een", OrganisationType.CARE_NGO)


@pytest.fixture
def other_org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Hulplijn Twee", OrganisationType.CARE_NGO)


@pytest.fixture
def ministry(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Ministerie Test", OrganisationType.MINISTRY)


@pytest.fixture
def figures(helpline_org: Organisation, other_org: Organisation) -> None:
    """One small count of the first helpline, one distinctive count of the second."""
    services.values_store([Row("AL3-03", {}, SMALL, helpline_org.pk, "helpline")], YEAR)
    services.values_store([Row("AL3-10", {}, OTHER_ORG_VALUE, other_org.pk, "helpline")],
                          YEAR)


@pytest.fixture
def demo_data(make_org: Callable[..., Organisation]) -> None:
    """The monitor demo (synthetic history included) on the demo organisations' names."""
    load_monitor_demo(make_org)


@pytest.fixture
def coordinator(staff_client: Callable[..., Client], ministry: Organisation) -> Client:
    return staff_client(Role.COORDINATOR, ministry)


def _table_html(response, key: str, n: int = 0) -> str:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    start = html.index(f'data-testid="table-{key}-{n}"')
    return html[start:html.index("</table>", start)]


# --- pages per action line -----------------------------------------------------------------

def test_national_dashboard_has_every_action_line_with_charts_and_tables(
        coordinator: Client, demo_data: None) -> None:
    response = coordinator.get("/monitor/")
    assert response.status_code == 200
    html = response.content.decode()
    for line in ("AL1", "AL2", "AL3", "AL4", "AL5"):
        assert f'data-testid="section-{line}"' in html
    for section in dashboard_views.SECTIONS:
        shown = [s for s in section.charts if f'data-testid="table-{s.key}-0"' in html]
        assert shown, f"{section.action_line} has no chart with figures"
    assert _nl(dashboard_views.CHAIN_NOTE) in html
    assert 'src="/monitor/chart/al1-registered.svg?' in html


    # Every chart of the page is an SVG image of our own (no script inside).
    for key in sorted(dashboard_views.NATIONAL_SPECS):
        chart = coordinator.get(f"/monitor/chart/{key}.svg", {"year_from": 2014})
        assert chart.status_code == 200, key
        assert chart["Content-Type"] == "image/svg+xml"
        assert b"<svg" in chart.content and b"<script" not in chart.content


def test_demo_trends_cover_the_years_before_this_one(demo_data: None) -> None:
    selection = DashboardFilterForm({})
    assert selection.is_valid()
    chart = dashboard_views.build_chart(dashboard_views.NATIONAL_SPECS["al3-chat-reach"],
                                        selection.selection(), "national")
    years = [label for label, line in zip(chart.tables[0].row_labels, chart.tables[0].cells,
                                          strict=True) if line[0].shown]
    assert {str(y) for y in range(demo.FIRST_YEAR, YEAR + 1)} <= set(years)
    forms = dashboard_views.build_chart(dashboard_views.NATIONAL_SPECS["al1-forms"],
                                        selection.selection(), "national").tables[0]
    assert {"sexual", "labour", "criminal"} <= set(forms.col_keys)


def test_baseline_and_target_come_from_the_catalogue() -> None:
    form = DashboardFilterForm({})
    assert form.is_valid()
    chart = dashboard_views.build_chart(dashboard_views.NATIONAL_SPECS["al4-care-coordination"],
                                        form.selection(), "national")
    assert chart.baseline is not None and chart.baseline.value == 19
    assert chart.target is not None and chart.target.value == 35


def test_baseline_and_target_notes_read_in_the_page_language() -> None:
    """Issue 14: Dutch pages show the catalogue's Dutch texts, English pages the English."""
    from django.conf import settings

    dutch = Client().get("/monitor/public/")
    assert dutch.status_code == 200
    html = dutch.content.decode()
    assert "Uitgangswaarde: 19 van de 35 → 30 van de 35" in html  # AL4-03
    assert "Streefwaarde: elke regio" in html
    assert "Uitgangswaarde: circa 9,5 (publicatie op 18 oktober)" in html  # AL5-01
    assert "unique visitors" not in html and "every region" not in html
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = english.get("/monitor/public/").content.decode()
    assert '<html lang="en">' in html
    assert "Baseline: 19/35 → 30/35" in html
    assert "Target: every region" in html
    assert "Streefwaarde" not in html and "elke regio" not in html


def test_a_hand_edited_plain_text_shows_in_both_languages(admin) -> None:  # type: ignore[no-untyped-def]
    """A catalogue edited by hand may give one ``text``; both languages show it."""
    import copy

    data = copy.deepcopy(dict(services.current_catalogue().data))
    data["version"] = "2026.9"
    item = next(i for i in data["indicators"] if i["id"] == "AL4-03")
    item["baseline"] = {"value": 19, "year": 2017, "text": "19/35 volgens de VNG"}
    services.catalogue_version_create(actor=admin, data=data)
    spec = dashboard_views.NATIONAL_SPECS["al4-care-coordination"]
    form = DashboardFilterForm({})
    assert form.is_valid()
    for language, label in (("nl", "Uitgangswaarde"), ("en", "Baseline")):
        with translation.override(language):
            chart = dashboard_views.build_chart(spec, form.selection(), "public")
        assert f"{label}: 19/35 volgens de VNG" in chart.notes, language


# --- filters -------------------------------------------------------------------------------

def _by_form(researcher) -> None:  # type: ignore[no-untyped-def]
    for form, n in {"sexual": 120, "labour": 40, "criminal": SMALL, "other": 25}.items():
        services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR,
                             dims={"form": form}, value=n, provenance=PROV, source="nr")


def test_period_filter_limits_the_rows(coordinator: Client, figures: None) -> None:
    response = coordinator.get("/monitor/", {"year_from": YEAR - 1, "year_to": YEAR})
    table = _table_html(response, "al3-chat-reach")
    assert f'<th scope="row">{YEAR}</th>' in table
    assert f'<th scope="row">{YEAR - 2}</th>' not in table


def test_form_filter_picks_one_form_and_says_where_it_does_not_apply(
        coordinator: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    _by_form(researcher)
    response = coordinator.get("/monitor/", {"form": "labour"})
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override("nl"):
        from zichtbaar.monitor import labels

        label = labels.value_label("form", "labour")
    start = html.index('data-testid="chart-al1-forms"')
    assert label in html[start:html.index("</h3>", start)]
    assert "does not apply" in html or "niet van toepassing" in html or \
        _nl(translation.gettext_lazy(
            "The filters for region, form and age do not apply to this figure.")) in html


def test_region_filter_shows_the_units_figures(coordinator: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR,
                         dims={"region": "amsterdam"}, value=87, provenance=PROV, source="nr")
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR,
                         dims={"region": "limburg"}, value=55, provenance=PROV, source="nr")
    response = coordinator.get("/monitor/", {"region": "amsterdam"})
    assert response.status_code == 200
    table = _table_html(response, "al1-registered")
    assert "<td>87</td>" in table and "<td>55</td>" not in table


@pytest.mark.parametrize(("query", "message"), [
    ({"year_from": "abc"}, "Voer een geheel getal in."),
    ({"year_from": "2025", "year_to": "2020"},
     "The end year comes before the start year."),
    ({"year_from": "1850"}, "Choose a year from %(first)s to %(last)s."),
    ({"region": "atlantis"}, "Selecteer een geldige keuze."),
    ({"on": "2999-01-01"}, "A publication date cannot be in the future."),
    ({"on": "gisteren"}, "Voer een geldige datum in."),
])
def test_bad_filter_input_gives_a_clear_message_not_an_error(
        coordinator: Client, query: dict[str, str], message: str) -> None:
    response = coordinator.get("/monitor/", query)
    assert response.status_code == 400
    html = response.content.decode()
    expected = _nl(translation.gettext_lazy(message))
    assert expected.split("%(")[0] in html
    assert _nl(translation.gettext_lazy("The filters are not valid. Correct them and try "
                                        "again.")) in html
    assert 'data-testid="section-AL1"' not in html
    for url in ("/monitor/chart/al1-registered.svg", "/monitor/table/al1-registered/0.csv",
                "/monitor/public/", "/monitor/public/chart/al1-registered.svg"):
        assert coordinator.get(url, query).status_code == 400


# --- the gate: CSV, public, internal -------------------------------------------------------

def _csv_rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_is_exactly_the_protected_table(coordinator: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    _by_form(researcher)
    query = {"year_from": YEAR - 2, "year_to": YEAR}
    response = coordinator.get("/monitor/table/al1-forms/0.csv", query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    expected = publish.indicator_table("AL1-01", audience="national", by="form", source="nr",
                                       periods=[YEAR - 2, YEAR - 1, YEAR]).to_rows()
    rows = _csv_rows(response)
    assert rows[:len(expected)] == expected
    criminal = expected[0].index(next(label for label in expected[0]
                                      if label.lower().startswith("crimin")))
    assert rows[3][criminal] == "<5"
    assert str(SMALL) not in rows[3][1:]


def test_public_view_shows_a_small_count_only_as_below_five(figures: None) -> None:
    response = Client().get("/monitor/public/", {"year_from": YEAR - 1, "year_to": YEAR})
    assert response.status_code == 200
    table = _table_html(response, "al3-chat-reach")
    assert "&lt;5" in table
    assert f"<td>{SMALL}</td>" not in table
    html = response.content.decode()
    assert str(OTHER_ORG_VALUE) not in html  # AL3-10 is not on the public page at all
    assert _nl(dashboard_views.INTERNAL_MARK) not in html
    csv_rows = _csv_rows(Client().get("/monitor/public/table/al3-chat-reach/0.csv",
                                      {"year_from": YEAR, "year_to": YEAR}))
    assert csv_rows[1] == [str(YEAR), "<5"]
    svg = Client().get("/monitor/public/chart/al3-chat-reach.svg").content.decode()
    assert f">{SMALL}<" not in svg


def test_internal_view_shows_the_exact_count_of_the_own_organisation_only(
        figures: None, staff_client: Callable[..., Client], helpline_org: Organisation,
        other_org: Organisation) -> None:
    own = staff_client(Role.SUPERVISOR, helpline_org)
    response = own.get("/monitor/organisation/", {"year_from": YEAR, "year_to": YEAR})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<td>{SMALL}</td>" in _table_html(response, "org-chat-reach")
    assert _nl(dashboard_views.INTERNAL_MARK) in html
    assert str(OTHER_ORG_VALUE) not in html
    # The other organisation's detail is never reachable: no address names an organisation.
    for key in ("org-visitors", "org-chat-reach"):
        assert str(OTHER_ORG_VALUE) not in own.get(
            f"/monitor/organisation/table/{key}/0.csv").content.decode()
    theirs = staff_client(Role.SUPERVISOR, other_org).get("/monitor/organisation/")
    assert str(OTHER_ORG_VALUE) in theirs.content.decode()
    assert f"<td>{SMALL}</td>" not in theirs.content.decode()
    assert own.get("/monitor/organisation/99/").status_code == 404
    # Internal charts are only under organisation/; a national address of one is unknown.
    assert own.get("/monitor/chart/org-chat-reach.svg").status_code == 404
    assert Client().get("/monitor/public/chart/org-chat-reach.svg").status_code == 404


def test_internal_csv_is_marked_not_for_publication(
        figures: None, staff_client: Callable[..., Client], helpline_org: Organisation) -> None:
    response = staff_client(Role.SUPERVISOR, helpline_org).get(
        "/monitor/organisation/table/org-chat-reach/0.csv")
    assert _nl(dashboard_views.INTERNAL_MARK) in response.content.decode()


def test_vintage_shows_the_figure_as_published_on_a_date(coordinator: Client,
                                                         researcher) -> None:  # type: ignore[no-untyped-def]
    first = Provenance(publication="Eerste publicatie", as_of=dt.date(YEAR, 3, 1))
    later = Provenance(publication="Herziening", as_of=dt.date(YEAR, 9, 1))
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR - 1, dims={},
                         value=1561, provenance=first, source="nr")
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR - 1, dims={},
                         value=1255, provenance=later, source="nr", reason="NR cleaning")
    query = {"year_from": YEAR - 1, "year_to": YEAR - 1}
    now = _table_html(coordinator.get("/monitor/", query), "al1-registered")
    then = _table_html(coordinator.get("/monitor/", {**query, "on": f"{YEAR}-06-01"}),
                       "al1-registered")
    assert "<td>1255</td>" in now and "<td>1561</td>" in then


# --- access --------------------------------------------------------------------------------

PAGES = ["/monitor/", "/monitor/organisation/", "/monitor/chart/al1-registered.svg",
         "/monitor/table/al1-registered/0.csv", "/monitor/organisation/chart/org-visitors.svg",
         "/monitor/organisation/table/org-visitors/0.csv", "/monitor/public/",
         "/monitor/public/chart/al1-registered.svg",
         "/monitor/public/table/al1-registered/0.csv"]
OPEN = [200] * 6 + [200] * 3
CLOSED = [403] * 6 + [200] * 3
ANONYMOUS = [302] * 6 + [200] * 3

ACCESS = [
    (None, None, ANONYMOUS),
    (Role.COUNSELLOR, OrganisationType.CARE_NGO, CLOSED),
    (Role.PARTNER, OrganisationType.POLICE, CLOSED),
    (Role.AUDITOR, OrganisationType.CARE_NGO, CLOSED),
    (Role.SUPERVISOR, OrganisationType.CARE_NGO, OPEN),
    (Role.ANALYST, OrganisationType.REPORTING_POINT, OPEN),
    (Role.RESEARCHER, OrganisationType.RESEARCH, OPEN),
    (Role.ADMIN, OrganisationType.PLATFORM_OPERATOR, OPEN),
    (Role.COORDINATOR, OrganisationType.MUNICIPALITY, OPEN),
    (Role.COORDINATOR, OrganisationType.MINISTRY, OPEN),
]


@pytest.mark.parametrize(("role", "kind", "statuses"), ACCESS,
                         ids=[f"{r}-{k}" for r, k, _s in ACCESS])
def test_access_table(role: Role | None, kind: OrganisationType | None, statuses: list[int],
                      staff_client: Callable[..., Client],
                      make_org: Callable[..., Organisation]) -> None:
    client = Client() if role is None else staff_client(role, make_org(f"Org {kind}", kind))
    assert [client.get(url).status_code for url in PAGES] == statuses


def test_unverified_user_is_sent_to_the_second_factor(make_user, ministry) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(make_user(Role.COORDINATOR, ministry, password=None))
    response = client.get("/monitor/")
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_navigation_shows_the_monitor_to_those_who_may_see_it(
        coordinator: Client, staff_client: Callable[..., Client]) -> None:
    assert 'href="/monitor/"' in coordinator.get("/").content.decode()
    assert 'href="/monitor/"' not in staff_client(Role.COUNSELLOR).get("/").content.decode()
    assert 'href="/monitor/public/"' in coordinator.get("/monitor/").content.decode()


# --- audit ---------------------------------------------------------------------------------

def test_views_and_downloads_are_audited(figures: None, staff_client: Callable[..., Client],
                                         helpline_org: Organisation) -> None:
    user_client = staff_client(Role.SUPERVISOR, helpline_org)
    before = AuditEntry.objects.count()
    user_client.get("/monitor/", {"form": "sexual"})
    user_client.get("/monitor/organisation/")
    user_client.get("/monitor/organisation/chart/org-chat-reach.svg")
    user_client.get("/monitor/table/al3-chat-reach/0.csv")
    Client().get("/monitor/public/")
    Client().get("/monitor/public/table/al3-chat-reach/0.csv")
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    events = [e.event for e in entries]
    assert events == [MonitorAuditEvent.DASHBOARD_VIEWED,
                      MonitorAuditEvent.ORGANISATION_DETAIL_VIEWED,
                      MonitorAuditEvent.ORGANISATION_CHART_VIEWED,
                      MonitorAuditEvent.TABLE_EXPORTED,
                      MonitorAuditEvent.PUBLIC_DASHBOARD_VIEWED,
                      MonitorAuditEvent.TABLE_EXPORTED]
    assert entries[0].detail["form"] == "sexual"
    assert entries[1].organisation_id == helpline_org.pk
    assert entries[3].action == "export" and entries[3].object_id == "AL3-03"
    assert entries[4].actor_id is None


# --- charts --------------------------------------------------------------------------------

def test_suppressed_cells_are_gaps_not_zeros(researcher) -> None:  # type: ignore[no-untyped-def]
    _by_form(researcher)
    table = publish.indicator_table("AL1-01", audience="public", by="form", source="nr")
    svg = charts.stacked_bars(table).decode()
    assert "&lt;5" in svg  # the marker is printed above the bar
    line = charts.line_chart(table).decode()
    assert line.count("<svg") == 1
    criminal = table.col_keys.index("criminal")
    assert table.column(criminal) == [None]  # what the chart draws: nothing, not 0


def test_csv_keeps_negative_numbers_as_numbers(coordinator: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    for source, value in (("nr", 1334), ("comensha", 1372)):
        services.value_enter(actor=researcher, indicator_id="AL1-01", period=YEAR, dims={},
                             value=value, provenance=PROV, source=source)
    services.values_derive()
    rows = _csv_rows(coordinator.get("/monitor/table/al5-revision/0.csv",
                                     {"year_from": YEAR, "year_to": YEAR}))
    assert rows[1] == [str(YEAR), "-2.8"]
