"""Estimates from the hub's linked capture histories (a frozen snapshot per run)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import verified_client
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.estimate.web.models import EstimateRun, RunStatus

pytestmark = pytest.mark.django_db

FORM = {"method": "main", "ci": "default", "strata": "", "seed": "1234"}


def submit(channel: str, people: list[tuple[str, str]], when: dt.datetime) -> None:
    from zichtbaar.hub import services as hub

    hub.signal_submit(channel=channel, data=hub.SignalInput(
        received_at=when,
        persons=[hub.PersonInput(given_name=g, surname="Synthetisch", date_of_birth=d)
                 for g, d in people]))


def test_hub_period_becomes_a_stored_snapshot_run(researcher, make_org) -> None:  # type: ignore[no-untyped-def]
    make_org("Meldpunt Test", OrganisationType.REPORTING_POINT)  # the hub's signal desk
    when = timezone.now() - dt.timedelta(days=3)
    # Synthetic people; three are registered by two channels, which links them.
    both = [(f"Persoon{i}", f"1990-01-{i + 1:02d}") for i in range(3)]
    submit("public_form", both + [(f"Alleen{i}", f"1985-02-{i + 1:02d}") for i in range(5)], when)
    submit("helpline", both + [(f"Ander{i}", f"1980-03-{i + 1:02d}") for i in range(4)], when)
    client = verified_client(researcher)
    today = timezone.localdate()
    response = client.post("/estimate/new/hub/", {
        **FORM, "period_start": (today - dt.timedelta(days=30)).isoformat(),
        "period_end": today.isoformat()})
    run = EstimateRun.objects.get()
    assert response.status_code == 302, response.context["form"].errors
    assert run.source == "hub"
    text = run.input_bytes.decode()
    assert text.splitlines()[0].startswith("helpline,public_form")
    assert len(text.splitlines()) == 1 + 12  # one row per linked person
    assert "Persoon" not in text  # pseudonymous rows only
    call_command("run_estimates")
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error_en
    assert run.result["observed"] == 12
    # Lincoln-Petersen for two lists: 8 * 7 / 3.
    assert run.result["estimate"] == pytest.approx(8 * 7 / 3, rel=1e-6)


def test_empty_hub_period_is_a_form_message_and_stores_nothing(researcher) -> None:
    response = verified_client(researcher).post("/estimate/new/hub/", {
        **FORM, "period_start": "2001-01-01", "period_end": "2001-12-31"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors(), response.context["form"].errors
    assert "geen gekoppelde slachtoffers" in response.content.decode()
    assert EstimateRun.objects.count() == 0


def test_hub_source_needs_the_hub_export_capability(staff_client, research_org) -> None:  # type: ignore[no-untyped-def]
    admin = staff_client(Role.ADMIN, research_org)
    assert admin.get("/estimate/new/hub/").status_code == 403
    assert "/estimate/new/hub/" not in admin.get("/estimate/new/").content.decode()
    researcher = staff_client(Role.RESEARCHER, research_org)
    assert "/estimate/new/hub/" in researcher.get("/estimate/new/").content.decode()
