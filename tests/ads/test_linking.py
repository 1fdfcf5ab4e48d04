"""Linking ads into networks: measured against synthetic truth, incremental, explainable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pytest

from zichtbaar.ads import synth
from zichtbaar.ads.linking import (
    AdRecord,
    Linker,
    LinkSettings,
    minhash_signatures,
    normalise_tokens,
    timeline,
)

P_MIN, R_MIN = 0.95, 0.90


def to_records(ads: Sequence[synth.SynthAd], *, identifiers: bool = True) -> list[AdRecord]:
    """What the crawler pipeline would hand the linker (identifiers from the truth fields)."""
    out = []
    for a in ads:
        hashes = tuple(synth.fake_image_hash(s, v)
                       for s, v in zip(a.image_seeds, a.image_variants, strict=True))
        out.append(AdRecord(
            a.ad_id, a.text,
            phones=(a.phone_e164, *a.extra_phones) if identifiers else (),
            emails=(a.email,) if identifiers and a.email else (),
            image_hashes=hashes if identifiers else (),
            city=a.city, posted=a.posted, site=a.site, names=(a.name,)))
    return out


def pairwise(ads: Sequence[synth.SynthAd], clusters: Mapping[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of the clustering against the true advertisers."""
    def pairs(counter: Counter) -> int:
        return sum(v * (v - 1) // 2 for v in counter.values())

    truth = pairs(Counter(a.advertiser for a in ads))
    found = pairs(Counter(clusters.get(a.ad_id, a.ad_id) for a in ads))
    both = pairs(Counter((a.advertiser, clusters.get(a.ad_id, a.ad_id)) for a in ads))
    return (both / found if found else 1.0), (both / truth if truth else 1.0)


def partition(linker: Linker) -> set[frozenset[str]]:
    return {frozenset(ads) for ads in linker.clusters().values()}


@pytest.fixture(scope="module")
def corpus() -> list[synth.SynthAd]:
    return synth.generate(networks=60, independents=1500, seed=11)


@pytest.fixture(scope="module")
def linked(corpus) -> Linker:
    linker = Linker()
    linker.add(to_records(corpus))
    return linker


def test_networks_are_recovered_with_high_pairwise_precision_and_recall(corpus, linked):
    precision, recall = pairwise(corpus, linked.cluster_map())
    print(f"\nlinking {len(corpus)} synthetic ads: pairwise precision {precision:.4f}, "
          f"recall {recall:.4f}, {len(linked.clusters())} clusters")
    assert precision >= P_MIN
    assert recall >= R_MIN


def test_text_links_alone_recover_template_networks(corpus):
    """No phones, e-mails or images at all: only the boilerplate-free MinHash text links."""
    linker = Linker()
    linker.add(to_records(corpus, identifiers=False))
    scope = [a for a in corpus if a.mode in ("template", None)]
    precision, recall = pairwise(scope, linker.cluster_map())
    print(f"\ntext only, template networks and independents: precision {precision:.4f}, "
          f"recall {recall:.4f}")
    assert precision >= P_MIN
    assert recall >= 0.85


def test_plain_minhash_on_raw_text_would_merge_independent_advertisers(corpus):
    """The guard matters: the same site's boilerplate makes unrelated ads near-duplicates."""
    from datasketch import MinHash, MinHashLSH

    independents = [a for a in corpus if a.network is None and a.site == "voorbeeldsite"][:300]
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for a in independents:
        words = normalise_tokens(a.text)
        m = MinHash(num_perm=128)
        for i in range(max(1, len(words) - 2)):
            m.update(" ".join(words[i:i + 3]).encode())
        lsh.insert(a.ad_id, m)
    owner = {a.ad_id: a.advertiser for a in independents}
    plain = Linker(LinkSettings(boilerplate_sample=0))  # the same linker, guard switched off
    plain.add(to_records(independents, identifiers=False))
    guarded = Linker()
    guarded.add(to_records(independents, identifiers=False))
    falsely_joined = 0
    for a in independents:
        m = MinHash(num_perm=128)
        words = normalise_tokens(a.text)
        for i in range(max(1, len(words) - 2)):
            m.update(" ".join(words[i:i + 3]).encode())
        if any(owner[other] != a.advertiser for other in lsh.query(m)):
            falsely_joined += 1
    p_plain, _ = pairwise(independents, plain.cluster_map())
    p_guarded, _ = pairwise(independents, guarded.cluster_map())
    print(f"\n{falsely_joined}/{len(independents)} independents' ads have a plain-MinHash "
          f"neighbour from another advertiser; precision without guard {p_plain:.4f}, "
          f"with guard {p_guarded:.4f}")
    assert falsely_joined > 0.8 * len(independents)
    assert p_plain < 0.1
    assert p_guarded >= P_MIN


def test_hub_number_is_pruned_and_reported(corpus, linked):
    hub = next(a.extra_phones[0] for a in corpus if a.extra_phones)
    pruned = {(p["kind"], p["value"]): p for p in linked.pruned()}
    assert ("phone", hub) in pruned
    assert pruned[("phone", hub)]["ads"] > 100
    assert "switchboard" in pruned[("phone", hub)]["reason"]
    stock = synth.fake_image_hash(synth.STOCK_IMAGE_SEED, 0)
    assert ("image", stock) in pruned
    naive = Linker(LinkSettings(hub_max_partners=10**9, hub_image_max_contacts=10**9))
    naive.add(to_records(corpus))
    precision, _ = pairwise(corpus, naive.cluster_map())
    print(f"\nwithout hub pruning: precision {precision:.4f}")
    assert precision < 0.5
    assert not naive.pruned()


def test_two_batches_with_a_state_round_trip_equal_one_batch(corpus, linked):
    records = to_records(corpus)
    cut = 300  # inside the boilerplate warm-up, so the re-signing path is exercised
    first = Linker()
    update1 = first.add(records[:cut])
    keys_before = {ad: key for ad, key in first.cluster_map().items()}
    state = first.to_state()
    second = Linker.from_state(state)
    assert partition(second) == partition(first)
    update2 = second.add(records[cut:])
    assert partition(second) == partition(linked)
    # keys of the first batch survive, unless merged into an older one or split off when the
    # hub number (not yet recognisable among 300 ads) was pruned
    after = second.cluster_map()
    merged = {k for ks in update2.merged.values() for k in ks}
    for ad, key in keys_before.items():
        assert (after.get(ad) == key or key in merged or after.get(ad) in update2.split.get(key, ())
                or key in update2.dissolved or ad not in after)
    assert sum(after.get(ad) == key for ad, key in keys_before.items()) > 0.8 * len(keys_before)
    print(f"\nbatch 2: {len(update2.new_clusters)} new, {len(update2.grown_clusters)} grown, "
          f"{len(update2.merged)} merges, {len(update2.split)} splits, "
          f"{len(update2.dissolved)} dissolved")
    assert update1.new_clusters and update2.added == len(records) - cut
    assert second.add(records[:10]).skipped == 10


def test_merging_clusters_keeps_the_older_key():
    linker = Linker()
    r = [AdRecord("a1", "", phones=("+31611111111",)), AdRecord("a2", "", phones=("+31611111111",)),
         AdRecord("b1", "", phones=("+31622222222",)), AdRecord("b2", "", phones=("+31622222222",))]
    first = linker.add(r)
    ka, kb = linker.cluster_of("a1"), linker.cluster_of("b1")
    assert ka != kb and sorted(first.new_clusters) == sorted([ka, kb])
    update = linker.add([AdRecord("c", "", phones=("+31611111111", "+31622222222"))])
    older, younger = sorted([ka, kb])
    assert update.merged == {older: [younger]}
    assert set(linker.clusters()) == {older}
    assert update.assignments == {"b1": older, "b2": older, "c": older}
    assert update.grown_clusters == [older]


def test_edges_say_why_ads_are_joined(corpus, linked):
    kinds = set()
    for key in list(linked.clusters())[:200]:
        edges = linked.edges(key)
        assert edges
        members = set(linked.clusters()[key])
        assert all(e["a"] in members and e["b"] in members for e in edges)
        kinds.update(e["kind"] for e in edges)
    assert {"phone", "text", "image"} <= kinds
    assert linked.edges("c9999999") == []


def test_near_duplicate_image_hashes_link_and_far_ones_do_not():
    base = int("f0f0f0f0f0f0f0f0", 16)
    near = f"{base ^ 0b1000000000010000100:016x}"  # 3 bits apart
    far = f"{base ^ 0x1FF:016x}"  # 9 bits apart
    linker = Linker()
    linker.add([AdRecord("a", "", image_hashes=(f"{base:016x}",)),
                AdRecord("b", "", image_hashes=(near,)), AdRecord("c", "", image_hashes=(far,))])
    assert linker.cluster_of("a") == linker.cluster_of("b") is not None
    assert linker.cluster_of("c") is None
    assert any(e["kind"] == "image_near" for e in linker.edges(linker.cluster_of("a")))


def test_real_perceptual_hashes_of_reencoded_synthetic_images_link():
    image_hash = pytest.importorskip("zichtbaar.ads.images").image_hash
    records = [AdRecord("a", "", phones=("+31610000001",),
                        image_hashes=(image_hash(synth.image_png(501, variant=0)),)),
               AdRecord("b", "", phones=("+31610000002",),
                        image_hashes=(image_hash(synth.image_png(501, variant=2)),)),
               AdRecord("c", "", phones=("+31610000003",),
                        image_hashes=(image_hash(synth.image_png(502)),))]
    linker = Linker()
    linker.add(records)
    assert linker.cluster_of("a") == linker.cluster_of("b") is not None
    assert linker.cluster_of("c") is None


def test_vectorised_minhash_equals_datasketch():
    from datasketch import MinHash

    sets = [[1, 2, 3, 4_000_000_000], [7], list(range(100, 160))]
    ours = minhash_signatures(sets, num_perm=64, seed=3)
    for values, row in zip(sets, ours, strict=True):
        m = MinHash(num_perm=64, seed=3, hashfunc=lambda x: x)
        for v in values:
            m.update(v)
        assert np.array_equal(np.asarray(m.hashvalues, np.uint64), row.astype(np.uint64))


def test_link_signals_name_the_linkage_indicators(corpus, linked):
    seen: set[str] = set()
    by_network = {a.ad_id: a.network for a in corpus}
    for key, ads in linked.clusters().items():
        signals = linked.link_signals(key)
        seen.update(signals)
        for involved in signals.values():
            assert set(involved) <= set(ads)
        if signals and all(by_network[a] is None for a in ads):
            assert "template_cluster" not in signals and "phone_many_profiles" not in signals
    assert {"phone_multi_city", "phone_many_profiles", "image_reuse", "template_cluster"} <= seen


def test_timeline_by_phone_and_by_cluster():
    records = [AdRecord("a", "", phones=("+31611111111",), city="Utrecht", posted=date(2026, 1, 2)),
               AdRecord("b", "", phones=("+31611111111",), city="Breda", posted=date(2026, 1, 1)),
               AdRecord("c", "", phones=("+31611111111",), city="Breda", posted=date(2026, 1, 1)),
               AdRecord("d", "", phones=("+31622222222",), city=None, posted=date(2026, 1, 1))]
    rows = timeline(records, by="phone")
    assert rows == [{"key": "+31611111111", "city": "Breda", "date": date(2026, 1, 1), "ads": 2},
                    {"key": "+31611111111", "city": "Utrecht", "date": date(2026, 1, 2),
                     "ads": 1}]
    linker = Linker()
    linker.add(records)
    by_cluster = timeline(records, by="cluster", clusters=linker.cluster_map())
    assert [r["city"] for r in by_cluster] == ["Breda", "Utrecht"]
    with pytest.raises(ValueError, match="needs clusters"):
        timeline(records, by="cluster")


def test_settings_round_trip_and_reject_unknown_keys():
    settings = LinkSettings(lsh_threshold=0.6, image_max_distance=4)
    assert LinkSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="unknown link settings: colour"):
        LinkSettings.from_dict({"colour": "red"})


