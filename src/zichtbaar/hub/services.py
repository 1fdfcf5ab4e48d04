"""Every write of the hub: intake, coding, triage, routing, handovers, linkage decisions.

Each service runs in one transaction with its audit entries inside it, so a signal never
exists without its ``SIGNAL_SUBMITTED`` entry and a handover never without its basis.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType
from zichtbaar.audit.record import record

from . import codebook as codebook_mod
from . import routing, selectors, sharing, triage
from .events import HubAuditEvent
from .models import (
    OPEN_STATUSES,
    ApiToken,
    Attachment,
    CodebookVersion,
    DuplicateCandidate,
    Handover,
    Outcome,
    Person,
    PersonRole,
    RoutingRuleSet,
    SharingAgreement,
    Signal,
    SignalUpdate,
    Status,
)

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 16


class HubError(Exception):
    """A refused operation; ``code`` keys a sentence shown to the user."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# --- inputs --------------------------------------------------------------------------------

@dataclass
class PersonInput:
    role: str = PersonRole.VICTIM
    given_name: str = ""
    surname: str = ""
    date_of_birth: str = ""  # ISO yyyy-mm-dd or empty
    sex: str = ""
    phone: str = ""
    email: str = ""
    postcode: str = ""
    city: str = ""
    age_band: str = ""

    def has_identity(self) -> bool:
        return any([self.given_name, self.surname, self.date_of_birth, self.phone, self.email])


@dataclass
class AttachmentInput:
    name: str
    content_type: str
    extension: str
    data: bytes


@dataclass
class SignalInput:
    indicators: Sequence[str] = ()
    forms: Sequence[str] = ()
    minor: bool | None = None
    municipality: str = ""
    description: str = ""
    people_text: str = ""
    reporter_contact: str = ""
    recruitment_method: str = ""
    recruiter_relation: str = ""
    persons: Sequence[PersonInput] = ()
    attachments: Sequence[AttachmentInput] = ()
    received_at: dt.datetime | None = None
    external_ref: str = ""
    coded_fields: Mapping[str, Any] = field(default_factory=dict)
    extra_proposals: Sequence[str] = ()  # partner types asked for by the channel itself


@dataclass(frozen=True)
class SubmitResult:
    signal: Signal
    receipt_code: str | None


# --- versioned rules -----------------------------------------------------------------------

def current_codebook() -> CodebookVersion:
    """The newest version; seeded from the repository file on first use."""
    return CodebookVersion.current(codebook_mod.load_file)


def current_routing_rules() -> RoutingRuleSet:
    return RoutingRuleSet.current(routing.load_file)


@transaction.atomic
def codebook_version_create(*, actor: Any, data: Mapping[str, Any], note: str = ""
                            ) -> CodebookVersion:
    """A new version; old versions stay, and signals keep the version they were coded with."""
    codebook_mod.validate(data)
    if CodebookVersion.objects.filter(version=data["version"]).exists():
        raise HubError("version_exists", data["version"])
    version = CodebookVersion.objects.create(version=data["version"], data=dict(data),
                                             note=note[:300], created_by=actor)
    record(HubAuditEvent.CODEBOOK_CREATED, actor=actor, object_type="hub_codebook",
           object_id=version.pk, detail={"version": version.version})
    return version


@transaction.atomic
def routing_rules_create(*, actor: Any, data: Mapping[str, Any], note: str = ""
                         ) -> RoutingRuleSet:
    routing.validate(data)
    if RoutingRuleSet.objects.filter(version=data["version"]).exists():
        raise HubError("version_exists", data["version"])
    rules = RoutingRuleSet.objects.create(version=data["version"], data=dict(data),
                                          note=note[:300], created_by=actor)
    record(HubAuditEvent.ROUTING_RULES_CREATED, actor=actor, object_type="hub_routing_rules",
           object_id=rules.pk, detail={"version": rules.version})
    return rules


def hub_desk() -> Organisation:
    """The organisation that receives public reports and referrals: the central signal desk."""
    slug = getattr(settings, "HUB_DESK_SLUG", "")
    query = Organisation.objects.all()
    desk = (query.filter(slug=slug).first() if slug else
            query.filter(type=OrganisationType.REPORTING_POINT).order_by("id").first())
    if desk is None:
        raise HubError("no_desk")
    return desk


# --- persons and linkage -------------------------------------------------------------------

