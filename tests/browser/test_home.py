"""The home page's live work in headless chromium: sign in, see the card, watch it refresh."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.core import home
from zichtbaar.helpline import services as helpline_services
from zichtbaar.hub import services as hub_services
from zichtbaar.hub.models import Channel, Signal
from zichtbaar.hub.services import SignalInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET_TEXT = "Geheime beschrijving van het slachtoffer"


def code_for(user) -> str:  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def start_chat(organisation_id: int, nickname: str = "") -> None:
    """A visitor starts a chat, in a thread of its own: the start notifies consoles through
    ``async_to_sync``, which cannot run in this thread beside Playwright's event loop."""
    errors: list[BaseException] = []

    def start() -> None:
        try:
            helpline_services.conversation_start(organisation_id=organisation_id, consent=True,
                                                 nickname=nickname)
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def sign_in(browser, live_server, user):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/accounts/verify/**")
    page.get_by_label("Code").fill(code_for(user))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page, errors


def test_counsellor_sees_the_waiting_chat_and_the_count_refreshes(
        browser, live_server, make_org, make_user, artifacts, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    monkeypatch.setattr(home, "POLL_SECONDS", 1)  # the page asks for every 1s instead of 30s
    helpline = make_org("Hulplijn Browser", OrganisationType.CARE_NGO)
    config = helpline_services.settings_for(helpline.pk)
    config.always_open = True
    config.save()
    start_chat(helpline.pk, nickname="Roos-bijnaam")
    user = make_user(Role.COUNSELLOR, helpline, first_name="Sanne")
    context, page, errors = sign_in(browser, live_server, user)
    card = page.locator("[data-card=helpline]")
    assert card.get_by_role("heading", name="Hulplijn").is_visible()
    assert card.locator("[data-count=waiting]").inner_text() == "1"
    assert card.locator("[data-count=my-chats]").inner_text() == "0"
    assert card.get_by_role("link", name="Chatconsole openen").get_attribute("href") == \
        "/helpline/"
    share = page.get_by_label(f"Chatten met {helpline.name}")
    assert share.input_value() == f"{live_server.url}/chat/{helpline.slug}/"
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Kopiëren").first.click()
    expect(page.locator(f"#{share.get_attribute('id')}-status")).to_have_text("Gekopieerd")
    assert page.evaluate("navigator.clipboard.readText()") == share.input_value()
    assert page.get_by_label("Signaal melden").input_value() == f"{live_server.url}/melden/"
    assert "Roos-bijnaam" not in page.content()
    # A second visitor arrives: the next refresh shows it without a reload.
    start_chat(helpline.pk)
    expect(page.locator("[data-card=helpline] [data-count=waiting]")).to_have_text(
        "2", timeout=10_000)
    assert page.evaluate("document.activeElement.tagName") != "H3"  # refresh keeps focus
    page.screenshot(path=str(artifacts / "home-counsellor.png"), full_page=True)
    assert errors == []  # no CSP violation, no script error
    context.close()


def test_analyst_sees_the_overdue_signal(browser, live_server, make_org, make_user,
                                         artifacts) -> None:  # type: ignore[no-untyped-def]
    desk = make_org("Meldpunt Browser", OrganisationType.REPORTING_POINT)
    signal = hub_services.signal_submit(
        channel=Channel.PROFESSIONAL, organisation=desk,
        data=SignalInput(minor=True, description=SECRET_TEXT,
                         received_at=timezone.now() - dt.timedelta(hours=6))).signal
    hub_services.signal_submit(channel=Channel.PROFESSIONAL, organisation=desk,
                               data=SignalInput(description=SECRET_TEXT))
    user = make_user(Role.ANALYST, desk, first_name="Mila")
    context, page, errors = sign_in(browser, live_server, user)
    card = page.locator("[data-card=signals]")
    assert card.get_by_role("heading", name="Signalen").is_visible()
    counts = {name: card.locator(f"[data-count={name}]").inner_text()
              for name in ("open", "urgent", "overdue", "urgent-overdue")}
    assert counts == {"open": "2", "urgent": "1", "overdue": "1", "urgent-overdue": "1"}
    oldest = card.get_by_role("link", name=signal.reference)
    assert oldest.get_attribute("href") == f"/hub/signalen/{signal.pk}/"
    assert card.get_by_text("te laat").first.is_visible()
    assert page.locator("[data-card=watch]").count() == 1  # a reporting point watches ads
    assert SECRET_TEXT not in page.content()
    page.screenshot(path=str(artifacts / "home-analyst.png"), full_page=True)
    oldest.click()
    page.wait_for_url(f"**/hub/signalen/{signal.pk}/")
    assert Signal.objects.filter(pk=signal.pk).exists()
    assert errors == []
    context.close()
