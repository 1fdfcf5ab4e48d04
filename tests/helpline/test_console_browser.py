"""The counsellor console in a real browser (issue 14, points 1 and 2).

Two visitors: their chats open as tabs with one in focus, a line in the other tab shows an
unread badge, the send button names the visitor, a new chat in the queue is announced; a
visitor who closes the browser shows as gone, and the counsellor closes the chat as
abandoned and codes it with the core questions only.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from zichtbaar.helpline.models import Coding, Conversation

from .conftest import open_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _visitor(browser, base: str, slug: str, nickname: str, errors: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/chat/{slug}/")
    page.get_by_label("Schuilnaam").fill(nickname)
    page.get_by_label("hulpverleners mijn berichten lezen").check()
    page.get_by_role("button", name="Chat starten").click()
    page.get_by_text(re.compile("in de wachtrij")).first.wait_for()
    return context, page


def test_tabs_unread_badges_presence_and_close_as_abandoned(
        browser, asgi_server, helpline, counsellor, artifacts) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    staff_context, staff = open_console(browser, asgi_server, counsellor, errors)
    staff.get_by_label("Geluid en melding bij een nieuwe chat").check()
    staff.get_by_text("Geen open chats").wait_for()

    first_context, first = _visitor(browser, asgi_server, helpline.slug, "Vlinder", errors)
    # The new chat is announced (a live region; sound and notification when switched on).
    expect(staff.locator("#alert-live")).to_have_text(
        re.compile("Nieuwe chat in de wachtrij"))
    second_context, second = _visitor(browser, asgi_server, helpline.slug, "Merel", errors)
    staff.get_by_role("button", name="Aannemen: Vlinder").click()
    staff.get_by_role("tab", name=re.compile("Vlinder")).wait_for()
    staff.get_by_role("button", name="Aannemen: Merel").click()
    merel_tab = staff.get_by_role("tab", name=re.compile("Merel"))
    vlinder_tab = staff.get_by_role("tab", name=re.compile("Vlinder"))
    merel_tab.wait_for()
    # One chat in focus: the newly accepted one; the other panel is hidden.
    assert merel_tab.get_attribute("aria-selected") == "true"
    assert vlinder_tab.get_attribute("aria-selected") == "false"
    assert staff.locator(".chat-panel:visible").count() == 1
    send = staff.locator(".chat-panel:visible").get_by_role("button", name="Stuur naar Merel")
    assert send.is_visible()
    visible_panel = staff.locator(".chat-panel:visible")
    assert visible_panel.get_by_text("bezoeker verbonden").is_visible()
    # Closing as abandoned is offered only once the visitor is gone.
    assert not visible_panel.get_by_role("button", name="Sluiten als verlaten").is_visible()

    # A line in the chat that is not in focus: an unread badge on its tab.
    first.get_by_label("Je bericht").fill("Ben je er nog?")
    first.get_by_role("button", name="Versturen").click()
    vlinder_tab.get_by_text("1 nieuw").wait_for()
    staff.screenshot(path=str(artifacts / "console-tabs-unread.png"), full_page=True)
    vlinder_tab.click()
    panel = staff.locator(".chat-panel:visible")
    panel.get_by_text("Ben je er nog?").wait_for()
    assert not vlinder_tab.get_by_text("1 nieuw").is_visible()
    panel.get_by_label("Bericht").fill("Ja, ik ben er.")
    panel.get_by_role("button", name="Stuur naar Vlinder").click()
    first.get_by_text("Ja, ik ben er.").wait_for()
    # Merel never saw the line meant for Vlinder.
    assert second.get_by_text("Ja, ik ben er.").count() == 0

    # Merel closes the browser without ending: the console shows she is gone.
    second_context.close()
    merel_tab.click()
    panel = staff.locator(".chat-panel:visible")
    panel.get_by_text(re.compile(r"bezoeker weg sinds \d\d:\d\d")).wait_for()
    staff.screenshot(path=str(artifacts / "console-visitor-gone.png"), full_page=True)
    staff.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Sluiten als verlaten").click()
    panel.get_by_text("gesloten omdat je weg leek te zijn").wait_for()
    merel = Conversation.objects.get(pk=int(merel_tab.get_attribute("data-conversation")))
    assert merel.end_reason == Conversation.EndReason.VISITOR_GONE
    vlinder = Conversation.objects.get(pk=int(vlinder_tab.get_attribute("data-conversation")))
    assert vlinder.status == Conversation.Status.ACTIVE  # the other chat is untouched

    panel.get_by_role("link", name="Deze chat coderen").click()
    staff.get_by_text("alleen de kernvragen zijn verplicht").wait_for()
    staff.screenshot(path=str(artifacts / "coding-short.png"), full_page=True)
    staff.get_by_label("Hulpvraag over mensenhandel").select_option("unsure")
    staff.get_by_label("Risiconiveau").select_option("low")
    staff.get_by_role("button", name="Codering afronden").click()
    staff.wait_for_url(f"{asgi_server}/helpline/")
    coding = Coding.objects.get(conversation=merel)
    assert coding.complete and coding.values["gender"] == "unknown"
    assert errors == []
    for context in (staff_context, first_context):
        context.close()


def test_an_idle_chat_is_announced_then_closed_on_both_sides(
        browser, asgi_server, helpline, counsellor, artifacts, settings) -> None:  # type: ignore[no-untyped-def]
    # Short times for the test: the presence loop then sweeps every half second.
    settings.HELPLINE_GRACE_SECONDS = 2
    settings.HELPLINE_IDLE_MINUTES = 0.15  # 9 s without a line
    settings.HELPLINE_IDLE_WARNING_MINUTES = 0.1  # announced 6 s before
    errors: list[str] = []
    staff_context, staff = open_console(browser, asgi_server, counsellor, errors)
    visitor_context, visitor = _visitor(browser, asgi_server, helpline.slug, "Roos", errors)
    staff.get_by_role("button", name="Aannemen: Roos").click()
    panel = staff.locator(".chat-panel:visible")
    visitor.get_by_text("Je chat met een hulpverlener.").wait_for()
    # Nobody writes: both sides are told first, then the chat closes for both.
    warning = re.compile("Zonder nieuw bericht sluit deze chat over")
    visitor.get_by_text(warning).wait_for(timeout=20_000)
    panel.get_by_text(warning).wait_for(timeout=20_000)
    closed = "daarom is deze chat gesloten"
    visitor.get_by_text(closed).wait_for(timeout=20_000)
    panel.get_by_text(closed).wait_for(timeout=20_000)
    staff.screenshot(path=str(artifacts / "console-idle-closed.png"), full_page=True)
    chat = Conversation.objects.get(pk=int(panel.get_attribute("data-conversation")))
    assert (chat.status, chat.end_reason) == ("ended", Conversation.EndReason.IDLE)
    assert errors == []
    for context in (staff_context, visitor_context):
        context.close()
