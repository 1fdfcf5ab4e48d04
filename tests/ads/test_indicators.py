"""Indicator hits with offsets, derived hits from the extraction, and cluster scores."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zichtbaar.ads.indicators import (
    ScoredAd,
    indicator_hits,
    indicator_performance,
    score_cluster,
)
from zichtbaar.ads.lexicon import load_lexicon


@dataclass(frozen=True)
class FakeSpan:
    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class FakeExtraction:
    """The duck-typed shape of ``zichtbaar.ads.extract.Extraction``."""

    ages: tuple[int, ...] = ()
    spans: tuple[FakeSpan, ...] = ()
    obscured_phones: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def found(hits):
    return [(h.indicator, h.text) for h in hits]


def test_terms_match_case_insensitively_on_word_boundaries_with_offsets(lexicon):
    text = "Echte foto’s! 100% ECHT. Jonge meid, dag en nacht. Jongen? jongleren."
    hits = indicator_hits(text, None, lexicon)
    assert found(hits) == [("trust_language", "Echte foto’s"), ("trust_language", "100% ECHT"),
                           ("youth_language", "Jonge meid"),
                           ("availability_24_7", "dag en nacht")]
    for hit in hits:
        assert text[hit.start:hit.end] == hit.text
    assert hits[0].grade == "A" and hits[0].weight == 3.0


def test_emoji_match_as_tokens_even_without_spaces(lexicon):
    hits = indicator_hits("Lief👑meisje 🌹x", None, lexicon)
    assert found(hits) == [("emoji_codes", "👑"), ("emoji_codes", "🌹")]


def test_movement_language_is_found_but_carries_no_weight(lexicon):
    hits = indicator_hits("Nieuw in Utrecht, alleen deze week!", None, lexicon)
    assert {h.indicator for h in hits} == {"movement_language"}
    assert all(h.weight == 0 and h.grade == "C" for h in hits)


def test_obscured_phone_and_young_age_are_derived_from_the_extraction(lexicon):
    text = "Sanne 18 jaar, bel nul zes een twee drie vier vijf zes zeven acht"
    phone_at = text.index("nul")
    extraction = FakeExtraction(
        ages=(18,),
        spans=(FakeSpan("age", "18", 6, 8), FakeSpan("phone", "+31612345678", phone_at,
                                                     len(text))),
        obscured_phones=("+31612345678",))
    hits = {h.indicator: h for h in indicator_hits(text, extraction, lexicon)}
    assert hits["obscured_phone"].grade == "A"
    assert hits["obscured_phone"].text == text[phone_at:]
    assert hits["young_age"].text == "18"
    older = FakeExtraction(ages=(19,), spans=(FakeSpan("age", "19", 6, 8),))
    assert not indicator_hits("Sanne 19 jaar", older, lexicon)


def test_real_extraction_feeds_derived_hits(lexicon):
    extract = pytest.importorskip("zichtbaar.ads.extract").extract
    text = "Hoi ik ben Lotte, 18 jaar. Bel nul zes een twee drie vier vijf zes zeven acht"
    hits = {h.indicator for h in indicator_hits(text, extract(text), lexicon)}
    assert "obscured_phone" in hits


def test_cluster_score_is_a_weighted_share_sum_with_an_explanation(lexicon):
    ads = [ScoredAd("a1", indicator_hits("100% echt, nieuw in de stad", None, lexicon)),
           ScoredAd("a2", indicator_hits("100% echt en 24/7", None, lexicon)),
           ScoredAd("a3", indicator_hits("Gewoon een tekst", None, lexicon)),
           ScoredAd("a4", ())]
    result = score_cluster(ads, lexicon, link_signals={"phone_multi_city": ["a1", "a2", "a9"]})
    rows = {r["indicator"]: r for r in result.explanation}
    # trust: A (3.0) x 2/4; 24/7: B (1.5) x 1/4; phone_multi_city: L (2.0) x 2/4; movement: 0
    assert rows["trust_language"]["contribution"] == pytest.approx(1.5)
    assert rows["trust_language"]["ads"] == ["a1", "a2"]
    assert rows["availability_24_7"]["contribution"] == pytest.approx(0.375)
    assert rows["phone_multi_city"]["ads"] == ["a1", "a2"]  # a9 is not in this cluster
    assert rows["movement_language"]["contribution"] == 0
    assert result.score == pytest.approx(1.5 + 0.375 + 1.0)
    contributions = [r["contribution"] for r in result.explanation]
    assert contributions == sorted(contributions, reverse=True)
    assert result.explanation[-1]["indicator"] == "movement_language"
    assert {"label_nl", "label_en", "grade", "weight"} <= set(result.explanation[0])
    assert result.lexicon_version == lexicon.version


def test_an_indicator_counts_once_per_ad(lexicon):
    once = score_cluster([ScoredAd("a", indicator_hits("echt 100% echt", None, lexicon))],
                         lexicon)
    many = score_cluster([ScoredAd("a", indicator_hits("100% echt " * 5, None, lexicon))],
                         lexicon)
    assert once.score == many.score == 3.0


def test_indicator_performance_compares_trafficking_and_independent_clusters(lexicon):
    def ad(ad_id: str, text: str) -> ScoredAd:
        return ScoredAd(ad_id, indicator_hits(text, None, lexicon))

    clusters = [("trafficking", [ad("t1", "100% echt"), ad("t2", "100% echt"), ad("t3", "x")]),
                ("independent", [ad("i1", "nieuw in de stad"), ad("i2", "100% echt")]),
                ("spam", [ad("s1", "100% echt")])]
    rows = {r["indicator"]: r for r in indicator_performance(clusters, lexicon)}
    trust = rows["trust_language"]
    assert (trust["ads_trafficking"], trust["ads_independent"]) == (2, 1)
    assert trust["share_trafficking"] == pytest.approx(2 / 3, abs=1e-4)  # rounded to 4 places
    assert trust["share_independent"] == 0.5
    assert trust["ratio"] == pytest.approx((2 / 3) / (1 / 2), abs=1e-3)
    assert rows["movement_language"]["ratio"] == 0
