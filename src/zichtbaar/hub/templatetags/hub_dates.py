"""Moments on hub pages in local time and Dutch form, also when they come from JSON."""

from __future__ import annotations

import datetime as dt

from django import template

from zichtbaar.hub.presentation import local_date, local_datetime

register = template.Library()


@register.filter
def hub_datetime(value: dt.datetime | str | None) -> str:
    """``{{ snapshot.fetched_at|hub_datetime }}``: "3 december 2026 08:38", never ISO."""
    return local_datetime(value)


@register.filter
def hub_date(value: dt.date | str | None) -> str:
    """``{{ person.date_of_birth|hub_date }}``: "3 februari 1990" instead of "1990-02-03"."""
    return local_date(value)
