"""The one door to helpline records: role capability, organisation type and organisation.

Helpline capabilities count only for members of a care organisation / helpline; the same role
in a police force or municipality grants nothing here. Records of another organisation are
answered with 404 (``Http404`` / ``NotFound``): their existence is not the caller's to know.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from zichtbaar.accounts.roles import OrganisationType, has_capability, register_capability
from zichtbaar.accounts.roles import Role as R
from zichtbaar.audit.record import record

from .events import HelplineAuditEvent
from .models import Conversation

COUNSEL = "helpline.counsel"
SUPERVISE = "helpline.supervise"
STATS = "helpline.stats"
MANAGE = "helpline.manage"

register_capability(COUNSEL, {R.COUNSELLOR, R.SUPERVISOR})
register_capability(SUPERVISE, {R.SUPERVISOR})
register_capability(STATS, {R.SUPERVISOR, R.COORDINATOR, R.RESEARCHER, R.ADMIN})
register_capability(MANAGE, {R.SUPERVISOR, R.ADMIN})


def helpline_can(user: Any, capability: str) -> bool:
    """Capability from the roles table, and only inside a care organisation / helpline."""
    if not has_capability(user, capability):
        return False
    organisation = user.organisation
    return organisation is not None and organisation.type == OrganisationType.CARE_NGO


def access_conversation(user: Any, pk: int, *, purpose: str = "",
                        audit: bool = False) -> Conversation:
    """A chat of the user's own helpline, for its counsellor or a supervisor.

    Counsellors reach only chats assigned to them (or waiting in the queue); supervisors reach
    every chat of their organisation. ``audit=True`` records that the transcript was viewed.
    """
    if not helpline_can(user, COUNSEL):
        raise Http404
    conversation = Conversation.objects.filter(pk=pk, organisation_id=user.organisation_id).first()
    if conversation is None:
        raise Http404
    is_supervisor = helpline_can(user, SUPERVISE)
    is_own = conversation.counsellor_id == user.pk
    is_waiting = conversation.status == Conversation.Status.QUEUED
    if not (is_supervisor or is_own or is_waiting):
        raise Http404
    if audit:
        record(HelplineAuditEvent.TRANSCRIPT_VIEWED, actor=user, object_type="helpline_chat",
               object_id=conversation.pk, purpose=purpose,
               organisation_id=conversation.organisation_id)
    return conversation
