"""Audit events of the helpline, and the names of its channel-layer groups."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction, register_events


class HelplineAuditEvent(models.TextChoices):
    TRANSCRIPT_VIEWED = "helpline_transcript_viewed", _("Chat transcript viewed")
    CHAT_ACCEPTED = "helpline_chat_accepted", _("Chat accepted")
    CHAT_TRANSFERRED = "helpline_chat_transferred", _("Chat transferred")
    CHAT_TAKEN_OVER = "helpline_chat_taken_over", _("Chat taken over")
    CHAT_READ_ALONG = "helpline_chat_read_along", _("Chat read along")
    CODING_SAVED = "helpline_coding_saved", _("Chat coded")
    REFERRAL_CREATED = "helpline_referral_created", _("Referral created")
    SESSION_BLOCKED = "helpline_session_blocked", _("Chat session blocked")
    TRANSCRIPT_DELETED = "helpline_transcript_deleted", _("Chat transcript deleted")
    STATS_EXPORTED = "helpline_stats_exported", _("Helpline statistics exported")
    SETTINGS_CHANGED = "helpline_settings_changed", _("Helpline settings changed")
    QUEUE_CLEARED = "helpline_queue_cleared", _("Waiting chats cleared")


register_events({
    HelplineAuditEvent.TRANSCRIPT_VIEWED: AuditAction.VIEW,
    HelplineAuditEvent.CHAT_ACCEPTED: AuditAction.CHANGE,
    HelplineAuditEvent.CHAT_TRANSFERRED: AuditAction.CHANGE,
    HelplineAuditEvent.CHAT_TAKEN_OVER: AuditAction.CHANGE,
    HelplineAuditEvent.CHAT_READ_ALONG: AuditAction.VIEW,
    HelplineAuditEvent.CODING_SAVED: AuditAction.CHANGE,
    HelplineAuditEvent.REFERRAL_CREATED: AuditAction.CREATE,
    HelplineAuditEvent.SESSION_BLOCKED: AuditAction.CHANGE,
    HelplineAuditEvent.TRANSCRIPT_DELETED: AuditAction.DELETE,
    HelplineAuditEvent.STATS_EXPORTED: AuditAction.EXPORT,
    HelplineAuditEvent.SETTINGS_CHANGED: AuditAction.CHANGE,
    HelplineAuditEvent.QUEUE_CLEARED: AuditAction.CHANGE,
})


def conversation_group(conversation_id: int) -> str:
    """Visitor, counsellor and read-along supervisors: the transcript and chat state."""
    return f"helpline.conv.{conversation_id}"


def conversation_staff_group(conversation_id: int) -> str:
    """Staff only: internal notes and whispers of one chat."""
    return f"helpline.convstaff.{conversation_id}"


def organisation_group(organisation_id: int) -> str:
    """One member per server process (``consumers.FANOUT``), not per socket: queue changes.

    The process passes each change on to its own consoles and waiting visitors, so a change
    costs one channel-layer message per process instead of one per open connection.
    """
    return f"helpline.org.{organisation_id}"
