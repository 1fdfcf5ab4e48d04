"""The public reporting form in Dutch, in headless Debian chromium (no console errors)."""

from __future__ import annotations

import pytest

from zichtbaar.accounts.roles import OrganisationType
from zichtbaar.hub.models import Signal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_report_in_dutch_gives_a_receipt_code(browser, live_server, make_org,
                                                     artifacts) -> None:  # type: ignore[no-untyped-def]
    make_org("Meldpunt Browser", OrganisationType.REPORTING_POINT)
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/melden/")
    assert page.get_by_role("heading", name="Vermoeden van mensenhandel melden").is_visible()
    page.get_by_label("Gaat het om werk, bijvoorbeeld in een bedrijf").check()
    page.get_by_label("Heeft iemand anders het paspoort of ID-bewijs van de persoon?").check()
    page.get_by_label("Wat is er gebeurd?").fill("Synthetisch: arbeiders slapen in de loods.")
    page.get_by_label("Waar (plaats)?").fill("Westland")
    page.screenshot(path=str(artifacts / "hub-public-report.png"), full_page=True)
    page.get_by_role("button", name="Melding versturen").click()
    page.wait_for_selector("[data-testid=receipt]")
    receipt = page.locator("[data-testid=receipt]").inner_text().strip()
    assert len(receipt) == 19
    assert page.get_by_role("heading", name="Dank voor uw melding").is_visible()
    signal = Signal.objects.get()
    assert signal.indicators == ["FL07"] and signal.forms == ["labour"]
    page.get_by_role("link", name="Informatie toevoegen aan een eerdere melding").click()
    page.get_by_label("Uw ontvangstcode").fill(receipt)
    page.get_by_label("Wat wilt u aanvullen?").fill("Synthetisch: ook kinderen gezien.")
    page.get_by_role("button", name="Versturen").click()
    assert page.get_by_role("heading", name="Informatie toegevoegd").is_visible()
    assert signal.updates.count() == 1
    assert errors == []
    context.close()
