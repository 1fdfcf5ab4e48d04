"""Every read for display, already limited to what the user may see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import Role, has_capability

from . import codebook as codebook_mod
from . import sharing, suggest
from .models import (
    OPEN_STATUSES,
    Channel,
    DuplicateCandidate,
    Handover,
    Person,
    PersonRole,
    SharingAgreement,
    Signal,
    SignalUpdate,
)


def signals_in_queue(user: User, *, show: str = "open") -> QuerySet[Signal]:
    """The user's organisation's signals: urgent first, then score, then oldest first."""
    query = Signal.objects.filter(organisation_id=user.organisation_id)
    if show == "open":
        query = query.filter(status__in=OPEN_STATUSES)
    elif show == "closed":
        query = query.exclude(status__in=OPEN_STATUSES)
    return (query.select_related("assigned_to")
            .order_by("-urgent", "-score", "received_at", "id"))


def colleagues(user: User) -> QuerySet[User]:
    return (User.objects.filter(organisation_id=user.organisation_id, is_active=True)
            .order_by("username"))


def handovers_for(user: User) -> QuerySet[Handover]:
    return (Handover.objects.filter(partner_id=user.organisation_id)
            .select_related("signal").order_by("acknowledged_at", "-created_at"))


def agreements_of(user: User) -> QuerySet[SharingAgreement]:
    return (SharingAgreement.objects.filter(Q(organisation_id=user.organisation_id))
            .select_related("partner").order_by("-active", "partner__name", "-created_at"))


def partner_candidates(signal: Signal) -> list[dict[str, Any]]:
    """For each proposed partner type: the organisations of that type and their agreement."""
    result = []
    for proposal in signal.routing_proposal:
        for partner in Organisation.objects.filter(type=proposal["partner_type"]).exclude(
                pk=signal.organisation_id):
            agreement = (SharingAgreement.objects.filter(
                organisation_id=signal.organisation_id, partner=partner, active=True)
                .order_by("-created_at").first())
            result.append({"partner": partner, "agreement": agreement,
                           "rules": proposal["rules"],
                           "handed_over": signal.handovers.filter(partner=partner).exists()})
    return result


def other_partners(signal: Signal) -> QuerySet[Organisation]:
    """Partners with an active agreement, for a handover the rules did not propose."""
    return Organisation.objects.filter(
        hub_agreements__organisation_id=signal.organisation_id,
        hub_agreements__active=True).distinct().order_by("name")


# --- indicator suggestions and the handover confirmation -------------------------------------

@dataclass(frozen=True)
class Quote:
    source: str  # "description", "people_text" or "update"
    pieces: list[tuple[str, bool]]  # (text, matched) for a quote with highlighted words
    negated: bool


@dataclass(frozen=True)
class SignalSuggestion:
    code: str  # an indicator code, or "minor"
    terms: tuple[str, ...]
    quotes: tuple[Quote, ...]

    @property
    def negated(self) -> bool:
        return all(q.negated for q in self.quotes)


def suggestion_lexicon(signal: Signal) -> dict[str, list[str]]:
    """Terms of the signal's own codebook version. A version without keyword lists (2026.1)
    borrows those of the repository's default version, only for codes it knows, so an
    accepted suggestion is always a valid code of the signal's version."""
    book = codebook_mod.Codebook(signal.codebook.data)
    if book.has_keywords:
        return book.lexicon()
    return book.lexicon(keywords_from=codebook_mod.Codebook(codebook_mod.load_file()))


def indicator_suggestions(signal: Signal) -> list[SignalSuggestion]:
    """Codes the free text suggests that are neither coded nor dismissed yet.

    Only a display and a shortlist for a person: nothing here changes the signal or its
    score. The texts are the description, who is involved and the reporter's additions.
    """
    texts: list[tuple[str, str]] = [("description", signal.description),
                                    ("people_text", signal.people_text)]
    texts += [("update", u.text) for u in signal.updates.filter(
        kind=SignalUpdate.Kind.REPORTER_ADDITION)]
    skip = set(signal.indicators) | set(signal.dismissed_suggestions)
    if signal.minor:
        skip.add("minor")
    lexicon = suggestion_lexicon(signal)
    found: dict[str, list[tuple[str, str, suggest.Suggestion]]] = {}
    for source, text in texts:
        for item in suggest.find(text or "", lexicon, exclude=skip):
            found.setdefault(item.code, []).append((source, text, item))
    result = []
    for code in lexicon:
        if code not in found:
            continue
        terms: dict[str, None] = {}
        quotes = []
        for source, text, item in found[code]:
            terms.update(dict.fromkeys(item.terms))
            for match in item.matches[:3]:
                quotes.append(Quote(source=source, pieces=suggest.excerpt(text, match.spans),
                                    negated=match.negated))
        result.append(SignalSuggestion(code=code, terms=tuple(terms), quotes=tuple(quotes)))
    return result


def handover_partners(signal: Signal) -> list[dict[str, Any]]:
    """Every organisation the signal could go to: those the rules propose first, then the
    others with an active agreement; each with its agreement (or none) and whether it
    already received this signal."""
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for row in partner_candidates(signal):
        if row["partner"].pk not in seen:
            seen.add(row["partner"].pk)
            rows.append({**row, "proposed": True})
    for partner in other_partners(signal):
        if partner.pk in seen:
            continue
        seen.add(partner.pk)
        rows.append({"partner": partner, "proposed": False, "rules": [],
                     "agreement": agreement_active(signal, partner),
                     "handed_over": signal.handovers.filter(partner=partner).exists()})
    return rows


