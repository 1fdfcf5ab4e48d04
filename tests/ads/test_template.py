"""Template-and-slots summaries of a cluster's texts."""

from __future__ import annotations

import pytest

from zichtbaar.ads import synth
from zichtbaar.ads.template import template_summary


def test_shared_text_is_kept_and_varying_parts_become_typed_slots():
    texts = ["Hoi ik ben Anna, 19 jaar, nieuw in Utrecht. Bel 06-12345678 voor een afspraak.",
             "Hoi ik ben Bela, 21 jaar, nieuw in Breda. Bel 06-22345678 voor een afspraak.",
             "Hoi ik ben Cora, 18 jaar, nieuw in Almere. Bel 06-32345678 voor een afspraak."]
    result = template_summary(texts)
    assert result.text == ("Hoi ik ben {NAME}, {AGE} jaar, nieuw in {CITY}. Bel {PHONE} "
                           "voor een afspraak.")
    assert [s["kind"] for s in result.slots] == ["NAME", "AGE", "CITY", "PHONE"]
    assert result.slots[0]["values"] == ["Anna", "Bela", "Cora"]
    assert 0.7 < result.coverage < 1
    assert result.texts == 3


def test_known_values_decide_the_slot_kind():
    texts = ["Vandaag Zwolle en morgen weg", "Vandaag Venlo en morgen weg"]
    assert template_summary(texts).slots[0]["kind"] == "NAME"  # capitalised, no cue
    known = template_summary(texts, known={"CITY": ["Zwolle", "Venlo"]})
    assert known.text == "Vandaag {CITY} en morgen weg"


def test_a_synthetic_network_template_is_recovered():
    ads = synth.generate(networks=40, independents=0, seed=5)
    women: dict[str, dict[str, synth.SynthAd]] = {}
    for a in ads:
        if a.mode == "template" and f"{a.name}, {a.age} jaar" in a.text:
            women.setdefault(a.network, {}).setdefault(a.name, a)
    net = max(women, key=lambda n: len(women[n]))
    assert len(women[net]) >= 3
    texts = [a.text.split(" Bel of app ")[0] for a in women[net].values()]  # one ad per woman
    result = template_summary(texts)
    kinds = {s["kind"] for s in result.slots}
    assert {"NAME", "AGE"} <= kinds
    assert result.coverage > 0.6
    names = next(s for s in result.slots if s["kind"] == "NAME")["values"]
    assert set(names) <= set(women[net])


def test_big_clusters_are_sampled():
    texts = [f"Hoi ik ben Naam{n % 7}, {20 + n % 9} jaar en woon in de buurt." for n in range(5000)]
    result = template_summary(texts, max_texts=50)
    assert result.sampled == 50 and result.texts == 5000
    assert "{AGE} jaar en woon in de buurt." in result.text


@pytest.mark.parametrize("texts", [[], ["", "  "]])
def test_empty_input_gives_an_empty_template(texts):
    result = template_summary(texts)
    assert result.text == "" and result.slots == [] and result.coverage == 0


def test_identical_texts_have_no_slots_and_full_coverage():
    result = template_summary(["Zelfde tekst 👑 hier."] * 4)
    assert result.text == "Zelfde tekst 👑 hier." and result.slots == [] and result.coverage == 1
