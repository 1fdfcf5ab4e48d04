"""Audit entries as people read them: labels instead of the stored codes."""

from __future__ import annotations

from django import template

from zichtbaar.audit import events

register = template.Library()


@register.filter
def event_label(code: str) -> str:
    return events.event_label(code)


@register.filter
def object_type_label(code: str) -> str:
    return events.object_type_label(code)


@register.filter
def role_labels(stored: str) -> str:
    return events.role_labels(stored)
