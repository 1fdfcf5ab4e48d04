"""What the spider hands to the pipelines: selected strings, not yet cleaned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class AdItem:
    """One fetched ad page.

    The spider fills the raw ``*_parts`` lists straight from the selectors; the clean
    pipeline joins and normalises them, and the image pipeline replaces ``image_urls`` by
    ``image_hashes`` (the image bytes are never kept).
    """

    url: str
    status: int
    body: bytes
    fetched_at: dt.datetime
    title_parts: list[str] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)
    posted_parts: list[str] = field(default_factory=list)
    city_parts: list[str] = field(default_factory=list)
    age_parts: list[str] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    # Filled by the pipelines:
    title: str = ""
    text: str = ""
    posted: dt.date | None = None
    city: str = ""
    age: int | None = None
    image_hashes: list[str] = field(default_factory=list)
