"""Dates and times as people read them: local time (Europe/Amsterdam), in their language.

Templates use the ``local_datetime`` and ``local_date`` filters (``{% load zichtbaar_formats %}``),
Python code these functions; both give "3 december 2026 08:41" in Dutch and "3 December 2026
08:41" in English, never an ISO string with a UTC offset. Machine-readable values belong in
``<time datetime="…">``, which ``iso_datetime`` fills.
"""

from __future__ import annotations

import datetime as dt

from django.utils import dateformat, timezone
from django.utils.translation import gettext_noop

# Django 6 writes this as the empty choice of a model choice field, but its Dutch catalogue has
# no translation yet; naming it here keeps it in the project-wide catalogue, which translates it.
BLANK_CHOICE_TEXT = gettext_noop("- Select an option -")

# Full month names, as the hub's pages show them: "3 december 2026 08:41" (Django's "M"
# would title-case the Dutch abbreviation to "Dec").
DATETIME_FORMAT = "j F Y H:i"
DATETIME_SECONDS_FORMAT = "j F Y H:i:s"
DATE_FORMAT = "j F Y"


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def format_datetime(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """"3 december 2026 08:41" in the current language, in local time; "" for no value."""
    if value is None:
        return ""
    fmt = DATETIME_SECONDS_FORMAT if seconds else DATETIME_FORMAT
    return dateformat.format(_local(value), fmt)


def format_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value)
    return dateformat.format(value, DATE_FORMAT)


def iso_datetime(value: dt.datetime | None) -> str:
    """The ``datetime`` attribute of a ``<time>`` element: ISO 8601 with its offset."""
    return _local(value).isoformat() if value is not None else ""
