"""The embedded (single-process) channel layer."""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer


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