AGE_BANDS = ("<12", "12-17", "18-23", "24+")


def age_band(date_of_birth: str, on: dt.date) -> str:
    try:
        born = dt.date.fromisoformat(date_of_birth)
    except ValueError:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years < 12:
        return "<12"
    if years < 18:
        return "12-17"
    if years < 24:
        return "18-23"
    return "24+"


def person_linkage(person: PersonInput) -> dict[str, str]:
    """HMAC keys and a hardened Bloom encoding of the normalised identifiers."""
    from zichtbaar.linkage.bloom import bloom_encode
    from zichtbaar.linkage.keys import linkage_keys

    record_ = {"id": "", "given_name": person.given_name, "surname": person.surname,
               "date_of_birth": person.date_of_birth, "sex": person.sex,
               "phone": person.phone, "email": person.email, "postcode": person.postcode,
               "city": person.city}
    try:
        keys = linkage_keys(record_, settings.LINKAGE_KEY)
        bloom = bloom_encode(record_, settings.LINKAGE_KEY) if person.has_identity() else ""
    except ValueError as exc:
        raise HubError("invalid_person", str(getattr(exc, "field", "")) or "person") from None
    return {"name_dob": keys.get("name_dob", ""), "phone": keys.get("phone", ""),
            "email": keys.get("email", ""), "bloom": bloom}


def _person_create(signal: Signal, person: PersonInput) -> Person:
    links = person_linkage(person)
    band = person.age_band or age_band(person.date_of_birth, signal.received_at.date())
    return Person.objects.create(
        signal=signal, role=person.role, given_name=person.given_name[:200],
        surname=person.surname[:200], date_of_birth=person.date_of_birth, sex=person.sex[:1],
        phone=person.phone[:50], email=person.email[:254], postcode=person.postcode[:10],
        city=person.city[:100], age_band=band, key_name_dob=links["name_dob"],
        key_phone=links["phone"], key_email=links["email"], bloom=links["bloom"])


# --- intake --------------------------------------------------------------------------------

def receipt_hash(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    key = settings.PSEUDONYM_KEY.encode()
    return hmac.new(key, f"hub-receipt:{cleaned}".encode(), hashlib.sha256).hexdigest()


def _new_receipt() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def _check_codes(data: SignalInput, book: codebook_mod.Codebook) -> None:
    unknown = [c for c in data.indicators if c not in book.indicators]
    if unknown:
        raise HubError("unknown_indicator", ", ".join(sorted(unknown)))
    unknown = [f for f in data.forms if f not in book.forms]
    if unknown:
        raise HubError("unknown_form", ", ".join(sorted(unknown)))


def _assess(indicators: Sequence[str], forms: Sequence[str], minor: bool | None,
            book: codebook_mod.Codebook, rules: Mapping[str, Any],
            extra: Sequence[str] = ()) -> tuple[triage.TriageResult, list[dict[str, Any]],
                                                list[str]]:
    facts = triage.facts_from(indicators, forms, minor)
    result = triage.score(facts, book)
    all_forms = sorted(set(forms) | result.implied_forms)
    decisions = routing.decide(triage.facts_from(indicators, all_forms, minor), rules["rules"],
                               urgent=result.urgent)
    proposal = [{"partner_type": d.partner_type, "rules": list(d.rules)} for d in decisions]
    known = {p["partner_type"] for p in proposal}
    for partner_type in sorted(set(extra) - known):
        proposal.append({"partner_type": partner_type, "rules": ["channel"]})
    return result, proposal, all_forms


@transaction.atomic
def signal_submit(*, channel: str, data: SignalInput, actor: Any = None,
                  source_organisation: Organisation | None = None,
                  organisation: Organisation | None = None, with_receipt: bool = False,
                  helpline_referral_id: int | None = None) -> SubmitResult:
    """Store, code, score and propose routing for one signal from any channel."""
    book_row = current_codebook()
    rules_row = current_routing_rules()
    book = codebook_mod.Codebook(book_row.data)
    _check_codes(data, book)
    received = data.received_at or timezone.now()
    result, proposal, all_forms = _assess(data.indicators, data.forms, data.minor, book,
                                          rules_row.data, data.extra_proposals)
    code = _new_receipt() if with_receipt else None
    signal = Signal.objects.create(
        organisation=organisation or hub_desk(), channel=channel,
        source_organisation=source_organisation,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        external_ref=data.external_ref[:100], received_at=received, urgent=result.urgent,
        score=result.score, explanation=result.explanation(),
        target_at=triage.target_at(received, result), codebook=book_row,
        routing_rules=rules_row, indicators=sorted(set(data.indicators)), forms=all_forms,
        minor=data.minor, recruitment_method=data.recruitment_method[:32],
        recruiter_relation=data.recruiter_relation[:32], routing_proposal=proposal,
        coded_fields=dict(data.coded_fields), municipality=data.municipality[:100],
        description=data.description, people_text=data.people_text,
        reporter_contact=data.reporter_contact,
        receipt_hash=receipt_hash(code) if code else None,
        helpline_referral_id=helpline_referral_id)
    for person in data.persons:
        if person.has_identity() or person.sex or person.age_band:
            _person_create(signal, person)
    for item in data.attachments:
        _attachment_create(signal, item)
    record(HubAuditEvent.SIGNAL_SUBMITTED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"channel": channel, "score": result.score, "urgent": result.urgent,
                   "codebook": book_row.version, "source": source_organisation.pk
                   if source_organisation else None})
    return SubmitResult(signal=signal, receipt_code=code)


