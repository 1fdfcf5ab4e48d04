"""Audit events of the hub. A stored value is never reused or renamed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction


class HubAuditEvent(models.TextChoices):
    SIGNAL_SUBMITTED = "hub_signal_submitted", _("Signal submitted")
    SIGNAL_VIEWED = "hub_signal_viewed", _("Signal viewed")
    SIGNAL_ASSIGNED = "hub_signal_assigned", _("Signal assigned")
    SIGNAL_INFO_REQUESTED = "hub_signal_info_requested", _("More information requested")
    SIGNAL_INFO_ADDED = "hub_signal_info_added", _("Reporter added information")
    SIGNAL_MERGED = "hub_signal_merged", _("Signals merged")
    SIGNAL_CLOSE_REQUESTED = "hub_signal_close_requested", _("Closing requested")
    SIGNAL_CLOSED = "hub_signal_closed", _("Signal closed")
    ATTACHMENT_VIEWED = "hub_attachment_viewed", _("Attachment opened")
    HANDOVER_CREATED = "hub_handover_created", _("Signal handed over")
    HANDOVER_VIEWED = "hub_handover_viewed", _("Handover viewed")
    HANDOVER_ACKNOWLEDGED = "hub_handover_acknowledged", _("Handover acknowledged")
    HANDOVER_OUTCOME = "hub_handover_outcome", _("Outcome reported")
    AGREEMENT_CREATED = "hub_agreement_created", _("Sharing agreement created")
    AGREEMENT_ENDED = "hub_agreement_ended", _("Sharing agreement ended")
    CODEBOOK_CREATED = "hub_codebook_created", _("Codebook version created")
    ROUTING_RULES_CREATED = "hub_routing_rules_created", _("Routing rules version created")
    API_TOKEN_CREATED = "hub_api_token_created", _("API token created")
    API_TOKEN_REVOKED = "hub_api_token_revoked", _("API token revoked")
    DUPLICATES_PROPOSED = "hub_duplicates_proposed", _("Duplicate persons proposed")
    DUPLICATE_DECIDED = "hub_duplicate_decided", _("Duplicate decision")
    CAPTURE_HISTORIES_EXPORTED = "hub_capture_histories_exported", _("Capture histories exported")
    SIGNAL_DELETED = "hub_signal_deleted", _("Signal deleted after its retention period")
    RETENTION_RUN = "hub_retention_run", _("Retention run")
    RETENTION_POLICY_CHANGED = "hub_retention_policy_changed", _("Retention periods changed")
    SUBJECT_ACCESS_EXPORTED = "hub_subject_access_exported", _("Data-subject access export")
    ERASURE_REQUESTED = "hub_erasure_requested", _("Erasure requested")
    ERASURE_REFUSED = "hub_erasure_refused", _("Erasure refused: legal exception")
    ERASURE_REJECTED = "hub_erasure_rejected", _("Erasure rejected by the second person")
    PERSON_ERASED = "hub_person_erased", _("Person erased")
    PERSONS_LOOKED_UP = "hub_persons_looked_up", _("Persons looked up for a rights request")
    SIGNAL_CODED = "hub_signal_coded", _("Indicator coded")
    SUGGESTION_DISMISSED = "hub_suggestion_dismissed", _("Indicator suggestion dismissed")


ACTIONS: dict[str, AuditAction] = {
    HubAuditEvent.SIGNAL_SUBMITTED: AuditAction.CREATE,
    HubAuditEvent.SIGNAL_VIEWED: AuditAction.VIEW,
    HubAuditEvent.SIGNAL_ASSIGNED: AuditAction.CHANGE,
    HubAuditEvent.SIGNAL_INFO_REQUESTED: AuditAction.CHANGE,
    HubAuditEvent.SIGNAL_INFO_ADDED: AuditAction.CHANGE,
    HubAuditEvent.SIGNAL_MERGED: AuditAction.CHANGE,
    HubAuditEvent.SIGNAL_CLOSE_REQUESTED: AuditAction.CHANGE,
    HubAuditEvent.SIGNAL_CLOSED: AuditAction.CHANGE,
    HubAuditEvent.ATTACHMENT_VIEWED: AuditAction.VIEW,
    HubAuditEvent.HANDOVER_CREATED: AuditAction.EXPORT,
    HubAuditEvent.HANDOVER_VIEWED: AuditAction.VIEW,
    HubAuditEvent.HANDOVER_ACKNOWLEDGED: AuditAction.CHANGE,
    HubAuditEvent.HANDOVER_OUTCOME: AuditAction.CHANGE,
    HubAuditEvent.AGREEMENT_CREATED: AuditAction.CREATE,
    HubAuditEvent.AGREEMENT_ENDED: AuditAction.CHANGE,
    HubAuditEvent.CODEBOOK_CREATED: AuditAction.CREATE,
    HubAuditEvent.ROUTING_RULES_CREATED: AuditAction.CREATE,
    HubAuditEvent.API_TOKEN_CREATED: AuditAction.CREATE,
    HubAuditEvent.API_TOKEN_REVOKED: AuditAction.CHANGE,
    HubAuditEvent.DUPLICATES_PROPOSED: AuditAction.CREATE,
    HubAuditEvent.DUPLICATE_DECIDED: AuditAction.CHANGE,
    HubAuditEvent.CAPTURE_HISTORIES_EXPORTED: AuditAction.EXPORT,
    HubAuditEvent.SIGNAL_DELETED: AuditAction.DELETE,
    HubAuditEvent.RETENTION_RUN: AuditAction.DELETE,
    HubAuditEvent.RETENTION_POLICY_CHANGED: AuditAction.CHANGE,
    HubAuditEvent.SUBJECT_ACCESS_EXPORTED: AuditAction.EXPORT,
    HubAuditEvent.ERASURE_REQUESTED: AuditAction.CREATE,
    HubAuditEvent.ERASURE_REFUSED: AuditAction.CHANGE,
    HubAuditEvent.ERASURE_REJECTED: AuditAction.CHANGE,
    HubAuditEvent.PERSON_ERASED: AuditAction.DELETE,
    HubAuditEvent.PERSONS_LOOKED_UP: AuditAction.VIEW,
    HubAuditEvent.SIGNAL_CODED: AuditAction.CHANGE,
    HubAuditEvent.SUGGESTION_DISMISSED: AuditAction.CHANGE,
}
