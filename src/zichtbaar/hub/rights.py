"""Rights and retention: closed signals deleted after their period, the data subject's access
export, and erasure with four eyes and the exceptions the law allows.

Writes follow the service pattern: one transaction each, with the audit entry inside it.
The audit trail is append-only, so the handover entries (basis, purpose, who, when) outlive
the data they describe; that is what lets a desk still answer "to whom did you give it".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from zichtbaar.accounts.models import Organisation
from zichtbaar.audit.record import record

from .events import HubAuditEvent
from .models import (
    DEFAULT_RETENTION_DAYS,
    Attachment,
    DuplicateCandidate,
    ErasureRequest,
    Handover,
    IdempotencyRecord,
    Outcome,
    Person,
    PersonRole,
    RetentionPolicy,
    Signal,
    Status,
)
from .services import HubError, person_root
from .sharing import LegalBasis, ShareField

IDENTIFYING_FIELDS = ("given_name", "surname", "date_of_birth", "phone", "email", "postcode",
                      "city")
KEY_FIELDS = ("key_name_dob", "key_phone", "key_email")

# Why an erasure is refused. GDPR art. 17(3)(b) and (e): the data are still needed for a
# legal obligation or for legal claims while a partner is acting on them.
HOLD_HANDOVER_OPEN = "handover_open"   # a partner has not yet reported an outcome
HOLD_CASE_OPENED = "case_opened"       # a partner reported that a case or investigation runs


# --- retention -----------------------------------------------------------------------------

def retention_policy(organisation: Organisation | int) -> RetentionPolicy:
    """The desk's periods, or the documented defaults (unsaved) when it never set them."""
    org_id = organisation if isinstance(organisation, int) else organisation.pk
    return (RetentionPolicy.objects.filter(organisation_id=org_id).first()
            or RetentionPolicy(organisation_id=org_id, **DEFAULT_RETENTION_DAYS))


@transaction.atomic
def retention_policy_update(*, actor: Any, organisation: Organisation, closed_no_action_days: int,
                            closed_handed_over_days: int, merged_days: int) -> RetentionPolicy:
    policy, _created = RetentionPolicy.objects.get_or_create(organisation=organisation)
    policy.closed_no_action_days = closed_no_action_days
    policy.closed_handed_over_days = closed_handed_over_days
    policy.merged_days = merged_days
    policy.updated_by = actor
    policy.save()
    record(HubAuditEvent.RETENTION_POLICY_CHANGED, actor=actor, object_type="hub_retention",
           object_id=policy.pk, organisation_id=organisation.pk,
           detail={"closed_no_action_days": closed_no_action_days,
                   "closed_handed_over_days": closed_handed_over_days,
                   "merged_days": merged_days})
    return policy


@dataclass
class RetentionReport:
    """What a run deleted (or, in a dry run, would delete), per state; ids only."""

    dry_run: bool
    signals: dict[str, int] = field(default_factory=lambda: {
        "closed_no_action": 0, "closed_handed_over": 0, "merged": 0})
    persons: int = 0
    attachments: int = 0
    handovers: int = 0
    linkage_keys: int = 0
    held: int = 0  # due, but a partner is still acting on a handover

    @property
    def total(self) -> int:
        return sum(self.signals.values())


def _due(org_id: int, policy: RetentionPolicy, now: dt.datetime
         ) -> list[tuple[str, int, list[int]]]:
    """(state, period, signal ids) of the desk's signals whose retention period has ended."""
    has_handover = Exists(Handover.objects.filter(signal_id=OuterRef("pk")))
    closed = (Signal.objects.filter(organisation_id=org_id, status=Status.CLOSED,
                                    closed_at__isnull=False)
              .annotate(handed=has_handover))
    plans = [
        ("closed_no_action", policy.closed_no_action_days,
         closed.filter(handed=False, closed_at__lt=now - dt.timedelta(
             days=policy.closed_no_action_days))),
        ("closed_handed_over", policy.closed_handed_over_days,
         closed.filter(handed=True, closed_at__lt=now - dt.timedelta(
             days=policy.closed_handed_over_days))),
        ("merged", policy.merged_days,
         Signal.objects.filter(organisation_id=org_id, status=Status.MERGED,
                               closed_at__lt=now - dt.timedelta(days=policy.merged_days))),
    ]
    return [(state, days, list(query.order_by("id").values_list("pk", flat=True)))
            for state, days, query in plans]