def _attachment_create(signal: Signal, item: AttachmentInput) -> Attachment:
    return Attachment.objects.create(
        signal=signal, content_type=item.content_type, extension=item.extension,
        size=len(item.data), name=item.name[:200],
        content=base64.b64encode(item.data).decode("ascii"))


def attachment_bytes(attachment: Attachment) -> bytes:
    return base64.b64decode(attachment.content)


@transaction.atomic
def signal_add_by_reporter(*, receipt_code: str, text: str,
                           attachments: Sequence[AttachmentInput] = ()) -> Signal | None:
    """The reporter adds information with the receipt code; ``None`` for an unknown code."""
    signal = Signal.objects.select_for_update().filter(
        receipt_hash=receipt_hash(receipt_code)).first()
    if signal is None:
        return None
    if signal.merged_into_id:
        signal = Signal.objects.select_for_update().get(pk=signal.merged_into_id)
    SignalUpdate.objects.create(signal=signal, kind=SignalUpdate.Kind.REPORTER_ADDITION,
                                text=text)
    for item in attachments:
        _attachment_create(signal, item)
    if signal.status in (Status.INFO_REQUESTED, Status.CLOSED):
        signal.status = Status.IN_PROGRESS
        signal.save(update_fields=["status", "updated_at"])
    record(HubAuditEvent.SIGNAL_INFO_ADDED, actor=None, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"attachments": len(attachments)})
    return signal


# --- queue actions -------------------------------------------------------------------------

def _require_open(signal: Signal) -> None:
    if signal.status not in OPEN_STATUSES:
        raise HubError("not_open")


@transaction.atomic
def signal_assign(*, actor: Any, signal: Signal, assignee: Any) -> Signal:
    _require_open(signal)
    if assignee is not None and assignee.organisation_id != signal.organisation_id:
        raise HubError("assignee_other_org")
    signal.assigned_to = assignee
    if signal.status == Status.NEW:
        signal.status = Status.IN_PROGRESS
    signal.save(update_fields=["assigned_to", "status", "updated_at"])
    record(HubAuditEvent.SIGNAL_ASSIGNED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"assignee": assignee.pk if assignee else None})
    return signal


@transaction.atomic
def signal_request_info(*, actor: Any, signal: Signal, text: str) -> Signal:
    _require_open(signal)
    SignalUpdate.objects.create(signal=signal, kind=SignalUpdate.Kind.INFO_REQUEST, text=text,
                                author=actor)
    signal.status = Status.INFO_REQUESTED
    signal.save(update_fields=["status", "updated_at"])
    record(HubAuditEvent.SIGNAL_INFO_REQUESTED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id)
    return signal


