"""The helpline's own settings, with their defaults (read at use, so tests may override them).

Each is a Django setting if the project defines it, else the environment variable of the
same name with ``ZICHTBAAR_`` in front, else the default here.
"""

from __future__ import annotations

import os

from django.conf import settings


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"ZICHTBAAR_{name}", "")
    try:
        return float(value) if value != "" else default
    except (TypeError, ValueError):
        return default


def grace_seconds() -> float:
    """A waiting visitor whose socket closed without ``end`` leaves the queue after this."""
    return _number("HELPLINE_GRACE_SECONDS", 60)


def active_grace_seconds() -> float:
    """The same for a chat with a counsellor: longer, a phone may park the tab a while."""
    return _number("HELPLINE_ACTIVE_GRACE_SECONDS", 600)


def start_token_seconds() -> float:
    """Lifetime of the start token the visitor page hands out."""
    return _number("HELPLINE_START_TOKEN_SECONDS", 900)


def waiting_per_page() -> int:
    """Open (waiting or active) chats one page session may have at the same time."""
    return int(_number("HELPLINE_WAITING_PER_PAGE", 1))


def max_waiting() -> int:
    """Waiting chats per helpline; above it a start gets an honest "too busy" message."""
    return int(_number("HELPLINE_MAX_WAITING", 50))


def presence_interval() -> float:
    """How often a process marks its visitors present and ends stale chats."""
    return max(0.1, min(15.0, grace_seconds() / 4))


def idle_minutes() -> float:
    """An active chat in which nobody wrote for this long is closed (0: never)."""
    return _number("HELPLINE_IDLE_MINUTES", 20)


def idle_warning_minutes() -> float:
    """How long before that closing both sides are told (a system line in the chat)."""
    return _number("HELPLINE_IDLE_WARNING_MINUTES", 3)
