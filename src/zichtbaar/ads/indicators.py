"""Indicator hits with offsets, and a transparent cluster score with its explanation.

Research (online.md §0, §6.5) says: weight outcome-validated (A) indicators highest, rank
*clusters* not single ads, treat C as neutral, and show every contributing feature with text
offsets so the analyst sees why. This module does exactly that and nothing cleverer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zichtbaar.ads.lexicon import UNSCORED_GRADES, Lexicon

#: Stated ages at or below this count as ``young_age`` (18 is the legal minimum in NL).
YOUNG_AGE_MAX = 18
#: Cluster labels that ``indicator_performance`` compares (TrafficVis-style analyst labels).
TRAFFICKING = "trafficking"
INDEPENDENT = "independent"
_GRADE_ORDER = {"A": 0, "B": 1, "B-": 2, "L": 3, "C": 4, "D": 5}


class _SpanLike(Protocol):
    kind: str
    value: Any
    start: int
    end: int


class ExtractionLike(Protocol):
    """The parts of ``zichtbaar.ads.extract.Extraction`` this module reads."""

    @property
    def ages(self) -> Sequence[int]: ...
    @property
    def spans(self) -> Sequence[_SpanLike]: ...
    @property
    def obscured_phones(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Hit:
    """One indicator found in one ad; ``start:end`` index the ad text."""

    indicator: str
    start: int
    end: int
    text: str
    grade: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "start": self.start, "end": self.end,
                "text": self.text, "grade": self.grade, "weight": self.weight}


@dataclass(frozen=True)
class ScoredAd:
    ad_id: str
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class ClusterScore:
    """``score`` is the sum of the explanation's contributions (see :func:`score_cluster`)."""

    score: float
    explanation: list[dict[str, Any]] = field(default_factory=list)
    lexicon_version: str = ""
    ads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "explanation": self.explanation,
                "lexicon_version": self.lexicon_version, "ads": self.ads}


def indicator_hits(text: str, extraction: ExtractionLike | None,
                   lexicon: Lexicon) -> tuple[Hit, ...]:
    """All text and derived hits in ``text``, sorted by offset.

    Terms match case-insensitively on word boundaries (longest term wins where terms overlap);
    emoji match as tokens wherever they stand (a variation selector is ignored). Derived hits:
    ``obscured_phone`` for each phone the extractor had to de-obfuscate (offsets = the phone as
    written) and ``young_age`` for each stated age of 18 or below.
    """
    matcher = lexicon.matcher
    hits: list[Hit] = []

    def add(indicator: str, start: int, end: int) -> None:
        entry = lexicon.get(indicator)
        if entry is not None:
            hits.append(Hit(indicator, start, end, text[start:end], entry.grade, entry.weight))

    if matcher.terms is not None:
        for m in matcher.terms.finditer(text):
            owner = matcher.term_owner.get(_fold(m.group()))
            if owner is not None:
                add(owner, m.start(), m.end())
    taken = {(h.start, h.end) for h in hits}
    for indicator, pattern in matcher.patterns:
        for m in pattern.finditer(text):
            if m.end() > m.start() and (m.start(), m.end()) not in taken:
                add(indicator, m.start(), m.end())
    if matcher.emoji_re is not None:
        for m in matcher.emoji_re.finditer(text):
            add(matcher.emoji[m.group()], m.start(), m.end())
    if extraction is not None:
        hits.extend(_derived(text, extraction, lexicon))
    return tuple(sorted(_dedupe(hits), key=lambda h: (h.start, h.end, h.indicator)))


def _derived(text: str, extraction: ExtractionLike, lexicon: Lexicon) -> list[Hit]:
    out: list[Hit] = []
    spans = tuple(getattr(extraction, "spans", ()) or ())
    obscured = tuple(getattr(extraction, "obscured_phones", ()) or ())
    entry = lexicon.get("obscured_phone")
    if entry is not None:
        for item in obscured:
            for start, end in _spans_for(item, "phone", spans):
                out.append(Hit("obscured_phone", start, end, text[start:end], entry.grade,
                               entry.weight))
    entry = lexicon.get("young_age")
    if entry is not None:
        for age in tuple(getattr(extraction, "ages", ()) or ()):
            if isinstance(age, int) and age <= YOUNG_AGE_MAX:
                for start, end in _spans_for(age, "age", spans):
                    out.append(Hit("young_age", start, end, text[start:end], entry.grade,
                                   entry.weight))
    return out


def _spans_for(item: Any, kind: str, spans: Sequence[_SpanLike]) -> list[tuple[int, int]]:
    """Offsets of ``item``: its own span if it has one, else the extractor's matching spans."""
    if hasattr(item, "start") and hasattr(item, "end"):
        return [(int(item.start), int(item.end))]
    found = [(s.start, s.end) for s in spans
             if s.kind.startswith(kind) and str(s.value) == str(item)]
    return found[:1] or [(0, 0)]