@transaction.atomic
def signal_merge(*, actor: Any, signal: Signal, into: Signal) -> Signal:
    """Fold a duplicate signal into another: indicators united and rescored, persons moved."""
    if signal.pk == into.pk or signal.organisation_id != into.organisation_id:
        raise HubError("merge_invalid")
    _require_open(signal)
    _require_open(into)
    book = codebook_mod.Codebook(into.codebook.data)
    indicators = sorted((set(into.indicators) | set(signal.indicators)) & set(book.indicators))
    forms = sorted(set(into.forms) | set(signal.forms))
    minor = True if (into.minor or signal.minor) else (into.minor if into.minor is not None
                                                        else signal.minor)
    result, proposal, all_forms = _assess(indicators, forms, minor, book, into.routing_rules.data)
    into.indicators, into.forms, into.minor = indicators, all_forms, minor
    into.score, into.urgent, into.explanation = result.score, result.urgent, result.explanation()
    into.routing_proposal = proposal
    into.target_at = min(into.target_at, triage.target_at(into.received_at, result))
    into.save()
    Person.objects.filter(signal=signal).update(signal=into)
    Attachment.objects.filter(signal=signal).update(signal=into)
    SignalUpdate.objects.filter(signal=signal).update(signal=into)
    signal.status, signal.merged_into = Status.MERGED, into
    signal.closed_at, signal.closed_by = timezone.now(), actor
    signal.save()
    record(HubAuditEvent.SIGNAL_MERGED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"into": into.pk})
    return into


@transaction.atomic
def signal_close(*, actor: Any, signal: Signal, reason: str, note: str = "") -> Signal:
    """Close with a reason. An urgent signal needs a second, different person to confirm."""
    if signal.status == Status.CLOSE_PENDING:
        if signal.close_requested_by_id == actor.pk:
            raise HubError("second_person_required")
    else:
        _require_open(signal)
        if signal.urgent:
            signal.status = Status.CLOSE_PENDING
            signal.close_requested_by = actor
            signal.close_reason, signal.close_note = reason, note
            signal.save()
            record(HubAuditEvent.SIGNAL_CLOSE_REQUESTED, actor=actor, object_type="hub_signal",
                   object_id=signal.pk, organisation_id=signal.organisation_id,
                   detail={"reason": reason})
            return signal
    signal.status = Status.CLOSED
    signal.close_reason = reason or signal.close_reason
    signal.close_note = note or signal.close_note
    signal.closed_by, signal.closed_at = actor, timezone.now()
    signal.save()
    record(HubAuditEvent.SIGNAL_CLOSED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"reason": signal.close_reason,
                   "requested_by": signal.close_requested_by_id})
    return signal


# --- sharing -------------------------------------------------------------------------------

def full_payload(signal: Signal) -> dict[str, Any]:
    """Everything a handover could carry; ``sharing.project`` cuts it to the agreement."""
    persons = list(signal.persons.all())

    def identity(role: str) -> list[dict[str, str]]:
        return [{k: v for k, v in {
            "given_name": p.given_name, "surname": p.surname, "date_of_birth": p.date_of_birth,
            "sex": p.sex, "phone": p.phone, "email": p.email, "postcode": p.postcode,
            "city": p.city}.items() if v} for p in persons if p.role == role]

    return {
        "reference": signal.reference,
        "received_at": signal.received_at.isoformat(),
        "urgency": {"urgent": signal.urgent,
                    "reasons": signal.explanation.get("urgency_reasons", [])},
        "forms": list(signal.forms),
        "indicators": list(signal.indicators),
        "score": {"score": signal.score,
                  "contributions": signal.explanation.get("contributions", [])},
        "minor": signal.minor,
        "municipality": signal.municipality,
        "description": signal.description,
        "victim_identity": identity(PersonRole.VICTIM),
        "victim_age_band": [p.age_band for p in persons
                            if p.role == PersonRole.VICTIM and p.age_band],
        "suspect_identity": identity(PersonRole.SUSPECT),
        "reporter_contact": signal.reporter_contact,
        "linkage_keys": [{k: v for k, v in {"name_dob": p.key_name_dob, "phone": p.key_phone,
                                             "email": p.key_email}.items() if v}
                         for p in persons if p.role != PersonRole.REPORTER],
    }


def agreement_for(signal: Signal, partner: Organisation) -> SharingAgreement | None:
    return (SharingAgreement.objects.filter(organisation_id=signal.organisation_id,
                                            partner=partner, active=True)
            .order_by("-created_at").first())


