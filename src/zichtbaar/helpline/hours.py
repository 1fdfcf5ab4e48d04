"""Opening hours: pure decisions on plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_open(hours: Mapping[str, Sequence[Sequence[str]]], now_local: datetime,
            *, always_open: bool = False) -> bool:
    """Whether ``now_local`` (organisation's time zone) falls in one of today's spans."""
    if always_open:
        return True
    today = hours.get(DAYS[now_local.weekday()], [])
    moment = now_local.time()
    return any(_parse(start) <= moment < _parse(end) for start, end in today)


def valid_hours(hours: object) -> bool:
    if not isinstance(hours, dict) or set(hours) - set(DAYS):
        return False
    try:
        for spans in hours.values():
            for start, end in spans:
                if _parse(start) >= _parse(end):
                    return False
    except (TypeError, ValueError):
        return False
    return True