def _keys_of(persons: Iterable[Person]) -> int:
    return sum(1 for p in persons for k in KEY_FIELDS if getattr(p, k)) + sum(
        1 for p in persons if p.bloom)


def _signal_delete(signal_id: int, *, org_id: int, state: str, days: int,
                   report: RetentionReport) -> None:
    persons = list(Person.objects.filter(signal_id=signal_id))
    person_ids = [p.pk for p in persons]
    attachments = Attachment.objects.filter(signal_id=signal_id).count()
    handover_ids = list(Handover.objects.filter(signal_id=signal_id).values_list("pk", flat=True))
    keys = _keys_of(persons)
    if not report.dry_run:
        DuplicateCandidate.objects.filter(
            Q(person_a_id__in=person_ids) | Q(person_b_id__in=person_ids)).delete()
        Handover.objects.filter(pk__in=handover_ids).delete()
        IdempotencyRecord.objects.filter(signal_id=signal_id).delete()
        Signal.objects.filter(pk=signal_id).delete()  # cascades: persons, attachments, updates
        record(HubAuditEvent.SIGNAL_DELETED, actor=None, object_type="hub_signal",
               object_id=signal_id, organisation_id=org_id, purpose="retention",
               detail={"state": state, "retention_days": days, "persons": len(person_ids),
                       "attachments": attachments, "handovers": handover_ids,
                       "linkage_keys": keys})
    report.signals[state] += 1
    report.persons += len(person_ids)
    report.attachments += attachments
    report.handovers += len(handover_ids)
    report.linkage_keys += keys


def retention_apply(*, now: dt.datetime | None = None, dry_run: bool = False
                    ) -> RetentionReport:
    """Delete every closed signal past its desk's period, with what hangs on it.

    Nothing open is touched. A signal with a handover that still waits for the partner's
    outcome is held and counted, so the desk can chase the partner instead of losing it.
    Each signal goes in its own transaction: a failure part-way loses nothing accepted.
    """
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    org_ids = sorted(set(Signal.objects.values_list("organisation_id", flat=True)))
    for org_id in org_ids:
        policy = retention_policy(org_id)
        for state, days, ids in _due(org_id, policy, now):
            held = set(Handover.objects.filter(signal_id__in=ids, outcome="")
                       .values_list("signal_id", flat=True))
            report.held += len(held)
            for signal_id in ids:
                if signal_id in held:
                    continue
                with transaction.atomic():
                    _signal_delete(signal_id, org_id=org_id, state=state, days=days,
                                   report=report)
    if not dry_run:
        record(HubAuditEvent.RETENTION_RUN, actor=None, object_type="hub_retention",
               purpose="retention",
               detail={"signals": report.signals, "persons": report.persons,
                       "attachments": report.attachments, "handovers": report.handovers,
                       "linkage_keys": report.linkage_keys, "held": report.held})
    return report


# --- the data subject's records ------------------------------------------------------------

def person_cluster(person: Person) -> list[Person]:
    """Every record of the desk that is this data subject: confirmed duplicates (``same_as``)
    and records with an equal keyed hash of name + date of birth, phone or e-mail."""
    root = person_root(person)
    ids = {person.pk, root.pk}
    query = Q(pk__in=ids) | Q(same_as_id__in=ids)
    for name in KEY_FIELDS:
        value = getattr(person, name)
        if value:
            query |= Q(**{name: value})
    return list(Person.objects.filter(signal__organisation_id=person.signal.organisation_id)
                .filter(query).select_related("signal").order_by("id"))


def _identity(person: Person) -> dict[str, str]:
    """The identity entry exactly as ``services.full_payload`` puts it in a handover."""
    values = {name: getattr(person, name) for name in IDENTIFYING_FIELDS}
    values["sex"] = person.sex
    ordered = ("given_name", "surname", "date_of_birth", "sex", "phone", "email", "postcode",
               "city")
    return {k: values[k] for k in ordered if values[k]}


def _linkage_entry(person: Person) -> dict[str, str]:
    return {k: v for k, v in {"name_dob": person.key_name_dob, "phone": person.key_phone,
                              "email": person.key_email}.items() if v}


IDENTITY_FIELD = {PersonRole.VICTIM: ShareField.VICTIM_IDENTITY,
                  PersonRole.SUSPECT: ShareField.SUSPECT_IDENTITY}