@transaction.atomic
def handover_create(*, actor: Any, signal: Signal, partner: Organisation,
                    confirmation: Mapping[str, Any] | None = None) -> Handover:
    """Hand over what the partner's agreement allows, with basis and purpose in the audit.

    People hand over through ``handover_confirm``; this is the step both share, also used
    by the demo loader and by tests that need a handover to exist.
    """
    _require_open(signal)
    if signal.status == Status.CLOSE_PENDING:
        raise HubError("not_open")
    agreement = agreement_for(signal, partner)
    if agreement is None:
        raise HubError("no_agreement")
    if Handover.objects.filter(signal=signal, partner=partner).exists():
        raise HubError("already_handed_over")
    payload = sharing.project(full_payload(signal), agreement.allowed_fields)
    rules = [r for p in signal.routing_proposal if p["partner_type"] == partner.type
             for r in p["rules"]]
    handover = Handover.objects.create(
        signal=signal, partner=partner, agreement=agreement, legal_basis=agreement.legal_basis,
        purpose=agreement.purpose, rules=rules, payload=json.dumps(payload),
        created_by=actor)
    signal.status = Status.HANDED_OVER
    signal.save(update_fields=["status", "updated_at"])
    record(HubAuditEvent.HANDOVER_CREATED, actor=actor, object_type="hub_handover",
           object_id=handover.pk, organisation_id=signal.organisation_id,
           purpose=agreement.purpose,
           detail={"signal": signal.pk, "partner": partner.pk, "agreement": agreement.pk,
                   "legal_basis": agreement.legal_basis, "fields": sorted(payload),
                   **({"confirmation": dict(confirmation)} if confirmation else {})})
    return handover


@transaction.atomic
def handover_confirm(*, actor: Any, signal: Signal, partner: Organisation | None,
                     agreement_id: int | None, confirmed: bool,
                     uncoded_acknowledged: bool = False) -> Handover:
    """A deliberate handover: only after a person saw the partner, the legal basis, the
    fields that go and the score on the confirmation page, and ticked that they did.

    * No partner, no tick: nothing happens (``partner_required``, ``confirmation_required``).
    * The agreement must still be the one that was shown (``agreement_changed``): if an
      administrator replaced or ended it in between, the person must look again, because
      the fields or the basis may differ.
    * A signal with score 0 or without coded indicators may still go out (the desk acts on
      "de geringste aanwijzing", and a reporter's words can be alarming before anyone has
      coded them), but only with a second, explicit acknowledgement ("score 0, geen
      indicatoren gecodeerd"). The page lists any unreviewed suggestions from the free text
      first, so the analyst can code them instead. No free-text reason is asked for: it
      would put personal data in the audit trail; the acknowledgement itself is recorded.
    """
    if partner is None:
        raise HubError("partner_required")
    if not confirmed:
        raise HubError("confirmation_required")
    agreement = agreement_for(signal, partner)
    if agreement is None:
        raise HubError("no_agreement")
    if agreement.pk != agreement_id:
        raise HubError("agreement_changed")
    uncoded = selectors.signal_is_uncoded(signal)
    if uncoded and not uncoded_acknowledged:
        raise HubError("uncoded_not_acknowledged")
    return handover_create(actor=actor, signal=signal, partner=partner, confirmation={
        "confirmed": True, "score": signal.score, "indicators": len(signal.indicators),
        "uncoded_acknowledged": uncoded})


# --- indicator suggestions -----------------------------------------------------------------

def _suggestion(signal: Signal, code: str) -> selectors.SignalSuggestion:
    """The suggestion as the page shows it now; a code that is not suggested is refused."""
    for item in selectors.indicator_suggestions(signal):
        if item.code == code:
            return item
    raise HubError("suggestion_unknown", code)


@transaction.atomic
def signal_suggestion_accept(*, actor: Any, signal: Signal, code: str) -> Signal:
    """Code a suggested indicator (or "minor involved"): rescored and rerouted like any
    coding, with an audit entry that says it came from a suggestion and which terms."""
    signal = (Signal.objects.select_for_update().select_related("codebook", "routing_rules")
              .get(pk=signal.pk))
    _require_open(signal)
    item = _suggestion(signal, code)
    book = codebook_mod.Codebook(signal.codebook.data)
    indicators = sorted(set(signal.indicators) | ({code} if code != "minor" else set()))
    minor = True if code == "minor" else signal.minor
    channel_asked = [p["partner_type"] for p in signal.routing_proposal
                     if "channel" in p.get("rules", [])]
    before = signal.score
    result, proposal, all_forms = _assess(indicators, signal.forms, minor, book,
                                          signal.routing_rules.data, channel_asked)
    signal.indicators, signal.forms, signal.minor = indicators, all_forms, minor
    signal.score, signal.urgent, signal.explanation = (result.score, result.urgent,
                                                       result.explanation())
    signal.routing_proposal = proposal
    signal.target_at = min(signal.target_at, triage.target_at(signal.received_at, result))
    signal.save(update_fields=["indicators", "forms", "minor", "score", "urgent",
                               "explanation", "routing_proposal", "target_at", "updated_at"])
    record(HubAuditEvent.SIGNAL_CODED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"code": code, "source": "suggestion", "terms": list(item.terms),
                   "score_before": before, "score": result.score, "urgent": result.urgent,
                   "codebook": signal.codebook.version})
    return signal