def test_state_rejects_foreign_bytes():
    with pytest.raises(ValueError, match="not a linker state"):
        Linker.from_state(b"definitely not a state")


def test_emoji_are_kept_as_tokens_and_phones_dropped():
    tokens = normalise_tokens("Hoi 👑 bel nul zes een twee drie of 06-12345678, mail x@y.nl 🌹")
    assert tokens == ["hoi", "👑", "bel", "of", "mail", "🌹"]


# ---------------------------------------------------------------- compiled paths (ads._jit)
def _reference_shingles(text: str, k: int = 3) -> list[int]:
    """The shingle hashes of one text the slow, obvious way: ``normalise_tokens``, crc32 per
    token, the k-shingle mix and fmix64 in Python integers."""
    import zlib

    mask = (1 << 64) - 1
    tokens = [zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in normalise_tokens(text)]
    out = set()
    for p in range(max(1, len(tokens) - k + 1)) if tokens else ():
        mixed = 0
        for shift in range(k):
            part = tokens[p + shift] + shift + 1 if p + shift < len(tokens) else 0
            mixed = ((mixed * 0x100000001B3) & mask) ^ part
        h = mixed
        h ^= h >> 33
        h = (h * 0xFF51AFD7ED558CCD) & mask
        h ^= h >> 33
        h = (h * 0xC4CEB9FE1A85EC53) & mask
        h ^= h >> 33
        out.add(h >> 32)
    return sorted(out)


