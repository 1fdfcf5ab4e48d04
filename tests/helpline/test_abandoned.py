"""Abandoned chats (issue 14): presence in the console, idle chats closed with a notice to
both sides, and "close as abandoned" with a shortened coding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from zichtbaar.helpline import codebook, services
from zichtbaar.helpline.errors import HelplineError
from zichtbaar.helpline.models import Conversation, Message

from .conftest import accept, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_console_sees_the_visitor_go_and_come_back(
        visitor_ws, staff_ws, counsellor) -> None:  # type: ignore[no-untyped-def]
    visitor = await visitor_ws()
    started = await start_chat(visitor, "hallo")
    conversation = started["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    chat = [f for f in staff.frames if f["type"] == "chat"][-1]
    assert chat["visitor_connected"] is True and chat["visitor_gone_since"] is None

    await visitor.close()  # the browser was closed without ending
    gone = await staff.expect("presence", conversation=conversation)
    assert gone["connected"] is False and gone["since"]
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert stored.status == Conversation.Status.ACTIVE and stored.visitor_left_at is not None
    # A console that (re)joins now sees it too.
    await staff.send(type="join", conversation=conversation, last_seq=0)
    rejoined = await staff.expect("chat", conversation=conversation)
    assert rejoined["visitor_connected"] is False and rejoined["visitor_gone_since"]

    back = await visitor_ws()
    await back.send(type="resume", token=started["token"], last_seq=0)
    await back.expect("resumed")
    assert (await staff.expect("presence", conversation=conversation))["connected"] is True
    await back.close()
    await staff.close()


async def test_close_as_abandoned_tells_the_visitor_and_shortens_the_coding(
        visitor_ws, staff_ws, counsellor) -> None:  # type: ignore[no-untyped-def]
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "hoi"))["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    await staff.send(type="end", conversation=conversation, reason="weg")
    assert (await staff.expect("error"))["code"] == "malformed"
    await staff.send(type="end", conversation=conversation, reason="abandoned")
    ended = await visitor.expect("status", status="ended")
    assert ended
    notice = [t for _s, sender, t in visitor.messages() if sender == "system"][-1]
    assert "weg leek te zijn" in notice
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert stored.end_reason == Conversation.EndReason.VISITOR_GONE

    # Only the core questions are required; the rest default to "unknown".
    coding, errors = await database_sync_to_async(services.coding_save)(
        conversation_id=conversation, actor=counsellor, complete=True,
        values={"help_question_trafficking": "unsure"})
    assert errors == {"risk_level": "required"}
    coding, errors = await database_sync_to_async(services.coding_save)(
        conversation_id=conversation, actor=counsellor, complete=True,
        values={"help_question_trafficking": "unsure", "risk_level": "low"})
    assert errors == {} and coding.complete
    assert coding.values["gender"] == "unknown" and coding.values["visitor_role"] == "unknown"
    await visitor.close()
    await staff.close()


def test_an_ordinary_chat_still_needs_the_full_coding(helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    book = codebook.load()
    _clean, errors = codebook.validate({"help_question_trafficking": "no",
                                        "risk_level": "low"}, book)
    assert set(errors) == {"visitor_role", "age_band", "gender"}
    _clean, errors = codebook.validate({"help_question_trafficking": "no",
                                        "risk_level": "low"}, book, short=True)
    assert errors == {}


def _active_chat(helpline, counsellor) -> Conversation:  # type: ignore[no-untyped-def]
    conversation, _token = services.conversation_start(organisation_id=helpline.pk,
                                                       consent=True)
    services.availability_set(actor=counsellor, available=True)
    services.conversation_accept(conversation_id=conversation.pk, actor=counsellor)
    return Conversation.objects.get(pk=conversation.pk)


def test_an_idle_chat_is_warned_then_closed_and_a_new_line_cancels_it(
        helpline, counsellor, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPLINE_IDLE_MINUTES = 20
    settings.HELPLINE_IDLE_WARNING_MINUTES = 3
    chat = _active_chat(helpline, counsellor)
    services.message_post(conversation_id=chat.pk, sender=Message.Sender.VISITOR,
                          text="ben er nog", client_id="v1")
    now = timezone.now()
    system_lines = Message.objects.filter(conversation=chat, sender="system").count()
    assert services.conversations_idle_sweep(now=now + timedelta(minutes=16)) == 0
    assert Message.objects.filter(conversation=chat, sender="system").count() == system_lines

    # 17 minutes silent: both sides are told it closes in 3 minutes.
    assert services.conversations_idle_sweep(now=now + timedelta(minutes=17, seconds=5)) == 0
    warning = Message.objects.filter(conversation=chat, sender="system").latest("seq")
    assert "over 3 minuten" in warning.text
    # Warned once, not on every sweep (the text is encrypted: count the lines).
    services.conversations_idle_sweep(now=now + timedelta(minutes=18))
    assert Message.objects.filter(conversation=chat,
                                  sender="system").count() == system_lines + 1

    # The visitor writes: the closing is off, the chat stays open.
    Message.objects.filter(conversation=chat).update(created_at=now + timedelta(minutes=18))
    services.message_post(conversation_id=chat.pk, sender=Message.Sender.COUNSELLOR,
                          text="ik ben er", client_id="c1", actor=counsellor)
    Message.objects.filter(conversation=chat, client_id="c1").update(
        created_at=now + timedelta(minutes=19))
    assert services.conversations_idle_sweep(now=now + timedelta(minutes=21)) == 0
    assert Conversation.objects.get(pk=chat.pk).status == Conversation.Status.ACTIVE

    # Silent again long enough: warned again, then closed with a notice.
    services.conversations_idle_sweep(now=now + timedelta(minutes=19 + 17, seconds=1))
    assert services.conversations_idle_sweep(now=now + timedelta(minutes=19 + 20, seconds=2)) == 1
    closed = Conversation.objects.get(pk=chat.pk)
    assert (closed.status, closed.end_reason) == ("ended", Conversation.EndReason.IDLE)
    assert "daarom is deze chat gesloten" in (
        Message.objects.filter(conversation=chat).latest("seq").text)


def test_idle_closing_can_be_switched_off(helpline, counsellor, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPLINE_IDLE_MINUTES = 0
    chat = _active_chat(helpline, counsellor)
    assert services.conversations_idle_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert Conversation.objects.get(pk=chat.pk).status == Conversation.Status.ACTIVE


def test_only_the_chats_counsellor_can_close_it_as_abandoned(
        helpline, counsellor, make_user) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.accounts.roles import Role

    chat = _active_chat(helpline, counsellor)
    colleague = make_user(Role.COUNSELLOR, helpline, password=None)
    with pytest.raises(HelplineError):
        services.conversation_end_by_staff(conversation_id=chat.pk, actor=colleague,
                                           abandoned=True)
    assert Conversation.objects.get(pk=chat.pk).status == Conversation.Status.ACTIVE