@transaction.atomic
def signal_suggestion_dismiss(*, actor: Any, signal: Signal, code: str) -> Signal:
    """Not applicable, says a person: the suggestion is no longer shown for this signal."""
    signal = Signal.objects.select_for_update().get(pk=signal.pk)
    _require_open(signal)
    item = _suggestion(signal, code)
    signal.dismissed_suggestions = sorted(set(signal.dismissed_suggestions) | {code})
    signal.save(update_fields=["dismissed_suggestions", "updated_at"])
    record(HubAuditEvent.SUGGESTION_DISMISSED, actor=actor, object_type="hub_signal",
           object_id=signal.pk, organisation_id=signal.organisation_id,
           detail={"code": code, "terms": list(item.terms)})
    return signal


def handover_payload(handover: Handover) -> dict[str, Any]:
    return json.loads(handover.payload)


@transaction.atomic
def handover_acknowledge(*, actor: Any, handover: Handover) -> Handover:
    if handover.acknowledged_at is None:
        handover.acknowledged_at, handover.acknowledged_by = timezone.now(), actor
        handover.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
        record(HubAuditEvent.HANDOVER_ACKNOWLEDGED, actor=actor, object_type="hub_handover",
               object_id=handover.pk, organisation_id=handover.partner_id)
    return handover


@transaction.atomic
def handover_report_outcome(*, actor: Any, handover: Handover, outcome: str, note: str = ""
                            ) -> Handover:
    if outcome not in Outcome.values:
        raise HubError("invalid_outcome")
    handover_acknowledge(actor=actor, handover=handover)
    handover.outcome, handover.outcome_note, handover.outcome_at = outcome, note, timezone.now()
    handover.save(update_fields=["outcome", "outcome_note", "outcome_at", "updated_at"])
    record(HubAuditEvent.HANDOVER_OUTCOME, actor=actor, object_type="hub_handover",
           object_id=handover.pk, organisation_id=handover.partner_id,
           detail={"outcome": outcome, "signal": handover.signal_id})
    return handover


@transaction.atomic
def agreement_create(*, actor: Any, organisation: Organisation, partner: Organisation,
                     legal_basis: str, purpose: str, allowed_fields: Sequence[str],
                     basis_detail: str = "") -> SharingAgreement:
    if partner.pk == organisation.pk:
        raise HubError("agreement_self")
    unknown = set(allowed_fields) - sharing.ALL_FIELDS
    if unknown or legal_basis not in sharing.LegalBasis.values:
        raise HubError("agreement_invalid")
    SharingAgreement.objects.filter(organisation=organisation, partner=partner,
                                    active=True).update(active=False)
    agreement = SharingAgreement.objects.create(
        organisation=organisation, partner=partner, legal_basis=legal_basis,
        basis_detail=basis_detail[:300], purpose=purpose[:300],
        allowed_fields=[f for f in sharing.ShareField.values if f in set(allowed_fields)],
        created_by=actor)
    record(HubAuditEvent.AGREEMENT_CREATED, actor=actor, object_type="hub_agreement",
           object_id=agreement.pk, organisation_id=organisation.pk, purpose=purpose,
           detail={"partner": partner.pk, "legal_basis": legal_basis,
                   "fields": agreement.allowed_fields})
    return agreement


@transaction.atomic
def agreement_end(*, actor: Any, agreement: SharingAgreement) -> SharingAgreement:
    agreement.active = False
    agreement.save(update_fields=["active", "updated_at"])
    record(HubAuditEvent.AGREEMENT_ENDED, actor=actor, object_type="hub_agreement",
           object_id=agreement.pk, organisation_id=agreement.organisation_id)
    return agreement