def subject_access_data(persons: Sequence[Person]) -> dict[str, Any]:
    """Plain data for the export: the records decrypted, the signals, and every handover
    with basis, purpose, when and which fields — and whether this person's identity went."""
    signal_ids = sorted({p.signal_id for p in persons})
    signals = {s.pk: s for s in Signal.objects.filter(pk__in=signal_ids)}
    roles_in = {sid: sorted({str(p.role) for p in persons if p.signal_id == sid})
                for sid in signal_ids}
    handovers = (Handover.objects.filter(signal_id__in=signal_ids)
                 .select_related("partner").order_by("created_at", "id"))
    handover_rows = []
    for handover in handovers:
        payload = json.loads(handover.payload)
        mine = [p for p in persons if p.signal_id == handover.signal_id]
        identity_sent = any(_identity(p) and _identity(p) in payload.get(
            IDENTITY_FIELD.get(p.role, ""), []) for p in mine)
        keys_sent = any(_linkage_entry(p) and _linkage_entry(p) in payload.get(
            ShareField.LINKAGE_KEYS, []) for p in mine)
        handover_rows.append({
            "signal": signals[handover.signal_id].reference,
            "partner": handover.partner.name,
            "partner_type": handover.partner.type,
            "handed_over_at": handover.created_at.isoformat(),
            "legal_basis": handover.legal_basis,
            "legal_basis_label": str(LegalBasis(handover.legal_basis).label)
            if handover.legal_basis in LegalBasis.values else handover.legal_basis,
            "purpose": handover.purpose,
            "fields": sorted(payload),
            "your_identity_included": identity_sent,
            "your_linkage_keys_included": keys_sent,
            "acknowledged_at": handover.acknowledged_at.isoformat()
            if handover.acknowledged_at else None,
            "outcome": handover.outcome or None,
        })
    return {
        "records": [{
            "record": p.pk, "signal": signals[p.signal_id].reference, "role": str(p.role),
            **{name: getattr(p, name) for name in IDENTIFYING_FIELDS},
            "sex": p.sex, "age_band": p.age_band,
            "pseudonymous_linkage_keys_stored": bool(_linkage_entry(p) or p.bloom),
        } for p in persons],
        "signals": [{
            "reference": s.reference, "received_at": s.received_at.isoformat(),
            "channel": s.channel, "status": s.status, "your_role": roles_in[s.pk],
            "forms": list(s.forms), "indicators": list(s.indicators), "minor": s.minor,
            "municipality": s.municipality,
        } for s in (signals[i] for i in signal_ids)],
        "handovers": handover_rows,
        # Art. 15(4) GDPR: free text and the reporter's details may reveal other people.
        "withheld": ["description", "people_text", "reporter_contact", "attachments",
                     "notes"],
    }


def subject_access_export(*, actor: Any, person: Person, purpose: str, fmt: str
                          ) -> dict[str, Any]:
    """The export of one data subject, audited with the stated purpose (required)."""
    purpose = purpose.strip()
    if not purpose:
        raise HubError("purpose_required")
    persons = person_cluster(person)
    data = subject_access_data(persons)
    data["generated_at"] = timezone.now().isoformat()
    data["controller"] = person.signal.organisation.name
    record(HubAuditEvent.SUBJECT_ACCESS_EXPORTED, actor=actor, object_type="hub_person",
           object_id=person.pk, organisation_id=person.signal.organisation_id,
           purpose=purpose, detail={"records": [p.pk for p in persons],
                                    "signals": sorted({p.signal_id for p in persons}),
                                    "handovers": len(data["handovers"]), "format": fmt})
    return data


# --- erasure -------------------------------------------------------------------------------

def erasure_hold(persons: Sequence[Person]) -> str:
    """The legal exception that blocks erasure now, or ``""``."""
    handovers = Handover.objects.filter(signal_id__in={p.signal_id for p in persons})
    if handovers.filter(outcome="").exists():
        return HOLD_HANDOVER_OPEN
    if handovers.filter(outcome=Outcome.CASE_OPENED).exists():
        return HOLD_CASE_OPENED
    return ""


