"""The audit trail in Dutch in a real browser: labels instead of codes, local Dutch times."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation

from tests.browser.test_sign_in import code_for
from tests.conftest import PASSWORD
from zichtbaar.accounts.roles import Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.audit.record import record
from zichtbaar.core.formats import format_datetime
from zichtbaar.hub.events import HubAuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DUTCH_MOMENT = re.compile(
    r"^\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
    r"|november|december) \d{4} \d{2}:\d{2}:\d{2}$")


def test_auditor_reads_the_audit_trail_in_dutch(browser, live_server, make_user,
                                                artifacts) -> None:  # type: ignore[no-untyped-def]
    auditor = make_user(Role.AUDITOR, username="demo-auditor")
    # An event of another app, recorded as the hub records it.
    record(HubAuditEvent.HANDOVER_VIEWED, actor=auditor, object_type="hub_handover",
           object_id=7, purpose="toezicht")
    context = browser.new_context(locale="nl-NL", timezone_id="Europe/Amsterdam")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Gebruikersnaam").fill(auditor.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/accounts/verify/**")
    page.get_by_label("Code").fill(code_for(auditor))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("navigation", name="Hoofdnavigatie").get_by_role(
        "link", name="Auditlog").click()
    page.wait_for_url("**/audit/")
    table = page.locator("#results table")
    text = table.inner_text()
    for label in ("Ingelogd", "Tweede stap bevestigd", "Overdracht bekeken"):
        assert label in text
    for code in ("login_succeeded", "otp_verified", "hub_handover_viewed", "hub_handover"):
        assert code not in text, code
    assert "Overdracht 7" in text  # the record type's label and the record's number

    # Times in local Dutch form; the machine-readable moment stays in <time datetime>.
    entry = AuditEntry.objects.filter(event="otp_verified").latest("seq")
    cell = page.locator(f"#results tbody tr:has(td:text-is('{entry.seq}')) time")
    shown = cell.inner_text().strip()
    assert DUTCH_MOMENT.match(shown), shown
    with translation.override("nl"):
        assert shown == format_datetime(entry.created_at, seconds=True)
    local = timezone.localtime(entry.created_at)
    assert f"{local:%H:%M:%S}" in shown
    assert cell.get_attribute("datetime") == local.isoformat()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)

    # The event filter offers every app's events by their Dutch labels.
    page.get_by_label("Gebeurtenis").select_option(label="Tweede stap bevestigd")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url("**event=otp_verified**")
    rows = page.locator("#results tbody tr")
    assert rows.count() >= 1
    assert all("Tweede stap bevestigd" in rows.nth(i).inner_text()
               for i in range(rows.count()))
    page.get_by_label("Gebeurtenis").select_option(label="Alle gebeurtenissen")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url("**event=&**")
    page.screenshot(path=str(artifacts / "audit-dutch.png"), full_page=True)
    assert errors == []
    context.close()
