"""The platform's own figures per year, read from the other four parts.

Each function takes a year and returns rows of (indicator, dimensions, value) for the
catalogue's computed indicators; ``services.values_compute`` stores them as vintages.
Counts are raw here: disclosure control is applied where numbers leave the platform.
Definitions follow the catalogue (``data/catalogue.yaml``) and, for the helpline, CKM's
"Onzichtbare slachtoffers" method: unique visitors, victims vs others, shares of victims.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Count, Min
from django.utils import timezone

from .derive import quantize


@dataclass(frozen=True)
class Row:
    indicator_id: str
    dims: Mapping[str, str]
    value: Decimal | int | float
    organisation_id: int | None = None
    part: str = ""
    lower: Decimal | float | None = None
    upper: Decimal | float | None = None
    numerator: int | None = None
    denominator: int | None = None
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def _bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """Local calendar-year boundaries: a chat at 00:30 on 1 January belongs to that year."""
    zone = timezone.get_current_timezone()
    return (dt.datetime(year, 1, 1, tzinfo=zone), dt.datetime(year + 1, 1, 1, tzinfo=zone))


def _share(indicator_id: str, dims: Mapping[str, str], part: int, whole: int,
           organisation_id: int | None, source: str) -> Row:
    return Row(indicator_id, dims, quantize(Decimal(100 * part) / whole), organisation_id,
               source, numerator=part, denominator=whole)


# --- helpline ------------------------------------------------------------------------------

MINOR_BANDS = frozenset({"under_12", "12_15", "16_17"})
UP_TO_15_BANDS = frozenset({"under_12", "12_15"})
OVER_1Y = frozenset({"1_5y", "5y_plus"})


class CodingRow(NamedTuple):
    """What the monitor reads of one complete coding: codes and ids, no chat content.

    Plain tuples from ``values_list``: building 200,000 model objects (and decrypting the
    conversation's fields on the way) cost most of an annual report's time."""

    pk: int
    organisation_id: int
    conversation_id: int
    visitor_id: int | None
    chat_date: dt.date
    codebook_version: str
    values: dict[str, Any]


def coding_rows(year: int, organisation: Any = None) -> Iterator[CodingRow]:
    """Complete codings of chats in ``year``, oldest first (by id: reproducible order)."""
    from zichtbaar.helpline.models import Coding

    query = Coding.objects.filter(complete=True, chat_date__year=year)
    if organisation is not None:
        query = query.filter(organisation=organisation)
    for row in (query.order_by("pk")
                .values_list("pk", "organisation_id", "conversation_id",
                             "conversation__visitor_id", "chat_date", "codebook_version",
                             "values").iterator(chunk_size=5000)):
        yield CodingRow(*row)


def _values(coding: Any, name: str) -> set[str]:
    value = coding.values.get(name)
    if isinstance(value, list):
        return {str(v) for v in value if v}
    return {str(value)} if value else set()


def _people(codings: Sequence[Any]) -> list[dict[str, set[str]]]:
    """One record per visitor, the codes of their chats merged.

    CKM counts persons, not chats: a returning visitor's chats are one person; an anonymous
    chat is its own visitor (so the counts are upper bounds).
    """
    merged: dict[tuple[str, int], dict[str, set[str]]] = {}
    for coding in codings:
        visitor = coding.visitor_id
        key = ("visitor", visitor) if visitor else ("chat", coding.conversation_id)
        person = merged.setdefault(key, defaultdict(set))
        for name in coding.values:
            person[name] |= _values(coding, name)
    return list(merged.values())


def _role(person: Mapping[str, set[str]]) -> str:
    """A visitor who was a victim in any chat is a victim."""
    roles = person.get("visitor_role", set())
    return next((r for r in ("victim", "reporter") if r in roles), "unknown")


def helpline(year: int) -> list[Row]:
    """Unique visitors, trafficking help questions, victims vs others and victims' profile."""
    from zichtbaar.helpline import codebook as codebook_mod

    book = codebook_mod.load()
    roles = sorted(book.field("visitor_role").values)
    forms = sorted(book.field("exploitation_forms").values)
    per_org: dict[int, list[Any]] = defaultdict(list)
    for coding in coding_rows(year):
        per_org[coding.organisation_id].append(coding)
    rows: list[Row] = []
    for org, codings in sorted(per_org.items()):
        part = "helpline"
        people = _people(codings)
        rows.append(Row("AL3-10", {}, len(people), org, part))
        trafficking = [p for p in people if "yes" in p.get("help_question_trafficking", set())]
        rows.append(Row("AL3-03", {}, len(trafficking), org, part))
        role_counts = Counter(_role(p) for p in trafficking)
        rows.extend(Row("AL3-11", {"visitor_role": role}, role_counts.get(role, 0), org, part)
                    for role in roles)
        victims = [p for p in trafficking if _role(p) == "victim"]
        n = len(victims)
        if n == 0:
            continue  # a share of nobody is not a number

        def having(name: str, wanted: Iterable[str],
                   group: Sequence[Mapping[str, set[str]]] = victims) -> int:
            wanted_set = set(wanted)
            return sum(1 for p in group if wanted_set & p.get(name, set()))

        rows.append(_share("AL3-04", {}, having("perpetrator_relation", ["parent"]), n, org,
                           part))
        rows.append(_share("AL3-05", {}, having("first_disclosure", ["yes"]), n, org, part))
        rows.append(_share("AL3-06", {"duration": "1y_plus"}, having("duration", OVER_1Y), n,
                           org, part))
        rows.append(_share("AL3-06", {"duration": "5y_plus"}, having("duration", ["5y_plus"]),
                           n, org, part))
        rows.extend(_share("AL3-12", {"form": form}, having("exploitation_forms", [form]), n,
                           org, part) for form in forms)
        rows.append(_share("AL3-13", {}, having("age_band", MINOR_BANDS), n, org, part))
        rows.append(_share("AL3-13", {"age_band": "<=15"}, having("age_band", UP_TO_15_BANDS),
                           n, org, part))
    return rows


# --- hub -----------------------------------------------------------------------------------

def hub(year: int) -> list[Row]:
    """Signals per channel, handovers per partner, outcomes, median time to first handover."""
    from zichtbaar.hub.models import Channel, Handover, Outcome, Signal, Status

    since, until = _bounds(year)
    rows: list[Row] = []
    signals = (Signal.objects.filter(received_at__gte=since, received_at__lt=until)
               .exclude(status=Status.MERGED))
    per_channel: dict[int, Counter[str]] = defaultdict(Counter)
    for item in signals.values("organisation_id", "channel").annotate(n=Count("id")):
        per_channel[item["organisation_id"]][item["channel"]] = item["n"]
    for org, counts in sorted(per_channel.items()):
        rows.extend(Row("AL1-19", {"channel": channel}, counts.get(channel, 0), org, "hub")
                    for channel in Channel.values)
    handovers = (Handover.objects.filter(created_at__gte=since, created_at__lt=until)
                 .values("partner_id", "partner__type", "outcome").annotate(n=Count("id"))
                 .order_by())
    per_partner: dict[int, Counter[str]] = defaultdict(Counter)
    partner_type: dict[int, str] = {}
    for item in handovers:  # counted in the database: no handover payload is decrypted
        partner_type[item["partner_id"]] = item["partner__type"]
        per_partner[item["partner_id"]][item["outcome"] or "pending"] += item["n"]
    for partner, outcomes in sorted(per_partner.items()):
        rows.append(Row("AL1-20", {"partner_type": partner_type[partner]},
                        sum(outcomes.values()), partner, "hub"))
        rows.extend(Row("AL1-21", {"outcome": outcome}, outcomes.get(outcome, 0), partner,
                        "hub") for outcome in [*Outcome.values, "pending"])
    firsts = (Signal.objects.annotate(first_handover=Min("handovers__created_at"))
              .filter(first_handover__gte=since, first_handover__lt=until)
              .values_list("organisation_id", "received_at", "first_handover"))
    hours: dict[int, list[float]] = defaultdict(list)
    for org, received, first in firsts:
        hours[org].append(max((first - received).total_seconds(), 0.0) / 3600)
    for org, spans in sorted(hours.items()):
        rows.append(Row("AL1-22", {}, quantize(statistics.median(spans)), org, "hub",
                        denominator=len(spans), note=f"median over {len(spans)} signals"))
    return rows


# --- watch ---------------------------------------------------------------------------------

def watch(year: int) -> list[Row]:
    """Clusters by label, clusters handed to the hub, and decoy contacts."""
    from zichtbaar.watch.decoys import decoy_counts
    from zichtbaar.watch.models import Cluster, Decoy

    since, until = _bounds(year)
    rows: list[Row] = []
    formed = Cluster.objects.filter(created_at__gte=since, created_at__lt=until)
    labels = Counter(label or "unlabelled" for label in formed.values_list("label", flat=True))
    if labels:
        rows.extend(Row("AL1-23", {"label": label}, labels.get(label, 0), None, "watch")
                    for label in [*Cluster.Label.values, "unlabelled"])
    handed = Cluster.objects.filter(signal__received_at__gte=since,
                                    signal__received_at__lt=until).count()
    if handed or labels:
        rows.append(Row("AL1-24", {}, handed, None, "watch"))
    organisations = sorted(set(Decoy.objects.values_list("organisation_id", flat=True)))
    for org in organisations:
        periods = decoy_counts(organisation=org, start=dt.date(year, 1, 1),
                               end=dt.date(year, 12, 31), period="month")
        for measure in ("contacts", "returning", "minor_age"):
            rows.append(Row("AL3-14", {"measure": measure},
                            sum(p[measure] for p in periods), org, "watch"))
    return rows


# --- estimate ------------------------------------------------------------------------------

HUB_SNAPSHOT = re.compile(r"^hub-(\d{4})-\d{2}-\d{2}-(\d{4})-\d{2}-\d{2}\.csv$")


def run_year(run: Any) -> int:
    """A hub snapshot counts for the year its period ends in; an upload for the year it ran."""
    match = HUB_SNAPSHOT.match(run.input_name)
    if match:
        return int(match.group(2))
    return timezone.localtime(run.created_at).year


def estimate(year: int) -> list[Row]:
    """Per organisation, the newest finished estimate run for the year: estimate and interval."""
    from zichtbaar.estimate.web.models import EstimateRun, RunStatus

    newest: dict[int, Any] = {}
    for run in (EstimateRun.objects.filter(status=RunStatus.DONE, result__isnull=False)
                .order_by("created_at", "pk")):
        if run_year(run) == year and isinstance(run.result.get("estimate"), int | float):
            newest[run.organisation_id] = run
    rows: list[Row] = []
    for org, run in sorted(newest.items()):
        value = float(run.result["estimate"])
        interval = run.result.get("ci") or [None, None]
        lower, upper = interval if len(interval) == 2 else (None, None)
        note = f"estimate run {run.pk} ({run.parameters.get('method', '')})"
        if lower is None or upper is None or not lower <= value <= upper:
            lower = upper = None
            note += "; no usable interval"
        rows.append(Row("AL1-18", {}, value, org, "estimate", lower=lower, upper=upper,
                        numerator=run.result.get("observed"), note=note))
    return rows


PARTS = (helpline, hub, watch, estimate)


def all_rows(year: int) -> list[Row]:
    return [row for part in PARTS for row in part(year)]
