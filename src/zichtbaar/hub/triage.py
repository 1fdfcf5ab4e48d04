"""Explainable triage: plain data in, a score with the indicators that produced it out.

The score only orders the queue. Every signal is looked at by a person ("geringste
aanwijzing"); nothing is closed or routed on the score alone (art. 22 AVG).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .codebook import Codebook


@dataclass(frozen=True)
class Facts:
    indicators: frozenset[str]
    forms: frozenset[str] = frozenset()
    minor: bool | None = None


@dataclass(frozen=True)
class Contribution:
    code: str
    weight: str
    points: int


@dataclass(frozen=True)
class TriageResult:
    score: int
    urgent: bool
    urgency_reasons: tuple[str, ...]
    contributions: tuple[Contribution, ...]
    band: str  # "urgent", "elevated" or "normal"
    target_hours: int
    implied_forms: frozenset[str] = field(default_factory=frozenset)

    def explanation(self) -> dict[str, Any]:
        """JSON-ready record of why: stored on the signal next to the codebook version."""
        return {
            "score": self.score, "band": self.band, "urgent": self.urgent,
            "urgency_reasons": list(self.urgency_reasons),
            "contributions": [{"code": c.code, "weight": c.weight, "points": c.points}
                              for c in self.contributions],
        }


def facts_from(indicators: Iterable[str], forms: Iterable[str] = (),
               minor: bool | None = None) -> Facts:
    return Facts(indicators=frozenset(indicators), forms=frozenset(forms), minor=minor)


def score(facts: Facts, codebook: Codebook) -> TriageResult:
    """Sum of indicator weights; urgency from urgent indicators and a minor being involved."""
    contributions = []
    reasons: list[str] = []
    implied: set[str] = set()
    for code in sorted(facts.indicators):
        indicator = codebook.indicators.get(code)
        if indicator is None:
            continue  # unknown codes were refused at input; old codes simply do not count
        contributions.append(Contribution(code, indicator.weight,
                                          int(codebook.weights[indicator.weight])))
        if indicator.urgent:
            reasons.append(code)
        if indicator.implies_form:
            implied.add(indicator.implies_form)
    if facts.minor and codebook.triage.get("minor_is_urgent", True):
        reasons.append("minor")
    contributions.sort(key=lambda c: (-c.points, c.code))
    total = sum(c.points for c in contributions)
    hours = codebook.triage["target_hours"]
    if reasons:
        band = "urgent"
    elif total >= int(codebook.triage["elevated_score"]):
        band = "elevated"
    else:
        band = "normal"
    return TriageResult(score=total, urgent=bool(reasons), urgency_reasons=tuple(reasons),
                        contributions=tuple(contributions), band=band,
                        target_hours=int(hours[band]), implied_forms=frozenset(implied))


def target_at(received_at: datetime, result: TriageResult) -> datetime:
    return received_at + timedelta(hours=result.target_hours)
