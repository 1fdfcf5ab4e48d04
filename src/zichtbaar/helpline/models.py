"""Helpline tables. No table has a column for a client address or user agent, by design.

The transcript (``Message``, ``InternalNote``) is deleted after the organisation's retention
period; everything needed for the annual counts lives in ``Coding``, ``ReturningVisitor`` and
``Referral``, which outlive it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.fields import EncryptedTextField
from zichtbaar.core.models import BaseModel

DEFAULT_OPENING_HOURS: dict[str, list[list[str]]] = {
    day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def _default_hours() -> dict[str, list[list[str]]]:
    return {day: [list(span) for span in spans] for day, spans in DEFAULT_OPENING_HOURS.items()}


class HelplineSettings(BaseModel):
    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE,
                                        related_name="helpline_settings")
    opening_hours = models.JSONField(_("opening hours"), default=_default_hours)
    always_open = models.BooleanField(_("always open"), default=False)
    max_concurrent_chats = models.PositiveSmallIntegerField(
        _("concurrent chats per counsellor"), default=2)
    retention_days = models.PositiveSmallIntegerField(_("transcript retention (days)"), default=30)

    def __str__(self) -> str:
        return f"helpline settings {self.organisation_id}"


class VisitorSession(BaseModel):
    """One browser tab's pseudonymous session; only a hash of its bearer token is kept.

    A supervisor's block applies here: it holds while the tab stays open (a visitor who
    closes the tab starts anew; without identity nothing stronger is possible).
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE,
                                     related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"visitor session {self.pk}"


class ReturningVisitor(BaseModel):
    """A pseudonymous visitor, known only by a keyed hash of the code they chose to keep."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE,
                                     related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    first_seen = models.DateField()

    def __str__(self) -> str:
        return f"returning visitor {self.pk}"


class Conversation(BaseModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class EndReason(models.TextChoices):
        VISITOR = "visitor", _("Visitor ended")
        QUICK_EXIT = "quick_exit", _("Quick exit")
        COUNSELLOR = "counsellor", _("Counsellor ended")
        BLOCKED = "blocked", _("Blocked")
        ABANDONED = "abandoned", _("Left the queue")
        DISCONNECTED = "disconnected", _("Connection lost")
        CLEARED = "cleared", _("Cleared from the queue")
        IDLE = "idle", _("Ended after inactivity")
        VISITOR_GONE = "visitor_gone", _("Closed as abandoned by the counsellor")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    session = models.ForeignKey(VisitorSession, on_delete=models.SET_NULL, null=True,
                                related_name="conversations")
    visitor = models.ForeignKey(ReturningVisitor, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    risk_flag = models.BooleanField(_("risk flag"), default=False)
    counsellor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="helpline_chats")
    nickname = EncryptedTextField(_("nickname"), blank=True, default="")
    age_band = models.CharField(_("age band"), max_length=16, blank=True)
    language = models.CharField(max_length=8, default="nl")
    consent = models.BooleanField(_("consent to the chat terms"), default=False)
    referral_consent = models.BooleanField(_("consent to a referral"), default=False)
    returning_claimed = models.BooleanField(default=False)
    queued_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    # Digest of the start token's random page session (never an address): the per-page cap.
    page_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Last moment a visitor socket was known to be open; a chat without one for longer than
    # the grace period leaves the queue (conf.grace_seconds).
    visitor_seen_at = models.DateTimeField(null=True, blank=True)
    # Set when the visitor's socket closed (the console shows "gone since"), cleared when
    # they come back; the grace periods above still decide when the chat ends.
    visitor_left_at = models.DateTimeField(null=True, blank=True)
    # When both sides were told that a silent chat will close (conf.idle_minutes).
    idle_warned_at = models.DateTimeField(null=True, blank=True)
    transcript_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"chat {self.pk}"


class Message(models.Model):
    """One line of the transcript, seen identically by visitor and counsellor."""

    class Sender(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        COUNSELLOR = "counsellor", _("Counsellor")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    # Idempotency key chosen by the client: a resent message is stored once.
    client_id = models.CharField(max_length=64, blank=True, default="")
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="helpline_message_seq"),
            models.UniqueConstraint(fields=["conversation", "sender", "client_id"],
                                    condition=~models.Q(client_id=""),
                                    name="helpline_message_client_id"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class InternalNote(models.Model):
    """Staff-only text: the counsellor's notes and supervisors' whispers (never to the visitor)."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        WHISPER = "whisper", _("Whisper")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="notes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+")
    text = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class Coding(BaseModel):
    """The counsellor's coding of one chat; kept after the transcript is gone."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE,
                                        related_name="coding")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    codebook_version = models.CharField(max_length=16)
    values = models.JSONField(default=dict)
    complete = models.BooleanField(default=False)
    coded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, related_name="+")
    coded_at = models.DateTimeField(null=True, blank=True)
    chat_date = models.DateField(db_index=True)
    first_contact = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"coding of chat {self.conversation_id}"


class Referral(BaseModel):
    """A consent-based referral: coded fields only, never transcript text."""

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT,
                                     related_name="referrals")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    codebook_version = models.CharField(max_length=16)
    coding = models.JSONField(default=dict)
    referred_to = models.JSONField(default=list)
    consent = models.BooleanField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(consent=True),
                                              name="helpline_referral_needs_consent")]

    def __str__(self) -> str:
        return f"referral {self.pk}"


class CannedResponse(BaseModel):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE,
                                     related_name="+")
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), max_length=2000)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CounsellorState(BaseModel):
    """Availability and the current shift, for routing and the well-being count."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="helpline_state")
    available = models.BooleanField(default=False)
    shift_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"state of {self.user_id}"
