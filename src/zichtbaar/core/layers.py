"""Channel layers: the embedded (single-process) one, and Redis pub/sub with pipelining."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts


class ThrottledInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer, sweeping expired messages at most once a second.

    The stock layer walks every channel and every group membership on *each* send and
    receive, so with a few hundred open chats the sweep cost grew with the number of chats
    for every single message and delayed delivery by seconds (``bench/chat_load.py``).
    Messages still expire (default 60 s) and stale memberships still lapse, just up to
    ``sweep_interval`` later.
    """

    sweep_interval = 1.0  # seconds
    _next_sweep = 0.0  # monotonic time of the next sweep (per instance once set)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        super()._clean_expired()


class _PipelinedShard(RedisSingleShardConnection):
    """One Redis shard whose publishes leave in pipelines instead of one at a time.

    The stock shard sends each PUBLISH and waits for its reply under one lock per process,
    so at a thousand chats every chat line of the process queued behind every other one's
    round trip (``bench/chat_load.py``). Here a publish joins an outbox; one flusher task
    sends the whole outbox as a single pipeline, and the next outbox once that returns.
    Publishes still leave in the order they were made, and each caller still learns of a
    failure (the exception is set on its future).
    """

    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        await future

    async def _flush(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                self._ensure_redis()
                pipe = self._redis.pipeline(transaction=False)
                for channel, message, _future in batch:
                    pipe.publish(channel, message)
                await pipe.execute()
            except Exception as exc:  # handed to every waiting publisher
                for _channel, _message, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _channel, _message, future in batch:
                    if not future.done():
                        future.set_result(None)


class _PipelinedLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_PipelinedShard(host, self) for host in decode_hosts(hosts)]


class PipelinedRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis' pub/sub layer with pipelined publishes (see ``_PipelinedShard``)."""

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _PipelinedLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
