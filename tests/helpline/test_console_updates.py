"""Consoles get diffs, and a process gets one channel-layer message per queue change.

Issue 12: with hundreds of chats every accept re-sent the queue, the colleagues and, to
supervisors, every live chat to every console, and the channel layer carried one message per
open connection. Now a console gets its state once (``snapshot``) and then ``update`` frames
with only what changed; the organisation's group has one member per process.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from zichtbaar.helpline.events import organisation_group

from .conftest import accept, start_chat

pytestmark = pytest.mark.django_db(transaction=True)




async def test_an_accept_reaches_other_consoles_as_a_small_update(
        layer, visitor_ws, staff_ws, counsellor, supervisor, make_user, helpline) -> None:  # type: ignore[no-untyped-def]
    from channels.db import database_sync_to_async

    from zichtbaar.accounts.roles import Role

    colleague = await database_sync_to_async(make_user)(Role.COUNSELLOR, helpline,
                                                        password=None)
    visitors = [await visitor_ws() for _ in range(3)]
    ids = [(await start_chat(v, f"hallo {n}"))["conversation"] for n, v in enumerate(visitors)]
    first = await staff_ws(counsellor)
    watcher = await staff_ws(colleague)
    boss = await staff_ws(supervisor)
    await watcher.send(type="availability", available=True)
    await watcher.expect_console(available=True, queue_ids=ids)
    await boss.expect_console(queue_ids=ids)
    await first.send(type="availability", available=True)
    await watcher.expect_console(colleagues=[{"id": counsellor.pk, "name": "Sanne"}])
    await watcher.drain()
    await boss.drain()

    await accept(first, ids[0])
    state = await watcher.expect_console(queue_ids=ids[1:])
    assert state["mine"] == []
    update = [f for f in watcher.frames if f["type"] in ("snapshot", "update")][-1]
    # Only the change: the accepted chat leaves the queue; nothing else is re-sent.
    assert update == {"type": "update", "queue": {"add": [], "remove": [ids[0]]}}
    boss_state = await boss.expect_console(queue_ids=ids[1:])
    assert [item["conversation"] for item in boss_state["live"]] == [ids[0]]
    boss_update = [f for f in boss.frames if f["type"] == "update"][-1]
    assert set(boss_update) <= {"type", "queue", "live"}
    assert [item["conversation"] for item in boss_update["live"]["add"]] == [ids[0]]
    # The accepting console learns its own chat (its own part was read again).
    assert (await first.expect_console(mine=[ids[0]]))["queue"][0]["conversation"] == ids[1]

    # A risk flag changes one item, sent once, in place; the order follows it.
    await boss.send(type="risk", conversation=ids[2], flag=True)
    state = await watcher.expect_console(queue_ids=[ids[2], ids[1]])
    assert state["queue"][0]["risk"] is True
    risk_update = [f for f in watcher.frames if f["type"] == "update"][-1]
    assert [item["conversation"] for item in risk_update["queue"]["add"]] == [ids[2]]
    # A console that asks gets its whole state again.
    await watcher.send(type="snapshot")
    full = await watcher.expect("snapshot")
    assert [item["conversation"] for item in full["queue"]] == [ids[2], ids[1]]
    for client in (*visitors, first, watcher, boss):
        await client.close()


async def test_nothing_is_sent_when_nothing_a_console_shows_changed(
        layer, visitor_ws, staff_ws, counsellor, supervisor) -> None:  # type: ignore[no-untyped-def]
    watcher = await staff_ws(supervisor)
    first = await staff_ws(counsellor)
    await first.send(type="availability", available=True)
    await watcher.expect_console(colleagues=[{"id": counsellor.pk, "name": "Sanne"}])
    await watcher.drain(0.8)
    # A new shift changes only that counsellor's own state (a queue change naming them).
    from channels.db import database_sync_to_async

    from zichtbaar.helpline import services

    await database_sync_to_async(services.shift_start)(actor=counsellor)
    await asyncio.sleep(0.8)  # past the refresh window
    assert [f for f in await watcher.drain(0.5) if f["type"] in ("snapshot", "update")] == []
    await first.close()
    await watcher.close()


async def test_the_organisation_group_has_one_member_per_process_not_per_socket(
        visitor_ws, staff_ws, counsellor, supervisor, helpline, settings) -> None:  # type: ignore[no-untyped-def]
    # The embedded layer shows its groups; Redis layers keep them on the server.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "zichtbaar.core.layers.ThrottledInMemoryChannelLayer"}}
    first = await staff_ws(counsellor)
    boss = await staff_ws(supervisor)
    visitors = [await visitor_ws() for _ in range(4)]
    for visitor in visitors:
        await start_chat(visitor)
    layer = get_channel_layer()
    members = layer.groups.get(organisation_group(helpline.pk), {})
    assert len(members) == 1
    # ... and every waiting visitor and console still hears of a change.
    await accept(first, (visitors[0].frames[0])["conversation"])
    for visitor in visitors[1:]:
        assert (await visitor.expect("queue", waiting=3))["position"] >= 1
    await boss.expect_console(queue_ids=[v.frames[0]["conversation"] for v in visitors[1:]])
    for client in (*visitors, first, boss):
        await client.close()
