"""The export page, downloads and the JSON API: access, audit and clear refusals."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.events import ACTION_OF
from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import exports, services
from zichtbaar.monitor.compute import Row
from zichtbaar.monitor.services import Provenance

pytestmark = pytest.mark.django_db

PROV = Provenance(publication="Synthetisch overzicht", as_of=dt.date(2026, 6, 1))
EVENT = exports.ExportAuditEvent.TABLE_EXPORTED


@pytest.fixture
def national(researcher: User) -> User:
    for form, n in {"sexual": 120, "labour": 40, "criminal": 3, "other": 25}.items():
        services.value_enter(actor=researcher, indicator_id="AL1-01", period=2025,
                             dims={"form": form}, value=n, provenance=PROV, source="nr")
    services.value_enter(actor=researcher, indicator_id="AL1-01", period=2025, dims={},
                         value=188, provenance=PROV, source="nr")
    return researcher


@pytest.fixture
def client_of() -> Callable[[User], Client]:
    return verified_client


def _download(client: Client, **params: Any) -> Any:
    return client.get(reverse("monitor:export_download"), params)


def test_export_event_is_registered_as_an_export() -> None:
    assert ACTION_OF[str(EVENT)] == "export"


def test_page_lists_layouts_and_formats(national, client_of) -> None:  # type: ignore[no-untyped-def]
    response = client_of(national).get(reverse("monitor:exports"))
    assert response.status_code == 200
    text = response.content.decode()
    for key in ("sdg_16_2_2", "eurostat_crim_thb_vsage", "glotip_victims", "AL1-01"):
        assert key in text
    assert 'value="xlsx"' in text


def test_csv_download_is_protected_and_audited(national, client_of) -> None:  # type: ignore[no-untyped-def]
    response = _download(client_of(national), table="AL1-01", by="form", first=2025,
                         last=2025, format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "zichtbaar-AL1-01.form-2025-2025.csv" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    assert "<5" in body and ";3;" not in body and ";3\r" not in body
    entry = AuditEntry.objects.get(event=EVENT)
    assert entry.action == "export" and entry.object_id == "AL1-01.form"
    assert entry.actor_id == national.pk and entry.organisation_id == national.organisation_id
    assert entry.detail["format"] == "csv" and entry.detail["audience"] == "national"
    assert entry.detail["years"] == [2025, 2025]


def test_xlsx_download_of_a_standard_layout(national, client_of) -> None:  # type: ignore[no-untyped-def]
    response = _download(client_of(national), table="eurostat_crim_thb_form", format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for line in sheet.iter_rows() for c in line]
    assert "forced_labour" in values and 3 not in values
    assert AuditEntry.objects.get(event=EVENT).detail["format"] == "xlsx"


@pytest.mark.parametrize("params", [
    {"table": "AL1-01", "first": "twintig"},
    {"table": "AL1-01", "first": 2025, "last": 2020},
    {"table": "AL1-01", "first": 1800},
    {"table": "AL1-01", "format": "pdf"},
    {"table": "bestaat_niet"},
    {"table": "AL1-01", "by": "schoenmaat"},
    {"table": "sdg_16_2_2", "audience": "internal"},
    {"table": "AL1-01", "on": "gisteren"},
    {},
])
def test_bad_input_gets_a_message_not_a_server_error(national, client_of, params) -> None:  # type: ignore[no-untyped-def]
    response = _download(client_of(national), **params)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not AuditEntry.objects.filter(event=EVENT).exists()


def test_anonymous_gets_nothing(national) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    for url in (reverse("monitor:exports"),
                reverse("monitor:export_download") + "?table=AL1-01",
                reverse("monitor:export_api_table", args=["AL1-01"]),
                reverse("monitor:export_download") + "?table=AL3-10&audience=internal"):
        response = client.get(url)
        assert response.status_code in (302, 403, 404)
        assert b"188" not in response.content and b"<5" not in response.content
    assert not AuditEntry.objects.filter(event=EVENT).exists()


def test_role_without_monitor_view_is_refused(national, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.COUNSELLOR)
    assert _download(client, table="AL1-01").status_code == 403
    assert client.get(reverse("monitor:export_api_tables")).status_code == 403


def test_internal_export_is_the_own_organisation_only(  # type: ignore[no-untyped-def]
        research_org, make_org: Callable[..., Organisation], make_user, client_of) -> None:
    other_org = make_org("Andere Hulplijn", OrganisationType.RESEARCH)
    services.values_store([Row("AL3-10", {}, 3, research_org.pk, "helpline"),
                           Row("AL3-10", {}, 7, other_org.pk, "helpline")], 2025)
    mine = client_of(make_user(Role.RESEARCHER, research_org, password=None))
    theirs = client_of(make_user(Role.RESEARCHER, other_org, password=None))
    own = _download(mine, table="AL3-10", audience="internal").content.decode("utf-8-sig")
    assert exports.banner() in own and "2025;3" in own and "2025;7" not in own
    other = _download(theirs, table="AL3-10", audience="internal").content.decode("utf-8-sig")
    assert "2025;7" in other and "2025;3" not in other
    # No parameter names another organisation: it is ignored, never obeyed.
    sneaky = _download(theirs, table="AL3-10", audience="internal",
                       organisation=research_org.pk).content.decode("utf-8-sig")
    assert "2025;3" not in sneaky
    audience = AuditEntry.objects.filter(event=EVENT).values_list("detail", flat=True)
    assert {d["audience"] for d in audience} == {"internal"}


def test_api_serves_national_protected_tables(national, client_of) -> None:  # type: ignore[no-untyped-def]
    client = client_of(national)
    listing = client.get(reverse("monitor:export_api_tables")).json()
    assert "sdg_16_2_2" in {s["key"] for s in listing["shapes"]}
    response = client.get(reverse("monitor:export_api_table", args=["AL1-01"]),
                          {"by": "form", "first": 2025, "last": 2025})
    assert response.status_code == 200
    data = response.json()
    assert data["audience"] == "national" and data["rule_version"].startswith("disclosure-")
    cells = {col["key"]: cell for col, cell in zip(data["columns"], data["rows"][0]["cells"],
                                                   strict=True)}
    assert cells["criminal"] == {"text": "<5", "value": None, "status": "primary",
                                 "lower": None, "upper": None}
    shape = client.get(reverse("monitor:export_api_table", args=["glotip_victims"])).json()
    assert shape["dimensions"] == ["geo", "year", "group", "form"]
    vias = AuditEntry.objects.filter(event=EVENT).values_list("detail", flat=True)
    assert [d["via"] for d in vias] == ["api", "api"]


def test_api_refuses_internal_and_bad_input_in_json(national, client_of) -> None:  # type: ignore[no-untyped-def]
    client = client_of(national)
    url = reverse("monitor:export_api_table", args=["AL1-01"])
    assert client.get(url, {"audience": "internal"}).status_code == 403
    assert client.get(url, {"first": "x"}).status_code == 400
    missing = client.get(reverse("monitor:export_api_table", args=["nope"]))
    assert missing.status_code == 404 and "error" in missing.json()
    assert not AuditEntry.objects.filter(event=EVENT).exists()
