"""Signals, persons, attachments, rules as versioned data, agreements and handovers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.accounts.models import Organisation
from zichtbaar.core.fields import EncryptedTextField
from zichtbaar.core.models import BaseModel, VersionedData

from .sharing import LegalBasis


class Channel(models.TextChoices):
    PUBLIC_FORM = "public_form", _("Public reporting form")
    PROFESSIONAL = "professional", _("Professional form")
    API = "api", _("Partner API")
    HELPLINE = "helpline", _("Helpline referral")
    ONLINE = "online", _("Online monitoring")


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    INFO_REQUESTED = "info_requested", _("Information requested")
    HANDED_OVER = "handed_over", _("Handed over")
    CLOSE_PENDING = "close_pending", _("Closing: awaiting second person")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another signal")


OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.INFO_REQUESTED, Status.HANDED_OVER,
                 Status.CLOSE_PENDING)


class CloseReason(models.TextChoices):
    HANDED_OVER_DONE = "handed_over", _("Handed over; no further action at the hub")
    NO_INDICATION = "no_indication", _("No indication of trafficking after assessment")
    INSUFFICIENT_INFO = "insufficient_info", _("Insufficient information, reporter unreachable")
    DUPLICATE = "duplicate", _("Duplicate of another signal")
    OTHER = "other", _("Other (see note)")


class CodebookVersion(VersionedData):
    version = models.CharField(_("version"), max_length=16, unique=True)


class RoutingRuleSet(VersionedData):
    """The routing rules: which partner types a coded signal is proposed for."""


class Signal(BaseModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                     related_name="hub_signals", verbose_name=_("owner"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Provenance: which organisation and user sent it in (empty for the public form).
    source_organisation = models.ForeignKey(Organisation, null=True, blank=True,
                                            on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    external_ref = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.NEW, db_index=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    score = models.PositiveIntegerField(_("score"), default=0)
    explanation = models.JSONField(default=dict)
    target_at = models.DateTimeField(_("target handling time"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("assigned to"))
    codebook = models.ForeignKey(CodebookVersion, on_delete=models.PROTECT, related_name="+")
    routing_rules = models.ForeignKey(RoutingRuleSet, on_delete=models.PROTECT, related_name="+")
    indicators = models.JSONField(default=list)
    forms = models.JSONField(default=list)
    minor = models.BooleanField(null=True)
    recruitment_method = models.CharField(max_length=32, blank=True)
    recruiter_relation = models.CharField(max_length=32, blank=True)
    routing_proposal = models.JSONField(default=list)
    # Indicator suggestions from the free text that a person dismissed (codes, or "minor");
    # accepted ones become ordinary indicators. Who decided is in the audit trail.
    dismissed_suggestions = models.JSONField(default=list, blank=True)
    coded_fields = models.JSONField(default=dict, blank=True)  # channel codes kept verbatim
    municipality = models.CharField(_("municipality"), max_length=100, blank=True)
    description = EncryptedTextField(_("what happened"), blank=True, default="")
    people_text = EncryptedTextField(_("who is involved"), blank=True, default="")
    reporter_contact = EncryptedTextField(_("reporter's contact details"), blank=True,
                                          default="")
    receipt_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    helpline_referral_id = models.BigIntegerField(null=True, blank=True, unique=True)
    close_reason = models.CharField(max_length=32, choices=CloseReason.choices, blank=True)
    close_note = EncryptedTextField(blank=True, default="")
    close_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_from")

    class Meta:
        ordering = ["-urgent", "-score", "received_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"S-{self.pk:06d}" if self.pk else "S-new"


class SignalUpdate(BaseModel):
    class Kind(models.TextChoices):
        REPORTER_ADDITION = "reporter_addition", _("Addition by the reporter")
        INFO_REQUEST = "info_request", _("Information requested")
        NOTE = "note", _("Note")

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = EncryptedTextField(blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]


class PersonRole(models.TextChoices):
    VICTIM = "victim", _("Possible victim")
    SUSPECT = "suspect", _("Suspected perpetrator")
    REPORTER = "reporter", _("Reporter")


class Person(BaseModel):
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="persons")
    role = models.CharField(_("role"), max_length=12, choices=PersonRole.choices)
    given_name = EncryptedTextField(_("given name"), blank=True, default="")
    surname = EncryptedTextField(_("surname"), blank=True, default="")
    date_of_birth = EncryptedTextField(_("date of birth"), blank=True, default="")
    sex = models.CharField(_("sex"), max_length=1, blank=True)  # m, f, x or empty
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    email = EncryptedTextField(_("e-mail"), blank=True, default="")
    postcode = EncryptedTextField(_("postcode"), blank=True, default="")
    city = EncryptedTextField(_("city"), blank=True, default="")
    age_band = models.CharField(max_length=8, blank=True)
    # Keyed hashes of normalised identifiers (HMAC, secret outside the database).
    key_name_dob = models.CharField(max_length=64, blank=True, db_index=True)
    key_phone = models.CharField(max_length=64, blank=True, db_index=True)
    key_email = models.CharField(max_length=64, blank=True, db_index=True)
    bloom = models.TextField(blank=True)
    # Confirmed duplicates point at one representative: the pseudonymous person.
    same_as = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"person {self.pk}"


class DuplicateCandidate(BaseModel):
    class Decision(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    decision = models.CharField(max_length=12, choices=Decision.choices,
                                default=Decision.PROPOSED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-probability", "id"]
        constraints = [models.UniqueConstraint(fields=["person_a", "person_b"],
                                               name="hub_unique_candidate_pair")]


class Attachment(BaseModel):
    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="attachments")
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    name = EncryptedTextField(blank=True, default="")
    content = EncryptedTextField()  # base64 of the bytes, then encrypted like any field

    class Meta:
        ordering = ["id"]


class SharingAgreement(BaseModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="hub_agreements_given",
                                     verbose_name=_("hub organisation"))
    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                related_name="hub_agreements", verbose_name=_("partner"))
    legal_basis = models.CharField(_("legal basis"), max_length=24,
                                   choices=LegalBasis.choices)
    basis_detail = models.CharField(_("legal provision"), max_length=300, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300)
    allowed_fields = models.JSONField(_("fields that may be shared"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["partner__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation_id}->{self.partner_id}"


class Outcome(models.TextChoices):
    CASE_OPENED = "case_opened", _("Case or investigation opened")
    VICTIM_IN_CARE = "victim_in_care", _("Victim in care")
    REFERRED_ON = "referred_on", _("Referred on to another organisation")
    NO_ACTION = "no_action", _("No action possible")
    OTHER = "other", _("Other")


class Handover(BaseModel):
    signal = models.ForeignKey(Signal, on_delete=models.PROTECT, related_name="handovers")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT,
                                related_name="hub_handovers")
    agreement = models.ForeignKey(SharingAgreement, on_delete=models.PROTECT,
                                  related_name="handovers")
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices)
    purpose = models.CharField(max_length=300)
    rules = models.JSONField(default=list)
    payload = EncryptedTextField()  # JSON of the projected fields only
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField(blank=True, default="")
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["signal", "partner"],
                                               name="hub_one_handover_per_partner")]


class ApiToken(BaseModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="hub_api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class IdempotencyRecord(BaseModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    signal = models.ForeignKey(Signal, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "key"],
                                               name="hub_unique_idempotency_key")]


# --- rights and retention ------------------------------------------------------------------

# Defaults when a desk has not set its own periods (documented in docs/subsystems/hub.md).
DEFAULT_RETENTION_DAYS = {
    "closed_no_action_days": 365,     # closed without handover: one year for follow-up reports
    "closed_handed_over_days": 730,   # handed over: two years, so outcomes can still flow back
    "merged_days": 365,               # a merged duplicate's shell
}


class RetentionPolicy(BaseModel):
    """How long a desk keeps a closed signal, counted from closing; one row per desk."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE,
                                        related_name="hub_retention")
    closed_no_action_days = models.PositiveIntegerField(
        _("closed without handover: keep for (days)"),
        default=DEFAULT_RETENTION_DAYS["closed_no_action_days"])
    closed_handed_over_days = models.PositiveIntegerField(
        _("closed after a handover: keep for (days)"),
        default=DEFAULT_RETENTION_DAYS["closed_handed_over_days"])
    merged_days = models.PositiveIntegerField(
        _("merged duplicate: keep for (days)"), default=DEFAULT_RETENTION_DAYS["merged_days"])
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")


class ErasureRequest(BaseModel):
    """A data subject's erasure request: asked by one person, decided by a second.

    ``person_ref`` keeps the id after the person row is anonymised, so the request stays
    traceable in the audit trail without holding any identifying data itself.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting a second person")
        ERASED = "erased", _("Erased")
        REFUSED = "refused", _("Refused: legal exception")
        REJECTED = "rejected", _("Rejected by the second person")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE,
                                     related_name="hub_erasure_requests")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="erasure_requests")
    person_ref = models.BigIntegerField()
    state = models.CharField(_("state"), max_length=12, choices=State.choices,
                             default=State.PENDING, db_index=True)
    note = EncryptedTextField(_("note"), blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal = models.CharField(max_length=32, blank=True)
    result = models.JSONField(default=dict, blank=True)  # counts and partner ids only

    class Meta:
        ordering = ["-created_at", "-id"]