def _dedupe(hits: Iterable[Hit]) -> list[Hit]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for hit in hits:
        key = (hit.indicator, hit.start, hit.end)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out


def score_cluster(ads: Sequence[ScoredAd], lexicon: Lexicon, *,
                  link_signals: Mapping[str, Sequence[str]] | None = None) -> ClusterScore:
    """Score a cluster of ads as a transparent weighted sum.

    ``score = Σ_i weight_i × n_i / n`` over indicators ``i`` in the lexicon, where ``n`` is
    the number of ads in the cluster and ``n_i`` the number of ads showing ``i`` (each
    indicator counts once per cluster, however often it appears). ``link_signals`` maps
    linkage indicators (grade L, from ``Linker.link_signals``) to the ads they involve and is
    scored the same way. C and D indicators are listed with contribution 0. A single ad is a
    cluster of one, so the same function scores ads.
    """
    ad_ids = [ad.ad_id for ad in ads]
    n = len(ad_ids)
    if n == 0:
        return ClusterScore(0.0, [], lexicon.version, 0)
    showing: dict[str, list[str]] = {}
    for ad in ads:
        for indicator in dict.fromkeys(h.indicator for h in ad.hits):
            showing.setdefault(indicator, []).append(ad.ad_id)
    members = set(ad_ids)
    for indicator, involved in (link_signals or {}).items():
        hit_ads = [a for a in dict.fromkeys(involved) if a in members]
        if hit_ads:
            showing[indicator] = hit_ads
    rows = []
    for indicator, hit_ads in showing.items():
        entry = lexicon.get(indicator)
        if entry is None:
            continue  # an indicator retired from the lexicon since the hit was stored
        weight = 0.0 if entry.grade in UNSCORED_GRADES else entry.weight
        rows.append({"indicator": indicator, "label_nl": entry.label_nl,
                     "label_en": entry.label_en, "grade": entry.grade, "weight": weight,
                     "ads": hit_ads, "share": round(len(hit_ads) / n, 4),
                     "contribution": round(weight * len(hit_ads) / n, 4)})
    rows.sort(key=lambda r: (-r["contribution"], _GRADE_ORDER.get(r["grade"], 9),
                             r["indicator"]))
    return ClusterScore(round(sum(r["contribution"] for r in rows), 4), rows, lexicon.version, n)


def indicator_performance(clusters: Sequence[tuple[str, Sequence[ScoredAd]]],
                          lexicon: Lexicon | None = None) -> list[dict[str, Any]]:
    """Per indicator: share of ads showing it in clusters labelled trafficking vs independent.

    For the analyst report: once Dutch labels exist, an indicator that is not more common in
    trafficking clusters than in independent ones should lose weight. ``ratio`` is
    ``share_trafficking / share_independent`` (None when the indicator never occurs in
    independent clusters). Clusters with other labels (spam, scam, unclear) are ignored.
    """
    totals = {TRAFFICKING: 0, INDEPENDENT: 0}
    ads_with: dict[str, dict[str, int]] = {}
    clusters_with: dict[str, dict[str, int]] = {}
    for label, ads in clusters:
        if label not in totals:
            continue
        totals[label] += len(ads)
        in_cluster: set[str] = set()
        for ad in ads:
            for indicator in {h.indicator for h in ad.hits}:
                ads_with.setdefault(indicator, {TRAFFICKING: 0, INDEPENDENT: 0})[label] += 1
                in_cluster.add(indicator)
        for indicator in in_cluster:
            clusters_with.setdefault(indicator, {TRAFFICKING: 0, INDEPENDENT: 0})[label] += 1
    rows = []
    for indicator in sorted(ads_with):
        counts = ads_with[indicator]
        share_t = counts[TRAFFICKING] / totals[TRAFFICKING] if totals[TRAFFICKING] else 0.0
        share_i = counts[INDEPENDENT] / totals[INDEPENDENT] if totals[INDEPENDENT] else 0.0
        entry = lexicon.get(indicator) if lexicon is not None else None
        rows.append({"indicator": indicator,
                     "grade": entry.grade if entry else None,
                     "label_nl": entry.label_nl if entry else indicator,
                     "label_en": entry.label_en if entry else indicator,
                     "ads_trafficking": counts[TRAFFICKING],
                     "ads_independent": counts[INDEPENDENT],
                     "clusters_trafficking": clusters_with[indicator][TRAFFICKING],
                     "clusters_independent": clusters_with[indicator][INDEPENDENT],
                     "share_trafficking": round(share_t, 4),
                     "share_independent": round(share_i, 4),
                     "ratio": round(share_t / share_i, 3) if share_i else None})
    return rows


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("’", "'").split())