def _hostile_texts(count: int, seed: int) -> list[str]:
    """Texts that stress the compiled tokeniser: case folding that changes length (ß, İ, ΐ,
    ﬁ, ſ, K), digits that are letters to the regex (², ①), number words, URL and e-mail
    edge cases, NUL and lone surrogates, and code points from every plane."""
    import random

    rng = random.Random(seed)
    pieces = [*"aAbBzZ .,:/@+-_wWhHtTpPsS019²①٣\t\n\x00\x01\ud800éΣς", "ß", "ẞ", "İ", "ı", "ΐ",
              "ﬁ", "ſ", "K", "één", "nul", "een", "TWEE", "drie", "vier", "👑", "🌹", "☀", "➀",
              "http://", "HTTPS://", "https:/", "www.", "WwW.", "a@b.nl", ".+x@c.nl", "@@",
              "x@y", "mail@site.nl.", " 06 12 34 ", "nul zes een twee drie"]
    texts = []
    for n in range(count):
        if n % 5 == 4:
            texts.append("".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(0, 40))))
        else:
            texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 50))))
    return texts


@pytest.mark.parametrize("workers", [1, 2])
def test_compiled_shingles_equal_the_python_reference(corpus, workers):
    from zichtbaar.ads.linking import shingle_texts

    texts = [a.text for a in corpus] + _hostile_texts(3000, seed=7)
    docs, counts = shingle_texts(texts, 3, workers)
    assert counts.sum() == len(docs)
    at = np.r_[0, np.cumsum(counts)]
    wrong = [t for n, t in enumerate(texts)
             if sorted(docs[at[n]:at[n + 1]].tolist()) != _reference_shingles(t)
             or len(set(docs[at[n]:at[n + 1]].tolist())) != counts[n]]
    assert not wrong, f"{len(wrong)} texts differ, e.g. {wrong[:3]!r}"


