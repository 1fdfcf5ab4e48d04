"""Reads of the audit trail, already limited to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import OrganisationType

from .models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    event: str = ""
    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def entries_visible_to(user: User) -> QuerySet[AuditEntry]:
    """The platform operator's auditors see every organisation; others only their own."""
    entries = AuditEntry.objects.all()
    if user.organisation.type == OrganisationType.PLATFORM_OPERATOR:
        return entries
    return entries.filter(organisation_id=user.organisation_id)


def entries_matching(user: User, flt: AuditFilter) -> QuerySet[AuditEntry]:
    entries = entries_visible_to(user)
    if flt.event:
        entries = entries.filter(event=flt.event)
    if flt.action:
        entries = entries.filter(action=flt.action)
    if flt.actor:
        entries = entries.filter(actor_label__iexact=flt.actor)
    if flt.object_type:
        entries = entries.filter(object_type=flt.object_type)
    if flt.object_id:
        entries = entries.filter(object_id=flt.object_id)
    if flt.date_from:
        entries = entries.filter(created_at__date__gte=flt.date_from)
    if flt.date_to:
        entries = entries.filter(created_at__date__lte=flt.date_to)
    return entries.order_by("-seq")
