"""The process-wide queue read behind queue refreshes, and the embedded channel layer.

A storm of queue changes must cost a few reads of the queue, not one per waiting visitor
and console; yet no refresh may get a state read before the change it reacts to.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from zichtbaar.core.layers import ThrottledInMemoryChannelLayer
from zichtbaar.helpline import consumers, selectors, services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real queue reads (the real selector still runs)."""
    calls: list[int] = []
    real = selectors.queue_state

    def counting(organisation_id: int, level: int = selectors.SUPERVISOR,
                 ) -> selectors.QueueState:
        calls.append(organisation_id)
        return real(organisation_id, level)

    monkeypatch.setattr(selectors, "queue_state", counting)
    monkeypatch.setattr(consumers, "SHARED_QUEUE", consumers._SharedQueueState())
    return calls


async def test_concurrent_refreshes_share_one_read(helpline, reads) -> None:  # type: ignore[no-untyped-def]
    await database_sync_to_async(services.conversation_start)(
        organisation_id=helpline.pk, consent=True)
    shared = consumers.SHARED_QUEUE
    since = shared.mark_changed(helpline.pk, "event-1")
    states = await asyncio.gather(*(shared.after(helpline.pk, since) for _ in range(200)))
    assert len(reads) == 1
    assert {len(state.waiting) for state in states} == {1}
    # A later refresh for the same change (same event id) reuses the read.
    await shared.after(helpline.pk, shared.mark_changed(helpline.pk, "event-1"))
    assert len(reads) == 1


async def test_a_change_after_the_read_started_gets_a_new_read(helpline, reads) -> None:  # type: ignore[no-untyped-def]
    shared = consumers.SHARED_QUEUE
    first = asyncio.ensure_future(shared.after(helpline.pk,
                                               shared.mark_changed(helpline.pk, "a")))
    await asyncio.sleep(0)  # the first read is in flight
    await database_sync_to_async(services.conversation_start)(
        organisation_id=helpline.pk, consent=True)
    second = await shared.after(helpline.pk, shared.mark_changed(helpline.pk, "b"))
    await first
    assert len(reads) == 2
    assert len(second.waiting) == 1  # the newer change is in the state the refresh got
    assert (await shared.after(helpline.pk, time.monotonic() - 60)).waiting == second.waiting


async def test_throttled_layer_still_expires_messages_and_delivers() -> None:
    layer = ThrottledInMemoryChannelLayer(expiry=0.2)
    layer.sweep_interval = 0.1
    await layer.group_add("chat", "visitor.one")
    await layer.send("visitor.one", {"type": "helpline.event", "n": 1})
    await asyncio.sleep(0.35)  # past the message's expiry and the sweep interval
    await layer.group_send("other", {"type": "helpline.event"})  # triggers the sweep
    assert "visitor.one" not in layer.channels  # expired message gone ...
    assert "visitor.one" not in layer.groups.get("chat", {})  # ... and the stale membership
    await layer.group_add("chat", "visitor.two")
    await layer.group_send("chat", {"type": "helpline.event", "n": 2})
    assert (await layer.receive("visitor.two"))["n"] == 2


async def test_lighter_reads_are_served_by_fuller_ones_but_not_back(
        helpline, counsellor, reads) -> None:  # type: ignore[no-untyped-def]
    """Visitors need neither colleagues nor every active chat; counsellors not the latter."""
    await database_sync_to_async(services.availability_set)(actor=counsellor, available=True)
    shared = consumers.SHARED_QUEUE
    since = shared.mark_changed(helpline.pk, "c")
    full = await shared.after(helpline.pk, since, selectors.SUPERVISOR)
    assert full.live == [] and [pk for pk, _name in full.colleagues] == [counsellor.pk]
    assert len(reads) == 1
    for level in (selectors.COUNSELLOR, selectors.VISITOR):
        assert (await shared.after(helpline.pk, since, level)) is full  # served by it
    assert len(reads) == 1
    later = shared.mark_changed(helpline.pk, "d")
    lean = await shared.after(helpline.pk, later, selectors.VISITOR)
    assert lean.live is None and lean.colleagues == () and len(reads) == 2
    staff = await shared.after(helpline.pk, later, selectors.COUNSELLOR)  # never the lean one
    assert staff.live is None and staff.colleagues and len(reads) == 3
    assert (await shared.after(helpline.pk, later, selectors.SUPERVISOR)).live == []
    assert len(reads) == 4
