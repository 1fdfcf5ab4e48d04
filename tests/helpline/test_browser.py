"""Visitor and counsellor in two browser contexts against a real ASGI server (uvicorn).

A message goes both ways, quick exit leaves no history entry and no storage and ends the
chat for the counsellor, who then codes it; the statistics page counts it.
"""

from __future__ import annotations

import pytest

from zichtbaar.helpline.models import Coding, Conversation

from .conftest import open_console, session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEUTRAL = "https://www.buienradar.nl/"


def test_visitor_and_counsellor_chat_quick_exit_coding_and_stats(
        browser, asgi_server, helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    staff_context, staff = open_console(browser, asgi_server, counsellor, errors)

    visitor_context = browser.new_context(locale="nl-NL")
    visitor_context.route(f"{NEUTRAL}**", lambda route: route.fulfill(
        body="<title>Weer</title>neutraal", content_type="text/html"))
    visitor = visitor_context.new_page()
    visitor.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    visitor.goto(f"{asgi_server}/chat/{helpline.slug}/")
    assert visitor.title() == "Chat"
    visitor.get_by_role("button", name="Chat starten").click()
    visitor.get_by_role("alert").filter(has_text="akkoord").wait_for()  # consent first
    visitor.get_by_label("Schuilnaam").fill("<img src=x onerror=alert(1)>")
    visitor.get_by_label("hulpverleners mijn berichten lezen").check()
    visitor.get_by_role("button", name="Chat starten").click()
    visitor.get_by_text("Je bent nummer 1 in de wachtrij").wait_for()
    visitor.get_by_label("Je bericht").fill("Hoi, <b>mag</b> ik iets vragen?")
    visitor.get_by_role("button", name="Versturen").click()

    staff.get_by_role("button", name="Aannemen: <img src=x onerror=alert(1)>").click()
    panel = staff.locator(".chat-panel")
    panel.get_by_text("Hoi, <b>mag</b> ik iets vragen?").wait_for()
    panel.get_by_label("Bericht").fill("Natuurlijk. Ben je nu veilig?")
    panel.get_by_role("button", name="Stuur naar <img src=x onerror=alert(1)>").click()
    visitor.get_by_text("Natuurlijk. Ben je nu veilig?").wait_for()
    visitor.get_by_text("Je chat met een hulpverlener.").wait_for()

    visitor.evaluate("localStorage.setItem('probe', '1'); sessionStorage.setItem('probe', '1')")
    visitor.keyboard.press("Escape")
    visitor.wait_for_url(f"{NEUTRAL}**")
    visitor.go_back()
    assert "/chat/" not in visitor.url  # the chat page was replaced, not pushed
    check = visitor_context.new_page()
    check.goto(f"{asgi_server}/chat/{helpline.slug}/veilig-browsen/")
    assert check.evaluate("localStorage.length + sessionStorage.length") == 0

    panel.get_by_text("De bezoeker heeft de chat verlaten (snel weg).").wait_for()
    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.end_reason) == ("ended", "quick_exit")
    panel.get_by_role("link", name="Deze chat coderen").click()
    staff.get_by_label("Hulpvraag over mensenhandel").select_option("yes")
    staff.get_by_label("Wie chat er").select_option("victim")
    staff.get_by_label("Leeftijd").select_option("16_17")
    staff.get_by_label("Gender").select_option("girl_woman")
    staff.get_by_label("Risiconiveau").select_option("medium")
    staff.get_by_label("Seksueel").check()
    staff.get_by_role("button", name="Codering afronden").click()
    staff.wait_for_url(f"{asgi_server}/helpline/")
    assert Coding.objects.get().complete

    supervisor_context = browser.new_context(locale="nl-NL")
    from zichtbaar.accounts.roles import Role
    from zichtbaar.accounts.services import totp_device_create_confirmed, user_create

    boss = user_create(username="chef", password=None, organisation=helpline,
                       roles={Role.SUPERVISOR})
    totp_device_create_confirmed(user=boss)
    supervisor_context.add_cookies([{"name": "zb_session", "url": asgi_server,
                                     "value": session_cookie(boss).decode().split("=", 1)[1]}])
    stats = supervisor_context.new_page()
    stats.goto(f"{asgi_server}/helpline/stats/")
    assert stats.locator("#stat-chats").inner_text() == "<5"
    assert stats.locator("#stat-trafficking").inner_text() == "<5"
    assert errors == []
    for context in (staff_context, visitor_context, supervisor_context):
        context.close()