def test_compiled_signatures_and_band_keys_equal_datasketch_minhash(corpus):
    from zichtbaar.ads.linking import shingle_texts

    ads = corpus[:200]
    linker = Linker(LinkSettings(boilerplate_sample=0, text_min_shingles=1))
    linker.add(to_records(ads, identifiers=False))
    docs, counts = shingle_texts([a.text for a in ads], 3)
    at = np.r_[0, np.cumsum(counts)]
    sets = [docs[at[n]:at[n + 1]].tolist() for n in range(len(ads))]
    expected = minhash_signatures(sets, num_perm=128, seed=1)  # proven equal to datasketch
    assert np.array_equal(linker._sig, (expected & 0xFF).astype(np.uint8))
    bands, rows = linker.settings.bands
    mask = (1 << 64) - 1
    for n in (0, 57, 199):
        for band in range(bands):
            mixed = sum(int(v) * int(m) for v, m in
                        zip(expected[n, band * rows:(band + 1) * rows], linker._band_mult,
                            strict=True)) + band
            mixed &= mask
            mixed ^= mixed >> 33
            mixed = (mixed * 0xFF51AFD7ED558CCD) & mask
            mixed ^= mixed >> 33
            mixed = (mixed * 0xC4CEB9FE1A85EC53) & mask
            mixed ^= mixed >> 33
            assert linker._bandkey[n, band] == mixed >> 32


def test_threads_change_nothing_but_time(corpus, linked):
    threaded = Linker(LinkSettings(workers=2))
    threaded.add(to_records(corpus))
    assert threaded.cluster_map() == linked.cluster_map()
    assert np.array_equal(threaded._text_edges, linked._text_edges)
    assert np.array_equal(threaded._sig, linked._sig)
    assert np.array_equal(threaded._near, linked._near)


def test_image_probes_find_exactly_the_pairs_within_the_distance():
    from zichtbaar.ads.linking import _near_pairs

    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, size=400, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    flips = np.zeros(400, np.uint64)  # copies 0 to 10 bits away from an earlier hash
    for n in range(400):
        for bit in rng.choice(64, size=rng.integers(0, 11), replace=False):
            flips[n] |= np.uint64(1) << np.uint64(bit)
    hashes = np.concatenate([base, base[rng.integers(0, 400, size=400)] ^ flips])
    start = 300
    found = {tuple(r) for r in _near_pairs(hashes, start, 6).tolist()}
    brute = {(i, j, bin(int(hashes[i] ^ hashes[j])).count("1"))
             for i in range(start, len(hashes)) for j in range(i)
             if bin(int(hashes[i] ^ hashes[j])).count("1") <= 6}
    assert found == brute
    assert len(brute) > 100
