"""Queue flooding (issue 13, point 1): start tokens, caps, the grace period, bulk clearing.

An outside probe opened 60 visitor sockets, sent ``start`` on each and closed them: all 60
stayed waiting and a real visitor was told position 61. Here one client floods 500 starts
and the real visitors' positions stay what they would have been without it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest import mock

import pytest
from channels.db import database_sync_to_async

from zichtbaar.audit.models import AuditEntry
from zichtbaar.helpline import services
from zichtbaar.helpline.models import Conversation
from zichtbaar.helpline.start_tokens import start_token_issue

from .conftest import Client, accept, start_chat

pytestmark = pytest.mark.django_db(transaction=True)

FLOOD_SOCKETS = 50
STARTS_PER_SOCKET = 10  # below a connection's burst allowance: the caps refuse, not the rate


def expired_token(slug: str) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 86_400):
        return start_token_issue(slug)


def bad_tokens(slug: str) -> list[Any]:
    good = start_token_issue(slug)
    return [None, "", 12345, "x" * 50, "x" * 500, good[:-4] + "AAAA",
            start_token_issue("andere-hulplijn"), expired_token(slug)]


async def answers(client: Client, count: int) -> list[dict[str, Any]]:
    """The next ``count`` answers to ``start`` (``started`` or ``error``)."""
    got = []
    while len(got) < count:
        frame = await client.receive()
        if frame["type"] in ("started", "error"):
            got.append(frame)
    return got


async def waiting(visitor: Client, position: int, timeout: float = 30) -> dict[str, Any]:
    """Read until the visitor is told ``position`` (or was told it last: the server sends a
    queue frame only when what the visitor sees changed). 30 s: on a loaded CI machine the
    grace-period sweep after the flood once took longer than 15 s (PostgreSQL pass)."""
    told = [f for f in visitor.frames if f["type"] == "queue"]
    if told and told[-1]["position"] == position:
        return told[-1]
    deadline = time.monotonic() + timeout
    while True:
        frame = await visitor.expect("queue", timeout=max(0.1, deadline - time.monotonic()))
        if frame["position"] == position:
            return frame


async def console_queue(staff: Client, expected: list[int], timeout: float = 15) -> None:
    await staff.expect_console(timeout=timeout, queue_ids=expected)


@pytest.fixture
def short_grace(settings):  # type: ignore[no-untyped-def]
    settings.HELPLINE_GRACE_SECONDS = 1.0
    settings.HELPLINE_ACTIVE_GRACE_SECONDS = 1.5


async def test_500_flood_starts_from_one_client_leave_real_positions_unchanged(
        short_grace, helpline, visitor_ws, staff_ws, counsellor) -> None:  # type: ignore[no-untyped-def]
    staff = await staff_ws(counsellor)
    first = await visitor_ws()
    real_first = (await start_chat(first, "ik wacht al"))["conversation"]
    assert [f["position"] for f in first.frames if f["type"] == "queue"] == [1]

    # One client, 500 starts over 50 sockets: 20 sockets with no, broken, foreign or
    # expired tokens; 30 with the one page token that client has.
    page_token = start_token_issue(helpline.slug)
    flood = [await visitor_ws() for _ in range(FLOOD_SOCKETS)]
    bad = bad_tokens(helpline.slug)
    for index, client in enumerate(flood):
        for n in range(STARTS_PER_SOCKET):
            token = bad[(index + n) % len(bad)] if index < 20 else page_token
            await client.send(type="start", consent=True, nickname="flood",
                              start_token=token)
    replies = [frame for client in flood for frame in await answers(client,
                                                                    STARTS_PER_SOCKET)]
    assert len(replies) == 500
    flood_chats = {frame["conversation"] for frame in replies if frame["type"] == "started"}
    codes = {frame["code"] for frame in replies if frame["type"] == "error"}
    assert len(flood_chats) <= 1  # one page session, one open chat
    assert codes == {"start_token_missing", "start_token_invalid", "start_token_expired",
                     "too_many_chats"}
    for client in flood:
        await client.close()

    # The real visitor who was waiting never moved.
    assert {f["position"] for f in first.frames if f["type"] == "queue"} == {1}
    second = await visitor_ws()
    real_second = (await start_chat(second, "ik ook"))["conversation"]
    # The flood's one chat has no socket left: after the grace period it leaves the queue,
    # and the real visitors' positions are what they would be without the flood.
    await waiting(second, 2)
    await console_queue(staff, [real_first, real_second])
    assert {f["position"] for f in first.frames if f["type"] == "queue"} == {1}
    stored = await database_sync_to_async(lambda: {
        c.pk: (c.status, c.end_reason) for c in Conversation.objects.all()})()
    assert stored[real_first] == stored[real_second] == ("queued", "")
    assert all(stored[pk] == ("ended", "abandoned") for pk in flood_chats)
    assert len(stored) == 2 + len(flood_chats)
    for client in (first, second, staff):
        await client.close()


async def test_bad_or_expired_start_tokens_get_a_clear_message_in_the_visitors_language(
        helpline, visitor_ws) -> None:  # type: ignore[no-untyped-def]
    visitor = await visitor_ws()
    expected = {None: "start_token_missing", "": "start_token_missing",
                12345: "start_token_missing", "x" * 500: "start_token_invalid",
                "knoeiwerk": "start_token_invalid",
                start_token_issue("andere-hulplijn"): "start_token_invalid",
                expired_token(helpline.slug): "start_token_expired"}
    for token, code in expected.items():
        await visitor.send(type="start", consent=True, start_token=token, ref="s")
        error = await visitor.expect("error")
        assert (error["code"], error["ref"]) == (code, "s")
        assert "Herlaad de pagina" in error["message"]
        await visitor.send(type="start", consent=True, start_token=token, language="en")
        error = await visitor.expect("error")
        assert error["code"] == code and "Reload the page" in error["message"]
    await visitor.send(type="ping")
    await visitor.expect("pong")  # never a crash: the connection still works
    await start_chat(visitor)  # and a good token still starts
    count = await database_sync_to_async(Conversation.objects.count)()
    assert count == 1
    await visitor.close()


async def test_a_waiting_cap_refuses_with_an_honest_message_and_keeps_positions(
        settings, helpline, visitor_ws) -> None:  # type: ignore[no-untyped-def]
    settings.HELPLINE_MAX_WAITING = 3
    real = await visitor_ws()
    await start_chat(real, "hallo")
    farmed = [await visitor_ws() for _ in range(4)]  # each with its own page session
    for client in farmed[:2]:
        await start_chat(client)
    await farmed[2].send(type="start", consent=True, start_token=farmed[2].start_token)
    dutch = await farmed[2].expect("error")
    await farmed[3].send(type="start", consent=True, language="en",
                         start_token=farmed[3].start_token)
    english = await farmed[3].expect("error")
    assert dutch["code"] == english["code"] == "queue_full"
    assert "te veel mensen" in dutch["message"] and "112" in dutch["message"]
    assert "too many people are waiting" in english["message"] and "112" in english["message"]
    await real.drain()
    assert {f["position"] for f in real.frames if f["type"] == "queue"} == {1}
    assert await database_sync_to_async(services.waiting_chats(helpline.pk).count)() == 3
    for client in (real, *farmed):
        await client.close()


async def test_closed_socket_leaves_after_the_grace_period_and_may_resume_within_it(
        short_grace, helpline, visitor_ws, staff_ws, counsellor) -> None:  # type: ignore[no-untyped-def]
    staff = await staff_ws(counsellor)
    leaving = await visitor_ws()
    started = await start_chat(leaving)
    gone, token = started["conversation"], started["token"]
    staying = await visitor_ws()
    stays = (await start_chat(staying))["conversation"]
    assert [f["position"] for f in staying.frames if f["type"] == "queue"] == [2]

    await leaving.close()  # without "end"; back within the grace period
    again = await visitor_ws()
    await again.send(type="resume", token=token, last_seq=0)
    await again.expect("resumed")
    assert (await again.expect("queue"))["position"] == 1
    await asyncio.sleep(2.5)  # well past the grace period, with the socket open
    status = await database_sync_to_async(
        lambda: Conversation.objects.get(pk=gone).status)()
    assert status == "queued"

    await again.close()  # and now for good
    await waiting(staying, 1)
    await console_queue(staff, [stays])
    ended = await database_sync_to_async(Conversation.objects.get)(pk=gone)
    assert (ended.status, ended.end_reason) == ("ended", "abandoned")
    late = await visitor_ws()  # a resume after the grace period finds the chat ended
    await late.send(type="resume", token=token, last_seq=0)
    await late.expect("status", status="ended")

    # A chat with a counsellor ends after its own (here also short) grace period.
    await accept(staff, stays)
    await staying.expect("status", status="active")
    await staying.close()
    await staff.expect("status", conversation=stays, status="ended", end_reason="disconnected")
    await staff.drain()
    lines = [f["text"] for f in staff.frames if f["type"] == "message"
             and f["conversation"] == stays and f["sender"] == "system"]
    assert "verbinding" in lines[-1]
    for client in (late, staff):
        await client.close()


async def test_supervisor_clears_a_flood_in_bulk_and_it_is_audited(
        helpline, visitor_ws, supervisor, counsellor) -> None:  # type: ignore[no-untyped-def]
    real = await visitor_ws()
    kept = (await start_chat(real, "ik heb echt hulp nodig"))["conversation"]
    silent = await visitor_ws()
    cleared_live = (await start_chat(silent))["conversation"]
    flood = [(await database_sync_to_async(services.conversation_start)(
        organisation_id=helpline.pk, consent=True, page_key=f"page-{n}"))[0].pk
        for n in range(5)]

    def post(user: Any, **data: str) -> Any:
        from tests.conftest import verified_client

        return verified_client(user).post("/helpline/queue/clear/", data)

    assert (await database_sync_to_async(post)(counsellor, scope="silent",
                                                 confirm="yes")).status_code == 403
    unconfirmed = await database_sync_to_async(post)(supervisor, scope="silent")
    assert unconfirmed.status_code == 302
    assert await database_sync_to_async(services.waiting_chats(helpline.pk).count)() == 7

    def team_page() -> str:
        from tests.conftest import verified_client

        return verified_client(supervisor).get("/helpline/team/").content.decode()

    assert "6 wachtende chats zonder bericht" in await database_sync_to_async(team_page)()
    response = await database_sync_to_async(post)(supervisor, scope="silent", confirm="yes")
    assert response.status_code == 302 and response["Location"].endswith("/helpline/team/")

    await silent.expect("status", status="ended")  # the visitor sees the end
    rows = await database_sync_to_async(lambda: {
        c.pk: (c.status, c.end_reason) for c in Conversation.objects.all()})()
    assert rows[kept] == ("queued", "")
    assert {rows[pk] for pk in [cleared_live, *flood]} == {("ended", "cleared")}
    entry = await database_sync_to_async(
        AuditEntry.objects.get)(event="helpline_queue_cleared")
    assert entry.detail["count"] == 6 and entry.detail["scope"] == "silent"
    assert sorted(entry.detail["chats"]) == sorted([cleared_live, *flood])
    assert entry.actor_id == supervisor.pk
    await real.drain()
    assert {f["position"] for f in real.frames if f["type"] == "queue"} == {1}
    for client in (real, silent):
        await client.close()
