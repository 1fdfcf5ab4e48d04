"""Keeping the monitor's data: the catalogue editor and values entered by hand in the web."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from django.test import Client
from django.urls import reverse

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import services
from zichtbaar.monitor.models import CatalogueVersion, IndicatorValue

from ..conftest import verified_client

pytestmark = pytest.mark.django_db

ENTRY = {"indicator": "AL1-01", "year": "2025", "dims": "form=sexual", "source": "comensha",
         "value": "612", "publication": "Synthetisch jaarbericht", "page": "14",
         "source_url": "https://example.invalid/jaarbericht", "as_of": "2026-03-01"}


def test_admin_saves_a_new_catalogue_version(admin) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(admin)
    page = client.get(reverse("monitor:catalogue"))
    assert page.status_code == 200 and "AL1-01" in page.content.decode()
    data = dict(services.current_catalogue().data)
    bad = client.post(reverse("monitor:catalogue"), {"data": "version: [unclosed"})
    assert bad.status_code == 400 and "YAML" in bad.content.decode()
    same = client.post(reverse("monitor:catalogue"),
                       {"data": yaml.safe_dump(data, allow_unicode=True)})
    assert same.status_code == 400 and "bestaat al" in same.content.decode()
    broken = {**data, "version": "2027.1",
              "indicators": [{**data["indicators"][0], "unit": "furlongs"}]}
    refused = client.post(reverse("monitor:catalogue"), {"data": yaml.safe_dump(broken)})
    assert refused.status_code == 400 and "unit" in refused.content.decode()
    new = {**data, "version": "2027.1"}
    saved = client.post(reverse("monitor:catalogue"),
                        {"data": yaml.safe_dump(new, allow_unicode=True), "note": "test"})
    assert saved.status_code == 302
    assert list(CatalogueVersion.objects.order_by("created_at")
                .values_list("version", flat=True)) == ["2026.2", "2027.1"]


def test_only_admins_edit_the_catalogue(researcher) -> None:  # type: ignore[no-untyped-def]
    assert verified_client(researcher).get(reverse("monitor:catalogue")).status_code == 403


def test_a_researcher_enters_and_revises_a_value(researcher) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(researcher)
    assert client.get(reverse("monitor:values")).status_code == 200
    assert client.post(reverse("monitor:values"), ENTRY).status_code == 302
    cell = IndicatorValue.objects.get()
    assert (cell.dims, cell.source, cell.value) == ({"form": "sexual"}, "comensha", 612)
    again = client.post(reverse("monitor:values"), {**ENTRY, "value": "598"})
    assert again.status_code == 400 and "waarom" in again.content.decode()
    revised = client.post(reverse("monitor:values"),
                          {**ENTRY, "value": "598", "reason": "Dubbele registraties"})
    assert revised.status_code == 302
    history = client.get(reverse("monitor:value_history", args=[cell.pk])).content.decode()
    assert "612" in history and "598" in history and "Dubbele registraties" in history
    assert researcher.username in history
    assert AuditEntry.objects.filter(event__in=["monitor_value_entered",
                                                "monitor_value_revised"]).count() == 2


@pytest.mark.parametrize(("change", "message"), [
    ({"indicator": "AL1-02"}, "geldige keuze"),  # derived: never typed
    ({"dims": "form"}, "naam=waarde"),
    ({"dims": "shoe=42"}, "bestaat niet"),
    ({"value": "veel"}, "getal"),
    ({"lower": "700"}, "rond de waarde"),
    ({"publication": ""}, "verplicht"),
    ({"as_of": "2999-01-01"}, "toekomst"),
])
def test_bad_entries_get_a_sentence_and_store_nothing(researcher, change, message) -> None:  # type: ignore[no-untyped-def]
    response = verified_client(researcher).post(reverse("monitor:values"),
                                                {**ENTRY, **change})
    assert response.status_code == 400
    assert message in response.content.decode().lower()
    assert not IndicatorValue.objects.exists()


def test_own_values_stay_in_the_organisation(  # type: ignore[no-untyped-def]
        researcher, make_user: Callable[..., object], make_org: Callable[..., Organisation],
        staff_client: Callable[..., Client]) -> None:
    client = verified_client(researcher)
    assert client.post(reverse("monitor:values"),
                       {**ENTRY, "indicator": "AL1-01", "source": "own"}).status_code == 302
    cell = IndicatorValue.objects.get()
    assert cell.organisation == researcher.organisation
    elsewhere = staff_client(Role.RESEARCHER, make_org("Elders", OrganisationType.RESEARCH))
    assert elsewhere.get(reverse("monitor:value_history", args=[cell.pk])).status_code == 404
    assert client.get(reverse("monitor:value_history", args=[cell.pk])).status_code == 200
    coordinator = staff_client(Role.COORDINATOR, make_org("Min", OrganisationType.MINISTRY))
    assert coordinator.get(reverse("monitor:values")).status_code == 403
