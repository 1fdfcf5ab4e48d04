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


def test_suggestion_accepted_then_handover_confirmed_in_dutch(browser, live_server, world,
                                                              make_user, artifacts) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import verified_client
    from zichtbaar.accounts.roles import Role
    from zichtbaar.hub.models import Handover

    from .conftest import submit

    signal = submit(forms=["labour"], municipality="Venlo",
                    description="Synthetisch: de werkgever heeft de paspoorten ingenomen.")
    assert signal.score == 0
    analyst = make_user(Role.ANALYST, world.desk, password=None)
    session = verified_client(analyst).cookies["zb_session"].value
    context = browser.new_context(locale="nl-NL")
    context.add_cookies([{"name": "zb_session", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/hub/signalen/{signal.pk}/")
    suggestion = page.locator("[data-testid=suggestions] [data-code=FL07]")
    assert suggestion.locator(".badge").inner_text().strip() == "Suggestie"
    assert suggestion.locator("mark").all_inner_texts() == ["paspoorten", "ingenomen"]
    assert page.get_by_role("heading", name="Waarom deze score: 0").is_visible()
    suggestion.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "hub-suggestions.png"), full_page=True)
    suggestion.get_by_role("button", name="Accepteren").click()
    page.locator(".messages").wait_for()
    assert "Suggestie geaccepteerd" in page.locator(".messages").inner_text()
    assert page.get_by_role("heading", name="Waarom deze score: 3").is_visible()

    page.get_by_label("Overdragen aan een andere partner").select_option(label="Inspectie Test")
    page.locator("form[action$='/overdragen/']").get_by_role("button").click()
    preview = page.locator("[data-testid=handover-preview]")
    preview.wait_for()
    assert preview.locator("[data-testid=partner]").inner_text().strip() == "Inspectie Test"
    assert "Publieke taak (art. 6 lid 1 sub e AVG)" in preview.locator(
        "[data-testid=legal-basis]").inner_text()
    shared = preview.locator("[data-testid=shared-fields]").inner_text()
    withheld = preview.locator("[data-testid=withheld-fields]").inner_text()
    assert "Indicatoren" in shared and "FL07" in shared and "Venlo" in shared
    assert "Beschrijving" in withheld and "paspoorten" not in shared
    assert page.get_by_role("heading", name="3. Score: 3").is_visible()
    page.screenshot(path=str(artifacts / "hub-handover-confirm.png"), full_page=True)

    button = page.get_by_role("button", name="Overdragen aan Inspectie Test")
    button.click()  # without the tick: nothing happens
    page.locator(".messages").wait_for()
    assert "Er is niets overgedragen" in page.locator(".messages").inner_text()
    assert not Handover.objects.exists()
    # The refused POST answers 400 on purpose; chromium logs that status, nothing else.
    assert [e for e in errors if "status of 400" not in e] == []
    errors.clear()
    page.get_by_label("Ik heb de partner, de grondslag en de gegevens hierboven gecontroleerd"
                      ).check()
    page.get_by_role("button", name="Overdragen aan Inspectie Test").click()
    page.locator(".messages").wait_for()
    assert "Overgedragen aan Inspectie Test." in page.locator(".messages").inner_text()
    handover = Handover.objects.get()
    assert handover.signal_id == signal.pk and handover.partner == world.inspectorate
    assert errors == []
    context.close()
