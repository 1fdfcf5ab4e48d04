"""Helpline statistics for the monitor, with small-cell suppression ("<5").

Definitions (also in docs/subsystems/helpline-protocol.md):
- chats: accepted chats whose coding falls in the period (by chat date);
- unique visitors first seen: returning visitors whose first chat falls in the period, plus
  every coded chat in the period without a returning code (each counted as its own visitor,
  so the figure is an upper bound);
- trafficking share: coded chats with help question "yes" / all coded chats;
- breakdowns: per codebook field, over coded chats of the chosen population.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from . import codebook as codebook_mod
from .models import Coding, ReturningVisitor

SMALL_CELL = 5


def cell(count: int) -> str:
    """A count as shown: 1–4 become "<5" so nobody can be singled out."""
    return "<5" if 0 < count < SMALL_CELL else str(count)


def share(part: int, whole: int) -> str:
    if whole == 0 or 0 < part < SMALL_CELL:
        return "–"
    return f"{100 * part / whole:.0f}%"


@dataclass
class Breakdown:
    field: str
    label: str
    rows: list[tuple[str, str, int]]  # (value, label, count)


@dataclass
class HelplineStats:
    start: date
    end: date
    population: str
    chats: int = 0
    coded: int = 0
    trafficking: int = 0
    unique_visitors: int = 0
    per_month: list[tuple[str, int]] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)


def compute(organisation_id: int, start: date, end: date, *, population: str = "trafficking",
            language: str = "nl") -> HelplineStats:
    codings = list(Coding.objects.filter(organisation_id=organisation_id, complete=True,
                                         chat_date__gte=start, chat_date__lte=end)
                   .select_related("conversation"))
    result = HelplineStats(start=start, end=end, population=population)
    result.chats = len(codings)
    result.coded = len(codings)
    result.trafficking = sum(1 for c in codings
                             if c.values.get("help_question_trafficking") == "yes")
    anonymous = sum(1 for c in codings if c.conversation.visitor_id is None)
    returning_new = ReturningVisitor.objects.filter(
        organisation_id=organisation_id, first_seen__gte=start, first_seen__lte=end).count()
    result.unique_visitors = anonymous + returning_new
    months = Counter(c.chat_date.strftime("%Y-%m") for c in codings)
    result.per_month = sorted(months.items())
    chosen = ([c for c in codings if c.values.get("help_question_trafficking") == "yes"]
              if population == "trafficking" else codings)
    book = codebook_mod.load()
    for book_field in book.fields:
        counts: Counter[str] = Counter()
        for coding in chosen:
            value = coding.values.get(book_field.name)
            for item in (value if isinstance(value, list) else [value]):
                if item:
                    counts[item] += 1
        rows = [(o.value, o.label.get(language) or o.label["en"], counts.get(o.value, 0))
                for o in book_field.options]
        result.breakdowns.append(Breakdown(book_field.name, book_field.label_in(language), rows))
    return result
