"""What identifies one point of a series: its period and its dimensions.

Dimensions are normalised (sorted, empty values dropped), so ``{"form": "sexual",
"region": ""}`` and ``{"form": "sexual"}`` are the same cell, and ``{}`` is the total.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @classmethod
    def of(cls, value: int | Period | tuple[dt.date, dt.date]) -> Period:
        """A year, a pair of dates or a period: whatever the caller has."""
        if isinstance(value, Period):
            return value
        if isinstance(value, int):
            return cls.year(value)
        start, end = value
        return cls(start, end)

    @property
    def is_year(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31) \
            and self.start.year == self.end.year

    def __str__(self) -> str:
        return str(self.start.year) if self.is_year else f"{self.start}..{self.end}"


def normalise_dims(dims: Mapping[str, Any] | None) -> dict[str, str]:
    """Sorted, string-valued, without empty values."""
    clean: dict[str, str] = {}
    for name, value in sorted((dims or {}).items()):
        if not isinstance(name, str) or not name:
            raise ValueError(f"dimension names are text, not {name!r}")
        if value is None or value == "":
            continue
        clean[name] = str(value)
    return clean


def dims_key(dims: Mapping[str, Any] | None) -> str:
    """Canonical JSON of the normalised dimensions: the column a unique constraint can use."""
    key = json.dumps(normalise_dims(dims), sort_keys=True, separators=(",", ":"),
                     ensure_ascii=False)
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"dimensions too long ({len(key)} > {MAX_KEY_LENGTH} characters)")
    return key
