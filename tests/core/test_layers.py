"""The production channel layer: channels_redis pub/sub with pipelined publishes, on the
machine's Redis (127.0.0.1:6379). Many sends at once all arrive, in the order they were
made; a Redis that cannot be reached fails each send instead of hanging it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from zichtbaar.core.layers import PipelinedRedisPubSubChannelLayer

REDIS = "redis://127.0.0.1:6379/5"


def layers(host: str = REDIS) -> tuple[PipelinedRedisPubSubChannelLayer, ...]:
    """Two processes of one installation: a sender and a receiver with the same prefix."""
    prefix = f"zbt{uuid.uuid4().hex[:8]}"
    return tuple(PipelinedRedisPubSubChannelLayer(hosts=[host], prefix=prefix)
                 for _ in range(2))


def test_a_burst_of_group_sends_arrives_complete_and_in_order() -> None:
    async def scenario() -> tuple[list[int], list[int], int]:
        sender, receiver = layers()
        first = await receiver.new_channel()
        second = await receiver.new_channel()
        await receiver.group_add("chat", first)
        await receiver.group_add("chat", second)
        await asyncio.sleep(0.2)  # the subscription is live
        await asyncio.gather(*(sender.group_send("chat", {"type": "x", "n": n})
                               for n in range(500)))
        got_first = [(await receiver.receive(first))["n"] for _ in range(500)]
        got_second = [(await receiver.receive(second))["n"] for _ in range(500)]
        pipelines = sender._get_layer()._shards[0]
        await sender.flush()
        await receiver.flush()
        return got_first, got_second, len(pipelines._outbox)

    got_first, got_second, left = asyncio.run(scenario())
    assert got_first == got_second == list(range(500))
    assert left == 0


def test_an_unreachable_redis_fails_every_send() -> None:
    async def scenario() -> list[BaseException | None]:
        dead, _unused = layers("redis://127.0.0.1:9/0")  # the discard port: nothing listens
        return await asyncio.wait_for(asyncio.gather(
            *(dead.group_send("chat", {"type": "x", "n": n}) for n in range(5)),
            return_exceptions=True), timeout=30)

    results = asyncio.run(scenario())
    assert len(results) == 5
    assert all(isinstance(result, Exception) for result in results), results


@pytest.mark.parametrize("count", [1, 3])
def test_sends_after_a_quiet_moment_go_at_once(count: int) -> None:
    async def scenario() -> list[int]:
        sender, receiver = layers()
        channel = await receiver.new_channel()
        await receiver.group_add("g", channel)
        await asyncio.sleep(0.2)
        got = []
        for n in range(count):
            await sender.group_send("g", {"type": "x", "n": n})
            got.append((await asyncio.wait_for(receiver.receive(channel), 5))["n"])
        await sender.flush()
        await receiver.flush()
        return got

    assert asyncio.run(scenario()) == list(range(count))
