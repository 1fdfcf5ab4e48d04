"""The one door to each hub record. Anything not yours is a 404: existence is sensitive."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from zichtbaar.accounts.roles import has_capability
from zichtbaar.audit.record import record

from .events import HubAuditEvent
from .models import Attachment, DuplicateCandidate, ErasureRequest, Handover, Person, Signal


def access_signal(user: Any, pk: int, *, purpose: str, manage: bool = False) -> Signal:
    """A signal of the user's own organisation; viewing is audited, changing is audited by
    the service that changes it."""
    if not has_capability(user, "hub.signal.manage" if manage else "hub.queue.view"):
        raise Http404
    signal = (Signal.objects.select_related("codebook", "routing_rules", "assigned_to")
              .filter(pk=pk, organisation_id=user.organisation_id).first())
    if signal is None:
        raise Http404
    if not manage:
        record(HubAuditEvent.SIGNAL_VIEWED, actor=user, object_type="hub_signal",
               object_id=signal.pk, purpose=purpose, organisation_id=user.organisation_id)
    return signal


def access_attachment(user: Any, signal_pk: int, pk: int, *, purpose: str) -> Attachment:
    if not has_capability(user, "hub.queue.view"):
        raise Http404
    attachment = Attachment.objects.filter(
        pk=pk, signal_id=signal_pk, signal__organisation_id=user.organisation_id).first()
    if attachment is None:
        raise Http404
    record(HubAuditEvent.ATTACHMENT_VIEWED, actor=user, object_type="hub_attachment",
           object_id=attachment.pk, purpose=purpose, organisation_id=user.organisation_id,
           detail={"signal": signal_pk})
    return attachment


def access_handover(user: Any, pk: int, *, purpose: str, record_view: bool = True) -> Handover:
    """A handover addressed to the user's organisation; the sender's signal stays hidden."""
    if not has_capability(user, "hub.inbox.view"):
        raise Http404
    handover = (Handover.objects.select_related("signal__codebook", "partner", "agreement")
                .filter(pk=pk, partner_id=user.organisation_id).first())
    if handover is None:
        raise Http404
    if record_view:
        record(HubAuditEvent.HANDOVER_VIEWED, actor=user, object_type="hub_handover",
               object_id=handover.pk, purpose=purpose, organisation_id=user.organisation_id)
    return handover


def access_candidate(user: Any, pk: int) -> DuplicateCandidate:
    if not has_capability(user, "hub.linkage.review"):
        raise Http404
    candidate = DuplicateCandidate.objects.filter(
        pk=pk, organisation_id=user.organisation_id).first()
    if candidate is None:
        raise Http404
    return candidate


def access_person(user: Any, pk: int) -> Person:
    """A person in a signal of the user's own desk, for the data-subject rights officer.
    Viewing the export is audited by ``rights.subject_access_export`` with its purpose."""
    if not has_capability(user, "hub.subject_rights.manage"):
        raise Http404
    person = (Person.objects.select_related("signal__organisation")
              .filter(pk=pk, signal__organisation_id=user.organisation_id).first())
    if person is None:
        raise Http404
    return person


def access_erasure_request(user: Any, pk: int) -> ErasureRequest:
    if not has_capability(user, "hub.subject_rights.manage"):
        raise Http404
    request = ErasureRequest.objects.filter(pk=pk, organisation_id=user.organisation_id).first()
    if request is None:
        raise Http404
    return request