def agreement_active(signal: Signal, partner: Organisation) -> SharingAgreement | None:
    return (SharingAgreement.objects.filter(organisation_id=signal.organisation_id,
                                            partner=partner, active=True)
            .order_by("-created_at").first())


# A signal awaiting its second person for closing is not handed over (``handover_create``).
HANDOVER_STATUSES = tuple(s for s in OPEN_STATUSES if s != "close_pending")


@dataclass(frozen=True)
class HandoverPreview:
    """Exactly what a handover to ``partner`` would carry, before anything is sent."""

    partner: Organisation
    agreement: SharingAgreement | None
    shared: dict[str, Any]  # the projected payload, as it would be stored
    withheld: list[str]  # catalogue fields the agreement does not allow
    uncoded: bool  # score 0 or no indicators: needs an extra acknowledgement
    already: bool
    open: bool

    @property
    def can_confirm(self) -> bool:
        return self.agreement is not None and not self.already and self.open


def handover_preview(signal: Signal, partner: Organisation) -> HandoverPreview:
    from .services import full_payload  # services import this module

    agreement = agreement_active(signal, partner)
    allowed = agreement.allowed_fields if agreement else []
    shared = sharing.project(full_payload(signal), allowed)
    return HandoverPreview(
        partner=partner, agreement=agreement, shared=shared,
        withheld=[f for f in sharing.ShareField.values if f not in shared],
        uncoded=signal_is_uncoded(signal),
        already=signal.handovers.filter(partner=partner).exists(),
        open=signal.status in HANDOVER_STATUSES)


def signal_is_uncoded(signal: Signal) -> bool:
    return signal.score == 0 or not signal.indicators


def persons_matching(user: User, *, signal_id: int | None, keys: dict[str, str]
                     ) -> QuerySet[Person]:
    """The desk's person records in a signal or with an equal keyed hash (rights requests)."""
    condition = Q(pk__in=[])
    if signal_id:
        condition |= Q(signal_id=signal_id)
    for name in ("name_dob", "phone", "email"):
        if keys.get(name):
            condition |= Q(**{f"key_{name}": keys[name]})
    return (Person.objects.filter(signal__organisation_id=user.organisation_id)
            .filter(condition).select_related("signal").order_by("id"))


def candidates_for(user: User, *, decided: bool = False) -> QuerySet[DuplicateCandidate]:
    query = DuplicateCandidate.objects.filter(organisation_id=user.organisation_id)
    query = (query.exclude(decision=DuplicateCandidate.Decision.PROPOSED) if decided
             else query.filter(decision=DuplicateCandidate.Decision.PROPOSED))
    return query.select_related("person_a__signal", "person_b__signal")


def queue_age(signal: Signal, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"age": now - signal.received_at, "overdue": signal.target_at < now,
            "left": signal.target_at - now}


# --- capture histories ---------------------------------------------------------------------

def source_label(signal: Signal) -> str:
    """The registering source: the channel, plus the partner for partner channels."""
    if signal.channel in (Channel.PROFESSIONAL, Channel.API) and signal.source_organisation:
        return f"{signal.channel}:{signal.source_organisation.slug}"
    return str(signal.channel)


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def capture_history_rows(*, user: User, period_start: dt.date, period_end: dt.date
                         ) -> tuple[list[str], list[list[Any]]]:
    """One row per linked pseudonymous victim with a 0/1 flag per registering source.

    Persons are linked through equal HMAC keys and confirmed duplicates. Researchers see all
    organisations (pseudonymous rows only); analysts their own organisation's signals.
    """
    if not has_capability(user, "hub.capture_histories.export"):
        return [], []
    start = dt.datetime.combine(period_start, dt.time.min, tzinfo=timezone.get_current_timezone())
    end = dt.datetime.combine(period_end, dt.time.max, tzinfo=timezone.get_current_timezone())
    persons = (Person.objects.filter(role=PersonRole.VICTIM, signal__received_at__gte=start,
                                     signal__received_at__lte=end)
               .exclude(signal__status="merged")
               .select_related("signal__source_organisation"))
    if Role.RESEARCHER not in user.role_set:
        persons = persons.filter(signal__organisation_id=user.organisation_id)
    people = list(persons)
    union = _Union()
    first_with: dict[tuple[str, str], int] = {}
    for person in people:
        union.find(person.pk)
        if person.same_as_id:
            union.union(person.pk, person.same_as_id)
        for kind in ("key_name_dob", "key_phone", "key_email"):
            value = getattr(person, kind)
            if value:
                other = first_with.setdefault((kind, value), person.pk)
                union.union(person.pk, other)
    groups: dict[int, list[Person]] = defaultdict(list)
    for person in people:
        groups[union.find(person.pk)].append(person)
    sources = sorted({source_label(p.signal) for p in people})
    header = [*sources, "age_band", "gender", "form"]
    rows = []
    for members in groups.values():
        seen = {source_label(p.signal) for p in members}
        bands = sorted({p.age_band for p in members if p.age_band})
        sexes = sorted({p.sex for p in members if p.sex})
        forms = sorted({f for p in members for f in p.signal.forms})
        rows.append([*(1 if s in seen else 0 for s in sources),
                     bands[0] if len(bands) == 1 else ("unknown" if not bands else "mixed"),
                     {"f": "female", "m": "male", "x": "other"}.get(sexes[0], "unknown")
                     if len(sexes) == 1 else "unknown",
                     forms[0] if len(forms) == 1 else ("unknown" if not forms else "multiple")])
    rows.sort()
    return header, rows
