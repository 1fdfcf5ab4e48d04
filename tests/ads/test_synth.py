"""The synthetic corpus: deterministic, with truth, and with the traps linking must survive."""

from __future__ import annotations

from collections import Counter

import pytest

from zichtbaar.ads import synth


@pytest.fixture(scope="module")
def ads() -> list[synth.SynthAd]:
    return synth.generate(networks=30, independents=600, seed=2)


def test_same_seed_same_corpus_other_seed_other_corpus(ads):
    assert synth.generate(networks=30, independents=600, seed=2) == ads
    assert synth.generate(networks=30, independents=600, seed=3) != ads


def test_truth_fields_are_consistent(ads):
    assert len({a.ad_id for a in ads}) == len(ads)
    assert [a.posted for a in ads] == sorted(a.posted for a in ads)
    for a in ads:
        assert a.phone_raw in a.text
        assert a.phone_e164.startswith(("+3161", "+3162")) and len(a.phone_e164) == 12
        assert (a.network is None) == (a.mode is None)
        assert a.advertiser == (a.network or a.advertiser) and a.advertiser
        assert len(a.image_seeds) == len(a.image_variants)
        assert a.email is None or a.email.endswith(".invalid")
        assert a.name in synth.NAMES


def test_networks_hold_several_women_and_move_between_cities(ads):
    by_net: dict[str, list[synth.SynthAd]] = {}
    for a in ads:
        if a.network:
            by_net.setdefault(a.network, []).append(a)
    assert {a.mode for a in ads if a.mode} == set(synth.MODES)
    for net_ads in by_net.values():
        assert len({a.name for a in net_ads}) >= 2 or len({a.age for a in net_ads}) >= 2
    assert sum(len({a.city for a in net_ads}) >= 2 for net_ads in by_net.values()) > 20
    phone_nets = [v for v in by_net.values() if v[0].mode == "phone"]
    assert all(len({a.phone_e164 for a in v}) == 1 for v in phone_nets)
    image_nets = [v for v in by_net.values() if v[0].mode == "images"]
    assert all(len({a.phone_e164 for a in v}) >= 2 for v in image_nets)


def test_every_ad_of_a_site_carries_the_site_boilerplate(ads):
    for site in synth.DEFAULT_SITES:
        site_ads = [a for a in ads if a.site == site]
        assert site_ads and all(site.title() in a.text for a in site_ads)
        tail = site_ads[0].text[-200:]
        assert all(a.text.endswith(tail) for a in site_ads)


def test_a_hub_number_appears_in_many_unrelated_ads(ads):
    hubs = Counter(p for a in ads for p in a.extra_phones)
    (hub, count), = hubs.items()
    assert count > 100
    assert len({a.advertiser for a in ads if hub in a.extra_phones}) > 50


def test_phones_are_written_in_many_styles_and_network_ads_use_more_grade_a_terms(ads):
    obscured = [a for a in ads if a.phone_obscured]
    assert 0.3 < len(obscured) / len(ads) < 0.7
    assert any("nul zes" in a.phone_raw for a in ads)
    assert any("O6" in a.phone_raw for a in ads)
    assert any(a.phone_raw.startswith("0031") for a in ads)
    grade_a = ("100% echt", "echte foto's", "net 18", "studentje", "real pics")

    def share(group):
        return sum(any(t in a.text.casefold() for t in grade_a) for a in group) / len(group)

    assert share([a for a in ads if a.network]) > 2 * share([a for a in ads if not a.network])


def test_extraction_recovers_the_phone_as_written():
    extract = pytest.importorskip("zichtbaar.ads.extract").extract
    sample = synth.generate(networks=5, independents=100, seed=9)
    hits = sum(a.phone_e164 in extract(a.text).phones for a in sample)
    assert hits / len(sample) >= 0.9


def test_image_png_is_deterministic_and_variants_stay_close_in_phash():
    images = pytest.importorskip("zichtbaar.ads.images")
    assert synth.image_png(11) == synth.image_png(11)
    h = images.image_hash(synth.image_png(11))
    assert h is not None and len(h) == 16
    for variant in (1, 2, 3):
        v = images.image_hash(synth.image_png(11, variant=variant))
        assert bin(int(h, 16) ^ int(v, 16)).count("1") <= 6
    others = [images.image_hash(synth.image_png(seed)) for seed in range(12, 30)]
    assert min(bin(int(h, 16) ^ int(o, 16)).count("1") for o in others) > 12


def test_fake_image_hash_mimics_phash_variants():
    base = int(synth.fake_image_hash(5), 16)
    assert bin(base ^ int(synth.fake_image_hash(5, 2), 16)).count("1") == 2
    assert bin(base ^ int(synth.fake_image_hash(6), 16)).count("1") > 12


def test_plan_sizes_the_corpus():
    networks, independents = synth.plan(10_000)
    size = len(synth.generate(networks=networks, independents=independents, seed=1))
    assert 8_500 < size < 11_500