# --- API tokens and idempotency ------------------------------------------------------------

def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, organisation: Organisation, name: str
                     ) -> tuple[ApiToken, str]:
    """A 256-bit token shown once; only its digest is stored."""
    plain = "zb_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(organisation=organisation, name=name[:100],
                                    prefix=plain[:10], token_hash=_token_digest(plain),
                                    created_by=actor)
    record(HubAuditEvent.API_TOKEN_CREATED, actor=actor, object_type="hub_api_token",
           object_id=token.pk, organisation_id=organisation.pk)
    return token, plain


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    record(HubAuditEvent.API_TOKEN_REVOKED, actor=actor, object_type="hub_api_token",
           object_id=token.pk, organisation_id=token.organisation_id)


def api_token_check(plain: str) -> ApiToken | None:
    token = (ApiToken.objects.select_related("organisation")
             .filter(token_hash=_token_digest(plain), revoked_at__isnull=True).first())
    if token is not None:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


# --- duplicates ----------------------------------------------------------------------------

SPLINK_MIN_RECORDS = 500


def person_root(person: Person) -> Person:
    seen = set()
    while person.same_as_id and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.get(pk=person.same_as_id)
    return person


@transaction.atomic
def duplicates_propose(*, actor: Any, organisation: Organisation, threshold: float = 0.9
                       ) -> int:
    """Run the probabilistic matcher over the organisation's persons; store new candidates."""
    from zichtbaar.linkage.matching import find_pairs

    persons = list(Person.objects.filter(signal__organisation=organisation)
                   .exclude(role=PersonRole.REPORTER))
    records = [{"id": str(p.pk), "given_name": p.given_name, "surname": p.surname,
                "date_of_birth": p.date_of_birth, "sex": p.sex, "phone": p.phone,
                "email": p.email, "postcode": p.postcode, "city": p.city}
               for p in persons if any([p.given_name, p.surname, p.phone, p.email])]
    created = 0
    pairs, method = [], "none"
    if len(records) >= 2:
        # Splink estimates its parameters from the data; on a small desk that estimate is
        # degenerate, so small sets use the Bloom-filter Dice matcher instead.
        method = "splink" if len(records) >= SPLINK_MIN_RECORDS else "bloom"
        try:
            pairs = find_pairs(records, threshold=threshold, secret=settings.LINKAGE_KEY,
                               bloom=method == "bloom")
        except (ArithmeticError, ValueError):
            if method == "bloom":
                raise
            method = "bloom"
            pairs = find_pairs(records, threshold=threshold, secret=settings.LINKAGE_KEY,
                               bloom=True)
        for pair in pairs:
            a, b = sorted((int(pair.id_a), int(pair.id_b)))
            if DuplicateCandidate.objects.filter(person_a_id=a, person_b_id=b).exists():
                continue
            try:
                with transaction.atomic():
                    DuplicateCandidate.objects.create(organisation=organisation, person_a_id=a,
                                                      person_b_id=b,
                                                      probability=float(pair.probability))
                created += 1
            except IntegrityError:
                continue
    record(HubAuditEvent.DUPLICATES_PROPOSED, actor=actor, object_type="hub_person",
           organisation_id=organisation.pk,
           detail={"persons": len(records), "new_candidates": created, "method": method})
    return created


@transaction.atomic
def duplicate_decide(*, actor: Any, candidate: DuplicateCandidate, confirm: bool
                     ) -> DuplicateCandidate:
    if candidate.decision != DuplicateCandidate.Decision.PROPOSED:
        raise HubError("already_decided")
    candidate.decision = (DuplicateCandidate.Decision.CONFIRMED if confirm
                          else DuplicateCandidate.Decision.REJECTED)
    candidate.decided_by, candidate.decided_at = actor, timezone.now()
    candidate.save()
    if confirm:
        root_a, root_b = person_root(candidate.person_a), person_root(candidate.person_b)
        if root_a.pk != root_b.pk:
            keep, other = sorted((root_a, root_b), key=lambda p: p.pk)
            other.same_as = keep
            other.save(update_fields=["same_as", "updated_at"])
    record(HubAuditEvent.DUPLICATE_DECIDED, actor=actor, object_type="hub_duplicate",
           object_id=candidate.pk, organisation_id=candidate.organisation_id,
           detail={"confirmed": confirm})
    return candidate