@transaction.atomic
def erasure_request(*, actor: Any, person: Person, note: str = "") -> ErasureRequest:
    """Record a request. A legal exception refuses it at once, with the reason recorded."""
    if ErasureRequest.objects.filter(person=person, state=ErasureRequest.State.PENDING).exists():
        raise HubError("erasure_pending")
    hold = erasure_hold(person_cluster(person))
    now = timezone.now()
    request = ErasureRequest.objects.create(
        organisation_id=person.signal.organisation_id, person=person, person_ref=person.pk,
        note=note[:2000], requested_by=actor,
        state=ErasureRequest.State.REFUSED if hold else ErasureRequest.State.PENDING,
        refusal=hold, decided_at=now if hold else None)
    record(HubAuditEvent.ERASURE_REQUESTED, actor=actor, object_type="hub_erasure",
           object_id=request.pk, organisation_id=request.organisation_id,
           detail={"person": person.pk})
    if hold:
        record(HubAuditEvent.ERASURE_REFUSED, actor=actor, object_type="hub_erasure",
               object_id=request.pk, organisation_id=request.organisation_id,
               detail={"person": person.pk, "reason": hold})
    return request


def _redact_handovers(person: Person) -> list[int]:
    """Take the person's identity and keys out of the hub's copy of each handover; return
    the partners who received them (art. 19 GDPR: they must be told)."""
    identity, keys = _identity(person), _linkage_entry(person)
    field_name = IDENTITY_FIELD.get(person.role)
    partners = []
    for handover in Handover.objects.filter(signal_id=person.signal_id):
        payload = json.loads(handover.payload)
        changed = False
        for name, entry in ((field_name, identity), (ShareField.LINKAGE_KEYS, keys)):
            if name and entry and entry in payload.get(name, []):
                payload[name] = [e for e in payload[name] if e != entry]
                changed = True
        if changed:
            handover.payload = json.dumps(payload)
            handover.save(update_fields=["payload", "updated_at"])
            partners.append(handover.partner_id)
    return partners


def _anonymise(person: Person) -> None:
    """Identifying fields, keyed hashes and the Bloom encoding go; role, sex and age band
    stay so that counts and capture histories keep this person as an unlinkable row."""
    for name in IDENTIFYING_FIELDS:
        setattr(person, name, "")
    for name in KEY_FIELDS:
        setattr(person, name, "")
    person.bloom = ""
    person.same_as = None
    person.save()


@transaction.atomic
def erasure_decide(*, actor: Any, request: ErasureRequest, approve: bool) -> ErasureRequest:
    """The second person approves (and the data is erased) or rejects the request."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != ErasureRequest.State.PENDING:
        raise HubError("already_decided")
    if request.requested_by_id == actor.pk:
        raise HubError("erasure_second_person")
    request.decided_by, request.decided_at = actor, timezone.now()
    base = {"object_type": "hub_erasure", "object_id": request.pk,
            "organisation_id": request.organisation_id}
    if not approve:
        request.state = ErasureRequest.State.REJECTED
        request.save()
        record(HubAuditEvent.ERASURE_REJECTED, actor=actor, **base,
               detail={"person": request.person_ref})
        return request
    persons = person_cluster(request.person) if request.person else []
    hold = erasure_hold(persons)
    if hold:
        request.state, request.refusal = ErasureRequest.State.REFUSED, hold
        request.save()
        record(HubAuditEvent.ERASURE_REFUSED, actor=actor, **base,
               detail={"person": request.person_ref, "reason": hold})
        return request
    ids = [p.pk for p in persons]
    partners: set[int] = set()
    keys = _keys_of(persons)
    for person in persons:
        partners.update(_redact_handovers(person))
    DuplicateCandidate.objects.filter(Q(person_a_id__in=ids) | Q(person_b_id__in=ids)).delete()
    Person.objects.filter(same_as_id__in=ids).exclude(pk__in=ids).update(same_as=None)
    for person in persons:
        _anonymise(person)
    # The "who is involved" free text describes people by name; it goes with them.
    signal_ids = sorted({p.signal_id for p in persons})
    Signal.objects.filter(pk__in=signal_ids).update(people_text="")
    request.state = ErasureRequest.State.ERASED
    request.result = {"records": ids, "signals": signal_ids, "linkage_keys": keys,
                      "notify_partners": sorted(partners)}
    request.save()
    record(HubAuditEvent.PERSON_ERASED, actor=actor, **base,
           detail={"person": request.person_ref, **request.result,
                   "requested_by": request.requested_by_id})
    return request
