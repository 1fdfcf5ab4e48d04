"""Template filters for dates and times in local time and the reader's language."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from zichtbaar.core import formats

register = template.Library()


@register.filter
def local_datetime(value: dt.datetime | None, seconds: bool = False) -> SafeString | str:
    """``<time datetime="2026-12-03T08:41:12+01:00">3 december 2026 08:41</time>``.

    ``{{ when|local_datetime:True }}`` adds the seconds.
    """
    if not isinstance(value, dt.datetime):
        return ""
    return format_html('<time datetime="{}">{}</time>', formats.iso_datetime(value),
                       formats.format_datetime(value, seconds=bool(seconds)))


@register.filter
def local_date(value: dt.date | dt.datetime | None) -> str:
    return formats.format_date(value) if isinstance(value, dt.date) else ""
