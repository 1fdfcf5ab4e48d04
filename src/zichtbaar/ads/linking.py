"""Ads → networks: an entity graph plus near-duplicate text, incremental, with hub pruning.

Why this shape (``shared/research/online.md`` §0, §6.3, §6.5): linking beats classifying, so
ads are joined when they share a phone, e-mail, handle or (near-)identical image hash, or when
their texts are near-duplicates. Two failure modes of naive linking are designed out:

* **Hubs.** A switchboard, booking-agency or platform number (or a stock photo) shared by many
  unrelated advertisers would chain them into one giant network (Freeman et al.). An identifier
  is pruned when it sits next to implausibly many *other* contact details in the same ads, or
  occurs in more ads than ``hub_max_ads``; :meth:`Linker.pruned` shows the analyst which and why.
* **Site boilerplate.** Every ad on a site repeats the site's disclaimer, so plain MinHash on
  the raw text merges unrelated independents. Per site, the linker learns boilerplate shingles
  from the site's first ``boilerplate_sample`` ads: shingles that occur next to at least
  ``max(boilerplate_min_phones, boilerplate_share × contacts in the sample)`` distinct contact
  details. They are removed before MinHash, and a text with fewer than ``text_min_shingles``
  shingles left takes no part in text links. While a site is still in its sample, its ads are
  re-signed on every add, so two batches give the same result as one.

MinHash signatures are datasketch's (``affine32`` scheme, same permutations, seed and hash
mix as ``datasketch.MinHash``) but computed for a whole batch at once by compiled code
(``_jit``); banding parameters are datasketch's ``MinHashLSH`` optimum for the threshold.
Buckets are joined by sorting, so a million ads take seconds, not the ~100 µs per ad of
per-document ``update``. Candidate pairs are verified on the stored signature (8-bit b-bit
MinHash). Tokenising, MinHash, bucket pairs and image probes are numba kernels that release
the GIL; ``LinkSettings.workers`` threads share them (100,000 ads: 19 s in Python and numpy,
about 2 s compiled, ``bench/watch.py``).

Images: 64-bit pHash hex strings are matched exactly and within ``image_max_distance`` bits
(multi-index hashing: four 16-bit bands, probing each band within ``⌊d/4⌋`` bit flips, which
by the pigeonhole principle finds every pair within ``d``).

Phone numbers and addresses are treated as opaque strings: callers may pass keyed HMACs
instead of plaintext (online.md §6.5).
"""

from __future__ import annotations

import gc
import io
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import lru_cache
from itertools import chain, combinations, compress
from operator import attrgetter, methodcaller
from typing import Any, Literal

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

STATE_FORMAT = "zichtbaar.ads.linking/1"
CONTACT_KINDS = ("phone", "email", "handle")
KINDS = (*CONTACT_KINDS, "image")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
_IMAGE = _KIND_CODE["image"]
_U32 = np.uint32
_U64 = np.uint64


@dataclass(frozen=True)
class AdRecord:
    """What the linker needs of one ad (identifiers already normalised by ``extract``)."""

    ad_id: str
    text: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    image_hashes: tuple[str, ...] = ()
    city: str | None = None
    posted: date | None = None
    site: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkSettings:
    """Every knob of the linker; stored with the state so a run can be reproduced."""

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 3
    lsh_threshold: float = 0.5
    text_min_similarity: float = 0.5
    text_min_shingles: int = 6
    boilerplate_sample: int = 500
    boilerplate_min_phones: int = 8
    boilerplate_share: float = 0.05
    image_max_distance: int = 6
    hub_max_partners: int = 12
    hub_image_max_contacts: int = 12
    hub_max_ads: int = 5000
    bucket_cap: int = 50
    multi_city_days: int = 30
    multi_city_min: int = 3
    many_profiles_min: int = 3
    workers: int = 1  # threads for the compiled steps (they release the GIL)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown link settings: {', '.join(unknown)}")
        return cls(**dict(data))

    @property
    def bands(self) -> tuple[int, int]:
        """(bands, rows) from datasketch's false-positive/negative optimum for the threshold."""
        return _lsh_bands(self.lsh_threshold, self.num_perm)


@lru_cache(maxsize=16)
def _lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    # datasketch finds the optimum by numerical integration: ~60 ms, so once per process
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


@dataclass
class LinkUpdate:
    """What one :meth:`Linker.add` changed.

    ``assignments`` maps every ad whose cluster key changed (new ads joining, ads of merged
    clusters) to its key; ``merged`` maps a surviving (older) key to the keys it absorbed;
    ``split`` maps a key to the new keys of parts that split off it, and ``dissolved`` lists
    keys that no longer exist; both happen when a newly pruned hub stops joining ads.
    """

    assignments: dict[str, str] = field(default_factory=dict)
    new_clusters: list[str] = field(default_factory=list)
    grown_clusters: list[str] = field(default_factory=list)
    merged: dict[str, list[str]] = field(default_factory=dict)
    split: dict[str, list[str]] = field(default_factory=dict)
    dissolved: list[str] = field(default_factory=list)
    added: int = 0
    skipped: int = 0


class Linker:
    """Incremental ad linker; see the module docstring for the design."""

    def __init__(self, settings: LinkSettings | None = None) -> None:
        self.settings = settings or LinkSettings()
        s = self.settings
        nb, rows = s.bands
        self._nb, self._rows = nb, rows
        from datasketch import MinHash

        a, b = MinHash(num_perm=s.num_perm, seed=s.seed, scheme="affine32").permutations
        self._perm_a = np.asarray(a, dtype=_U32)
        self._perm_b = np.asarray(b, dtype=_U32)
        mult = np.random.default_rng(s.seed).integers(1, 2**63, size=rows, dtype=np.int64)
        self._band_mult = (mult.astype(_U64) << _U64(1)) | _U64(1)
        # ads
        self._ad_ids: list[str] = []
        self._index: dict[str, int] = {}
        self._site_names: list[str] = []
        self._site_code: dict[str, int] = {}
        self._site = np.zeros(0, np.int32)
        self._city: list[str | None] = []
        self._posted = np.zeros(0, np.int32)  # date ordinal, 0 = unknown
        self._names: list[Sequence[str]] = []  # as given; normalised where compared
        # identifiers: table + (ad, ident) incidence
        self._ident_kind = np.zeros(0, np.int8)
        self._ident_value: list[str] = []
        self._ident_code: list[dict[str, int]] = [{} for _ in KINDS]  # per kind: value → id
        self._inc_ad = np.zeros(0, np.int64)
        self._inc_ident = np.zeros(0, np.int64)
        self._pruned: dict[int, str] = {}
        # images (near matches)
        self._img_ident = np.zeros(0, np.int64)
        self._img_hash = np.zeros(0, _U64)
        self._near = np.zeros((0, 3), np.int64)  # ident a, ident b, distance
        # text
        self._sig = np.zeros((0, s.num_perm), np.uint8)
        self._bandkey = np.zeros((0, nb), _U32)
        self._text_ok = np.zeros(0, bool)
        self._text_edges = np.zeros((0, 2), np.int64)
        self._text_sim = np.zeros(0, np.float32)
        self._boiler: dict[int, np.ndarray] = {}
        self._warm: dict[int, list[int]] = {}
        self._warm_shingles: dict[int, np.ndarray] = {}
        self._frozen: set[int] = set()
        # clusters
        self._key = np.zeros(0, np.int64)  # cluster key number per ad, -1 = none
        self._next_key = 1
        self._index_cache: _ClusterIndex | None = None

    # ------------------------------------------------------------------ public API
    def add(self, records: Sequence[AdRecord]) -> LinkUpdate:
        """Add ads (already-known ad ids are skipped) and update clusters incrementally."""
        fresh: list[AdRecord] = []
        seen = set(self._index)
        for rec in records:
            if rec.ad_id in seen:
                continue
            seen.add(rec.ad_id)
            fresh.append(rec)
        first = len(self._ad_ids)
        new_idx = np.arange(first, first + len(fresh), dtype=np.int64)
        # Millions of small tuples and no cycles: the cyclic collector would only rescan the
        # caller's heap again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with _Shingling([r.text for r in fresh], self.settings) as shingling:
                # the compiled shingling runs in threads while Python reads the identifiers
                self._append_ads(fresh)
                self._detect_hubs()
                self._match_images(first)
                docs, lengths = shingling.result()
            self._link_text(new_idx, docs, lengths)
            update = self._recluster()
        finally:
            if collecting:
                gc.enable()
        self._index_cache = None
        update.added, update.skipped = len(fresh), len(records) - len(fresh)
        return update

    def clusters(self) -> dict[str, list[str]]:
        """``{cluster_key: [ad_id, ...]}`` for clusters of two or more ads."""
        out: dict[str, list[str]] = {}
        for i in np.flatnonzero(self._key >= 0):
            out.setdefault(_key_name(int(self._key[i])), []).append(self._ad_ids[i])
        return out

    def cluster_map(self) -> dict[str, str]:
        """``{ad_id: cluster_key}`` for every clustered ad (for :func:`timeline`)."""
        return {self._ad_ids[i]: _key_name(int(self._key[i]))
                for i in np.flatnonzero(self._key >= 0)}

    def cluster_of(self, ad_id: str) -> str | None:
        i = self._index.get(ad_id)
        if i is None or self._key[i] < 0:
            return None
        return _key_name(int(self._key[i]))

    def pruned(self) -> list[dict[str, Any]]:
        """Identifiers ignored as hubs: ``[{kind, value, ads, reason}]``, most ads first."""
        counts = np.bincount(self._inc_ident, minlength=len(self._ident_value))
        rows = [{"kind": KINDS[self._ident_kind[i]], "value": self._ident_value[i],
                 "ads": int(counts[i]), "reason": reason} for i, reason in self._pruned.items()]
        return sorted(rows, key=lambda r: (-r["ads"], r["kind"], r["value"]))

    def edges(self, cluster_key: str) -> list[dict[str, Any]]:
        """Why the ads of a cluster are joined: ``[{a, b, kind, value}]``.

        One edge per ad and shared identifier (a star from the identifier's first ad), every
        near-image pair and every verified text link inside the cluster.
        """
        members = self._members(cluster_key)
        if members.size == 0:
            return []
        out: list[dict[str, Any]] = []
        idx = self._cluster_index()
        first: dict[int, int] = {}
        for ad, ident in idx.incidences(members):
            if ident in self._pruned:
                continue
            if ident in first:
                out.append({"a": self._ad_ids[first[ident]], "b": self._ad_ids[ad],
                            "kind": KINDS[self._ident_kind[ident]],
                            "value": self._ident_value[ident]})
            else:
                first[ident] = ad
        ads_of = self._ads_of_idents(members)
        for a, b, dist in idx.near_rows(self._near, cluster_key):
            if a in self._pruned or b in self._pruned:
                continue
            if ads_of.get(a) and ads_of.get(b):
                out.append({"a": self._ad_ids[ads_of[a][0]], "b": self._ad_ids[ads_of[b][0]],
                            "kind": "image_near",
                            "value": f"{self._ident_value[a]}~{self._ident_value[b]} "
                                     f"({dist} bits)"})
        rows = idx.text_rows(cluster_key)
        for (a, b), sim in zip(self._text_edges[rows].tolist(), self._text_sim[rows].tolist(),
                               strict=True):
            out.append({"a": self._ad_ids[a], "b": self._ad_ids[b], "kind": "text",
                        "value": f"similarity {sim:.2f}"})
        return out

    def link_signals(self, cluster_key: str) -> dict[str, list[str]]:
        """Grade-L indicators of a cluster, ``{indicator: [ad_id, ...]}``, for scoring.

        ``phone_multi_city``: one phone in ads in ``multi_city_min`` or more cities within
        ``multi_city_days``; ``phone_many_profiles``: one phone behind ``many_profiles_min`` or
        more names; ``image_reuse``: one image (or near copy) with different phones or names;
        ``template_cluster``: text links between ads with different phones or names.
        """
        s = self.settings
        members = self._members(cluster_key)
        out: dict[str, set[int]] = {}
        ads_of = self._ads_of_idents(members)
        contacts = {ad: set() for ad in members.tolist()}
        names_of = {ad: _names(self._names[ad]) for ad in members.tolist()}
        for ident, ads in ads_of.items():
            if self._ident_kind[ident] != _IMAGE:
                for ad in ads:
                    contacts[ad].add(ident)
        for ident, ads in ads_of.items():
            if ident in self._pruned or len(ads) < 2:
                continue
            if KINDS[self._ident_kind[ident]] == "phone":
                window = self._multi_city(ads, s.multi_city_days, s.multi_city_min)
                if window:
                    out.setdefault("phone_multi_city", set()).update(window)
                names = {n for ad in ads for n in names_of[ad]}
                if len(names) >= s.many_profiles_min:
                    out.setdefault("phone_many_profiles", set()).update(ads)
        image_groups = self._image_groups(ads_of, cluster_key)
        for ads in image_groups:
            phones = {frozenset(contacts[a]) for a in ads}
            names = {names_of[a] for a in ads}
            if len(ads) >= 2 and (len(phones) > 1 or len(names) > 1):
                out.setdefault("image_reuse", set()).update(ads)
        for a, b in self._text_edges[self._cluster_index().text_rows(cluster_key)].tolist():
            if contacts[a] != contacts[b] or names_of[a] != names_of[b]:
                out.setdefault("template_cluster", set()).update((a, b))
        return {k: [self._ad_ids[i] for i in sorted(v)] for k, v in sorted(out.items())}

    # ------------------------------------------------------------------ state
    def to_state(self) -> bytes:
        """Everything needed to continue incrementally, as one ``.npz`` (no pickle inside).

        Arrays are stored as arrays and the rest as a JSON document, so loading never
        executes code even if the data folder were tampered with.
        """
        meta = {
            "format": STATE_FORMAT, "settings": self.settings.to_dict(),
            "ad_ids": self._ad_ids, "sites": self._site_names, "city": self._city,
            "names": [list(n) for n in self._names], "ident_value": self._ident_value,
            "pruned": {str(k): v for k, v in self._pruned.items()},
            "boiler_sites": sorted(self._boiler), "warm": {str(k): v for k, v in
                                                           self._warm.items()},
            "frozen": sorted(self._frozen), "next_key": self._next_key,
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.frombuffer(zlib.compress(json.dumps(meta).encode(), 3), np.uint8),
            "site": self._site, "posted": self._posted, "ident_kind": self._ident_kind,
            "inc_ad": self._inc_ad, "inc_ident": self._inc_ident, "img_ident": self._img_ident,
            "img_hash": self._img_hash, "near": self._near, "sig": self._sig,
            "bandkey": self._bandkey, "text_ok": self._text_ok,
            "text_edges": self._text_edges, "text_sim": self._text_sim, "key": self._key,
        }
        for site, arr in self._boiler.items():
            arrays[f"boiler_{site}"] = arr
        warm_ads = sorted(self._warm_shingles)
        arrays["warm_ads"] = np.asarray(warm_ads, np.int64)
        arrays["warm_len"] = np.asarray([len(self._warm_shingles[a]) for a in warm_ads],
                                        np.int64)
        arrays["warm_sh"] = (np.concatenate([self._warm_shingles[a] for a in warm_ads])
                             if warm_ads else np.zeros(0, _U32))
        buf = io.BytesIO()
        np.savez(buf, allow_pickle=False, **arrays)
        return buf.getvalue()

    @classmethod
    def from_state(cls, data: bytes) -> Linker:
        """Rebuild a linker written by :meth:`to_state`."""
        try:
            npz = np.load(io.BytesIO(data), allow_pickle=False)
            meta = json.loads(zlib.decompress(npz["meta"].tobytes()))
        except (ValueError, OSError, KeyError, zlib.error) as exc:
            raise ValueError(f"not a linker state: {exc}") from exc
        if meta.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported linker state format {meta.get('format')!r}")
        self = cls(LinkSettings.from_dict(meta["settings"]))
        self._ad_ids = list(meta["ad_ids"])
        self._index = {a: i for i, a in enumerate(self._ad_ids)}
        self._site_names = list(meta["sites"])
        self._site_code = {s: i for i, s in enumerate(self._site_names)}
        self._city = list(meta["city"])
        self._names = [tuple(n) for n in meta["names"]]
        self._ident_value = list(meta["ident_value"])
        for name in ("site", "posted", "ident_kind", "inc_ad", "inc_ident", "img_ident",
                     "img_hash", "near", "sig", "bandkey", "text_ok", "text_edges",
                     "text_sim", "key"):
            setattr(self, f"_{name}", npz[name])
        self._ident_code = [{} for _ in KINDS]
        for i, (k, v) in enumerate(zip(self._ident_kind.tolist(), self._ident_value,
                                       strict=True)):
            self._ident_code[k][v] = i
        self._pruned = {int(k): v for k, v in meta["pruned"].items()}
        self._boiler = {int(s): npz[f"boiler_{s}"] for s in meta["boiler_sites"]}
        self._warm = {int(k): list(v) for k, v in meta["warm"].items()}
        self._frozen = set(meta["frozen"])
        self._next_key = int(meta["next_key"])
        offsets = np.cumsum(np.r_[0, npz["warm_len"]])
        warm_sh = npz["warm_sh"]
        for n, ad in enumerate(npz["warm_ads"].tolist()):
            self._warm_shingles[ad] = warm_sh[offsets[n]:offsets[n + 1]]
        return self

    # ------------------------------------------------------------------ ads + identifiers
    def _append_ads(self, fresh: Sequence[AdRecord]) -> None:
        # One pass per field instead of one per ad: at 100,000 ads the per-ad loop was a
        # fifth of linking time.
        first = len(self._ad_ids)
        ids = [r.ad_id for r in fresh]
        self._ad_ids.extend(ids)
        self._index.update(zip(ids, range(first, first + len(ids)), strict=True))
        site_code = self._site_code
        sites = [site_code.setdefault(r.site, len(site_code)) for r in fresh]
        self._site_names.extend(list(site_code)[len(self._site_names):])
        self._city.extend(r.city or None for r in fresh)
        posted = [r.posted.toordinal() if r.posted else 0 for r in fresh]
        self._names.extend(map(attrgetter("names"), fresh))
        # Per kind: all values at once (no tuple per value), each record's repeats and empty
        # values dropped; identifiers are numbered kind by kind, incidences stored per ad.
        known = len(self._ident_value)
        new_kinds: list[int] = []
        rows = np.arange(first, first + len(fresh), dtype=np.int64)
        inc_ads: list[np.ndarray] = []
        inc_idents: list[list[int]] = []
        for kind, attr in enumerate(("phones", "emails", "handles", "image_hashes")):
            per = list(map(attrgetter(attr), fresh))
            lens = np.fromiter(map(len, per), np.int64, len(per))
            total = int(lens.sum())
            if not total:
                continue
            values = _normalised(kind, chain.from_iterable(per))
            keep = np.fromiter(map(bool, values), bool, total)
            starts = np.cumsum(lens) - lens
            pairs = starts[lens == 2].tolist()  # records with two values: compare the two
            if pairs:
                same = np.fromiter([values[a] == values[a + 1] for a in pairs], bool, len(pairs))
                keep[np.asarray(pairs, np.int64)[same] + 1] = False
            for r in np.flatnonzero(lens > 2).tolist():
                seen: set[str] = set()
                for at in range(int(starts[r]), int(starts[r] + lens[r])):
                    if values[at] in seen:
                        keep[at] = False
                    seen.add(values[at])
            if not keep.all():
                values = list(compress(values, keep))
            inc_ads.append(np.repeat(rows, lens)[keep])
            code = self._ident_code[kind]
            fresh_values = [v for v in dict.fromkeys(values) if v not in code]
            first_new = len(self._ident_value)
            code.update(zip(fresh_values, range(first_new, first_new + len(fresh_values)),
                            strict=True))
            self._ident_value.extend(fresh_values)
            new_kinds.extend([kind] * len(fresh_values))
            inc_idents.append(list(map(code.__getitem__, values)))
        if inc_ads:
            ad_of = np.concatenate(inc_ads)
            order = np.argsort(ad_of, kind="stable")
            inc_ad = ad_of[order]
            inc_ident = np.concatenate([np.asarray(i, np.int64) for i in inc_idents])[order]
        else:
            inc_ad = inc_ident = np.zeros(0, np.int64)
        self._site = np.concatenate([self._site, np.asarray(sites, np.int32)])
        self._posted = np.concatenate([self._posted, np.asarray(posted, np.int32)])
        self._ident_kind = np.concatenate([self._ident_kind, np.asarray(new_kinds, np.int8)])
        self._inc_ad = np.concatenate([self._inc_ad, inc_ad])
        self._inc_ident = np.concatenate([self._inc_ident, inc_ident])
        self._new_image_from = len(self._img_ident)
        image_idents = known + np.flatnonzero(np.asarray(new_kinds, np.int8) == _IMAGE)
        if image_idents.size:
            idents, hashes = _image_hashes(image_idents, self._ident_value)
            self._img_ident = np.concatenate([self._img_ident, idents])
            self._img_hash = np.concatenate([self._img_hash, hashes])
        grow = len(fresh)
        self._key = np.concatenate([self._key, np.full(grow, -1, np.int64)])
        self._text_ok = np.concatenate([self._text_ok, np.zeros(grow, bool)])
        self._sig = np.concatenate([self._sig, np.zeros((grow, self.settings.num_perm),
                                                        np.uint8)])
        self._bandkey = np.concatenate([self._bandkey, np.zeros((grow, self._nb), _U32)])

    def _detect_hubs(self) -> None:
        """Recompute the pruned set from all ads (cheap, vectorised, order-independent)."""
        s = self.settings
        n_ident = len(self._ident_value)
        pruned: dict[int, str] = {}
        counts = np.bincount(self._inc_ident, minlength=n_ident)
        for ident in np.flatnonzero(counts > s.hub_max_ads).tolist():
            pruned[ident] = (f"in {counts[ident]} ads, more than the limit of {s.hub_max_ads}: "
                             "too generic to link on")
        a, b = _pairs_within(self._inc_ad, self._inc_ident)
        if a.size:
            ka, kb = self._ident_kind[a], self._ident_kind[b]
            for src, dst, ksrc, kdst in ((a, b, ka, kb), (b, a, kb, ka)):
                both_contact = (ksrc != _IMAGE) & (kdst != _IMAGE)
                image_contact = (ksrc == _IMAGE) & (kdst != _IMAGE)
                for mask, limit, image in ((both_contact, s.hub_max_partners, False),
                                           (image_contact, s.hub_image_max_contacts, True)):
                    if not mask.any():
                        continue
                    pair = _sorted_unique(src[mask] * n_ident + dst[mask])
                    partners = np.bincount(pair // n_ident, minlength=n_ident)
                    for ident in np.flatnonzero(partners >= limit).tolist():
                        if ident in pruned:
                            continue
                        if image:
                            pruned[ident] = (f"image used next to {partners[ident]} different "
                                             "contact details: a stock or platform image")
                        else:
                            pruned[ident] = (f"appears next to {partners[ident]} other contact "
                                             "details in the same ads: a switchboard, agency "
                                             "or platform identifier")
        self._pruned = pruned

    def _match_images(self, first_ad: int) -> None:
        """Near-duplicate image hashes among the new hashes and against all earlier ones."""
        start = self._new_image_from
        if start >= len(self._img_hash) or self.settings.image_max_distance <= 0:
            return
        found = _near_pairs(self._img_hash, start, self.settings.image_max_distance,
                            self.settings.workers)
        if found.size:
            a, b, d = found[:, 0], found[:, 1], found[:, 2]
            rows = np.stack([self._img_ident[a], self._img_ident[b], d], axis=1)
            self._near = np.concatenate([self._near, rows.astype(np.int64)])

    # ------------------------------------------------------------------ text
    def _link_text(self, new_idx: np.ndarray, docs: np.ndarray, lengths: np.ndarray) -> None:
        s = self.settings
        if not len(new_idx):
            return
        offsets = np.r_[0, np.cumsum(lengths)]
        resign: list[int] = []
        touched_sites: set[int] = set()
        frozen_now: set[int] = set()
        # only ads of sites still in their boilerplate sample matter here, and of each such
        # site at most the sample's remaining places (so no loop over every new ad)
        sites = self._site[new_idx]
        candidates: list[int] = []
        for site in np.unique(sites).tolist():
            if site in self._frozen:
                continue
            room = s.boilerplate_sample - len(self._warm.get(site, ()))
            candidates.extend(np.flatnonzero(sites == site)[:max(room, 0)].tolist())
        for n in sorted(candidates):  # never more than a site's room: no checks needed here
            i, site = int(new_idx[n]), int(sites[n])
            warm = self._warm.setdefault(site, [])
            warm.append(i)
            self._warm_shingles[i] = docs[offsets[n]:offsets[n + 1]]
            touched_sites.add(site)
            if len(warm) == s.boilerplate_sample:
                frozen_now.add(site)
                self._frozen.add(site)
        for site in touched_sites:
            self._boiler[site] = self._learn_boilerplate(self._warm[site])
            resign.extend(i for i in self._warm[site] if i < new_idx[0])
        # (re)sign: earlier warm ads whose boilerplate changed, plus all new ads
        old = np.asarray(sorted(resign), np.int64)
        if old.size:
            keep = ~(np.isin(self._text_edges[:, 0], old) | np.isin(self._text_edges[:, 1], old))
            self._text_edges, self._text_sim = self._text_edges[keep], self._text_sim[keep]
            parts = [self._warm_shingles[i] for i in old.tolist()]
            old_docs = np.concatenate(parts)
            old_len = np.asarray([len(p) for p in parts], np.int64)
        else:
            old_docs, old_len = np.zeros(0, _U32), np.zeros(0, np.int64)
        query = np.r_[old, new_idx]
        all_docs = np.concatenate([old_docs, docs])
        all_len = np.r_[old_len, lengths]
        self._sign(query, all_docs, all_len)
        self._text_candidates(query)
        for site in frozen_now:  # sample complete: boilerplate fixed, shingles no longer kept
            for i in self._warm[site]:
                self._warm_shingles.pop(i, None)

    def _learn_boilerplate(self, warm: Sequence[int]) -> np.ndarray:
        """Shingles that appear next to many distinct contact details on one site."""
        s = self.settings
        owners_of = self._owners(warm)
        dense: dict[int, int] = {}
        sh: list[np.ndarray] = []
        own: list[int] = []
        for i in warm:
            shingles = self._warm_shingles.get(i)
            if shingles is None or not len(shingles):
                continue
            for owner in owners_of[i]:
                sh.append(shingles)
                own.append(dense.setdefault(owner, len(dense)))
        if not sh:
            return np.zeros(0, _U32)
        owners = np.repeat(np.asarray(own, _U64), [len(a) for a in sh])
        n_owners = len({o for i in warm for o in owners_of[i]})
        limit = max(s.boilerplate_min_phones, int(np.ceil(s.boilerplate_share * n_owners)))
        # distinct (shingle, owner) pairs, sorted by shingle: a run per shingle, its owners
        pairs = _sorted_unique((np.concatenate(sh).astype(_U64) << _U64(32)) | owners)
        values = (pairs >> _U64(32)).astype(_U32)
        runs = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        counts = np.diff(np.r_[runs, len(values)])
        return values[runs[counts >= limit]]

    def _owners(self, ads: Sequence[int]) -> dict[int, list[int]]:
        """Contact identifiers per ad (the ad itself, negated, when it has none)."""
        wanted = np.asarray(ads, np.int64)
        mask = np.isin(self._inc_ad, wanted)
        out: dict[int, list[int]] = {int(i): [] for i in ads}
        for ad, ident in zip(self._inc_ad[mask].tolist(), self._inc_ident[mask].tolist(),
                             strict=True):
            if self._ident_kind[ident] != _IMAGE:
                out[ad].append(ident)
        for ad, owners in out.items():
            if not owners:
                owners.append(-ad - 1)
        return out

    def _sign(self, ads: np.ndarray, docs: np.ndarray, lengths: np.ndarray) -> None:
        """Remove boilerplate, MinHash what is left, store signature bytes and band keys."""
        s = self.settings
        if not len(ads):
            return
        from zichtbaar.ads import _jit

        n_sites = len(self._site_names)
        boiler = [self._boiler.get(site, np.zeros(0, _U32)) for site in range(n_sites)]
        boiler_at = np.zeros(n_sites + 1, np.int64)
        np.cumsum([len(b) for b in boiler], out=boiler_at[1:])
        docs = np.ascontiguousarray(docs, _U32)
        lengths = np.asarray(lengths, np.int64)
        starts = np.r_[0, np.cumsum(lengths)]
        boiler_cat = np.concatenate([np.zeros(0, _U32), *boiler]).astype(_U32)
        ok = np.zeros(len(ads), bool)

        def sign(lo: int) -> None:
            hi = min(lo + step, len(ads))
            _jit.minhash(docs[starts[lo]:starts[hi]], lengths[lo:hi], self._site[ads[lo:hi]],
                         boiler_cat, boiler_at, s.text_min_shingles, self._perm_a, self._perm_b,
                         self._band_mult, ads[lo:hi], self._sig, self._bandkey, ok[lo:hi])

        workers = s.workers if len(ads) >= _THREADED_MIN else 1
        step = -(-len(ads) // workers)
        _in_threads(sign, range(0, len(ads), step), workers)
        self._text_ok[ads] = ok

    def _text_candidates(self, query: np.ndarray) -> None:
        """Join LSH buckets by sorting; verify candidates on the stored signatures."""
        s = self.settings
        valid = np.flatnonzero(self._text_ok)
        if valid.size < 2 or not self._text_ok[query].any():
            return
        n = len(self._ad_ids)
        in_q = np.zeros(n, bool)
        in_q[query] = True
        from zichtbaar.ads import _jit

        keys = self._bandkey[valid]
        ads = valid.astype(_U64)

        def band_codes(band: int) -> np.ndarray:
            # Sort (key, ad) packed in one uint64: faster than a stable argsort, and ads stay
            # in ascending order inside a bucket, which keeps big-bucket edges deterministic.
            packed = np.sort((keys[:, band].astype(_U64) << _U64(32)) | ads)
            return _jit.bucket_pairs(packed, in_q, s.bucket_cap, n)

        found = _in_threads(band_codes, range(self._nb), s.workers)
        codes = _sorted_unique(np.concatenate(found))
        if not len(codes):
            return
        if len(self._text_edges):
            known = self._text_edges[:, 0] * n + self._text_edges[:, 1]
            codes = codes[~np.isin(codes, known)]
        a, b = codes // n, codes % n
        sims = np.empty(len(a), np.float32)
        _jit.agreement(self._sig, codes, n, sims)
        good = sims >= s.text_min_similarity
        self._text_edges = np.concatenate([self._text_edges,
                                           np.stack([a[good], b[good]], axis=1)])
        self._text_sim = np.concatenate([self._text_sim, sims[good]])

    # ------------------------------------------------------------------ clusters
    def _recluster(self) -> LinkUpdate:
        n = len(self._ad_ids)
        update = LinkUpdate()
        if n == 0:
            return update
        pruned = np.fromiter(self._pruned, np.int64, len(self._pruned))
        live = ~np.isin(self._inc_ident, pruned)
        ads, idents = self._inc_ad[live], self._inc_ident[live]
        first = np.full(len(self._ident_value), n, np.int64)
        np.minimum.at(first, idents, ads)
        src = [ads]
        dst = [first[idents]]
        if len(self._near):
            a, b = self._near[:, 0], self._near[:, 1]
            ok = (first[a] < n) & (first[b] < n)
            src.append(first[a[ok]])
            dst.append(first[b[ok]])
        src.append(self._text_edges[:, 0])
        dst.append(self._text_edges[:, 1])
        u, v = np.concatenate(src), np.concatenate(dst)
        graph = coo_matrix((np.ones(len(u), np.int8), (u, v)), shape=(n, n)).tocsr()
        _, labels = connected_components(graph, directed=False)
        sizes = np.bincount(labels)
        old = self._key
        new = np.full(n, -1, np.int64)
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1]])
        taken: set[int] = set()
        groups = [(order[st:st + sizes[labels[order[st]]]]) for st in bounds.tolist()
                  if sizes[labels[order[st]]] >= 2]
        groups.sort(key=lambda g: int(g[0]))
        for members in groups:
            previous = sorted({k for k in old[members].tolist() if k >= 0})
            keep = next((k for k in previous if k not in taken), None)
            if keep is None:
                keep = self._next_key
                self._next_key += 1
                update.new_clusters.append(_key_name(keep))
                for k in previous:  # a part split off an existing cluster (a newly pruned hub)
                    update.split.setdefault(_key_name(k), []).append(_key_name(keep))
            else:
                absorbed = [k for k in previous if k != keep and k not in taken]
                if absorbed:
                    update.merged[_key_name(keep)] = [_key_name(k) for k in absorbed]
                if (old[members] != keep).any():
                    update.grown_clusters.append(_key_name(keep))
            taken.update(previous)
            taken.add(keep)
            new[members] = keep
        changed = np.flatnonzero(new != old)
        for i in changed.tolist():
            if new[i] >= 0:
                update.assignments[self._ad_ids[i]] = _key_name(int(new[i]))
        survivors = set(_sorted_unique(new[new >= 0]).tolist())
        update.dissolved = sorted(_key_name(k) for k in set(_sorted_unique(old[old >= 0]).tolist())
                                  - survivors
                                  - {k for ks in update.merged.values() for k in
                                     _key_numbers(ks)})
        self._key = new
        return update

    # ------------------------------------------------------------------ helpers
    def _cluster_index(self) -> _ClusterIndex:
        """Per-cluster views, built once after each ``add``: explaining every cluster of a
        run would otherwise scan all ads and edges once per cluster."""
        if self._index_cache is None:
            self._index_cache = _ClusterIndex(self)
        return self._index_cache

    def _members(self, cluster_key: str) -> np.ndarray:
        number = _key_number(cluster_key)
        if number is None:
            return np.zeros(0, np.int64)
        return self._cluster_index().members(number)

    def _ads_of_idents(self, members: np.ndarray) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for ad, ident in self._cluster_index().incidences(members):
            out.setdefault(ident, []).append(ad)
        return out

    def _image_groups(self, ads_of: Mapping[int, list[int]], cluster_key: str
                      ) -> list[list[int]]:
        """Ads per image, near copies folded together (a tiny union-find)."""
        images = [i for i in ads_of if self._ident_kind[i] == _IMAGE and i not in self._pruned]
        parent = {i: i for i in images}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b, _d in self._cluster_index().near_rows(self._near, cluster_key):
            if a in parent and b in parent:
                parent[find(a)] = find(b)
        groups: dict[int, set[int]] = {}
        for i in images:
            groups.setdefault(find(i), set()).update(ads_of[i])
        return [sorted(g) for g in groups.values()]

    def _multi_city(self, ads: Sequence[int], days: int, minimum: int) -> list[int]:
        dated = sorted((int(self._posted[a]), a) for a in ads
                       if self._posted[a] and self._city[a])
        hit: set[int] = set()
        lo = 0
        for hi in range(len(dated)):
            while dated[hi][0] - dated[lo][0] > days:
                lo += 1
            window = dated[lo:hi + 1]
            if len({self._city[a] for _, a in window}) >= minimum:
                hit.update(a for _, a in window)
        return sorted(hit)


class _ClusterIndex:
    """Ads, incidences, near-image pairs and text edges grouped by cluster (sorted once).

    Every non-pruned identifier joins all its ads, so its near-image pairs belong to the
    cluster of its first ad; a text edge belongs to the cluster of either end.
    """

    def __init__(self, linker: Linker) -> None:
        key = linker._key
        n = len(key)
        self._order = np.argsort(key, kind="stable")
        self._sorted_keys = key[self._order]
        inc_order = np.argsort(linker._inc_ad, kind="stable")
        self._inc_ad = linker._inc_ad[inc_order]
        self._inc_ident = linker._inc_ident[inc_order]
        self._inc_ptr = np.searchsorted(self._inc_ad, np.arange(n + 1))
        first = np.full(len(linker._ident_value), max(n - 1, 0), np.int64)
        np.minimum.at(first, linker._inc_ident, linker._inc_ad)
        near_key = key[first[linker._near[:, 0]]] if len(linker._near) and n else \
            np.zeros(0, np.int64)
        self._near = _group_rows(near_key)
        text_key = key[linker._text_edges[:, 0]] if len(linker._text_edges) else \
            np.zeros(0, np.int64)
        self._text = _group_rows(text_key)

    def members(self, number: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._sorted_keys, [number, number + 1])
        return self._order[lo:hi]

    def incidences(self, members: np.ndarray) -> list[tuple[int, int]]:
        """Sorted (ad, ident) pairs of the members."""
        pairs: list[tuple[int, int]] = []
        ptr, ads, idents = self._inc_ptr, self._inc_ad, self._inc_ident
        for ad in members.tolist():
            lo, hi = ptr[ad], ptr[ad + 1]
            pairs.extend(zip(ads[lo:hi].tolist(), idents[lo:hi].tolist(), strict=True))
        return sorted(pairs)

    def near_rows(self, near: np.ndarray, cluster_key: str) -> list[list[int]]:
        return near[_rows_of(self._near, cluster_key)].tolist()

    def text_rows(self, cluster_key: str) -> np.ndarray:
        return _rows_of(self._text, cluster_key)


def _group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers sorted by key (original order kept within a key), and the sorted keys."""
    order = np.argsort(keys, kind="stable")
    return order, keys[order]


def _rows_of(group: tuple[np.ndarray, np.ndarray], cluster_key: str) -> np.ndarray:
    number = _key_number(cluster_key)
    order, keys = group
    if number is None or not len(keys):
        return np.zeros(0, np.int64)
    lo, hi = np.searchsorted(keys, [number, number + 1])
    return order[lo:hi]


def timeline(records: Iterable[AdRecord], by: Literal["phone", "cluster"] = "phone", *,
             clusters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Movement per phone or per cluster: ``[{key, city, date, ads}]`` sorted by key and date.

    ``by="cluster"`` needs ``clusters`` (``{ad_id: cluster_key}``, e.g.
    ``Linker.cluster_map()``); ads without city or date are left out.
    """
    if by not in ("phone", "cluster"):
        raise ValueError("by must be 'phone' or 'cluster'")
    if by == "cluster" and clusters is None:
        raise ValueError("timeline by cluster needs clusters={ad_id: cluster_key}")
    counts: dict[tuple[str, str, date], int] = {}
    for rec in records:
        if not rec.city or rec.posted is None:
            continue
        if by == "phone":
            keys: Iterable[str] = dict.fromkeys(rec.phones)
        else:
            key = (clusters or {}).get(rec.ad_id)
            keys = (key,) if key else ()
        for key in keys:
            counts[(key, rec.city, rec.posted)] = counts.get((key, rec.city, rec.posted), 0) + 1
    return [{"key": k, "city": c, "date": d, "ads": n}
            for (k, c, d), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][2],
                                                                        kv[0][1]))]


# ---------------------------------------------------------------------- text normalisation
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMOJI = (r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2190-\u21FF\u2300-\u23FF"
          r"\u3030\u303D\u3297\u3299]")
_TOKEN = re.compile(rf"[^\W\d_]+|\d+|{_EMOJI}")
_NUMBER_WORDS = frozenset(("nul", "een", "één", "twee", "drie", "vier", "vijf", "zes", "zeven",
                           "acht", "negen", "tien", "zero", "one", "two", "three", "four", "five",
                           "six", "seven", "eight", "nine", "o", "i"))
_NUMBER_RUN_MIN = 4
_HEX64 = re.compile(r"[0-9a-f]{16}")
_HEX_DIGITS = re.compile(r"[0-9a-f]*")


def normalise_tokens(text: str) -> list[str]:
    """Lower-cased word tokens with e-mails, URLs and phone numbers removed; emoji kept.

    Digits go (phone parts, ages, prices vary between copies of one template), and so do runs
    of four or more number words or digit groups ("nul zes een twee …", a spelled-out phone).
    Emoji stay as tokens: InfoShield-style ASCII stripping would delete the emoji codes
    (online.md §3). ``shingle_texts`` does the same with numpy.
    """
    tokens = _raw_tokens(text)
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if tok and (tok in _NUMBER_WORDS or tok.isdigit()):
            run.append(tok)
            continue
        if len(run) < _NUMBER_RUN_MIN:
            out.extend(t for t in run if not t.isdigit())
        run = []
        if tok:
            out.append(tok)
    return out


def _raw_tokens(text: str) -> list[str]:
    text = text.casefold()
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    return _TOKEN.findall(text)


_CHUNK_TEXTS = 5_000


@lru_cache(maxsize=1)
def _unicode_tables() -> tuple[np.ndarray, ...]:
    """Per code point: token class and flags, and casefold expansions, for ``_jit``.

    Taken from Python's own Unicode data through the very regexes ``normalise_tokens`` uses
    (so a Python upgrade changes both alike); built once per process in about 0.15 s.
    """
    from zichtbaar.ads import _jit

    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    cls = np.zeros(0x110000, np.uint8)
    # token classes in the regex's order of preference: a letter before a digit before emoji
    for pattern, value in ((_EMOJI + "+", 3), (r"\d+", 2), (r"[^\W\d_]+", 1)):
        for m in re.finditer(pattern, every):
            cls[m.start():m.end()] = value
    for pattern, flag in ((r"\s+", _jit.IS_SPACE), (r"\w+", _jit.IS_WORD)):
        for m in re.finditer(pattern, every):
            cls[m.start():m.end()] |= flag
    cls[(cls & _jit.TOKEN_CLASS) == 2] |= _jit.IS_DIGIT
    for cp in np.flatnonzero((cls & _jit.TOKEN_CLASS) == 1).tolist():
        if every[cp].isdigit():  # "²", "①": letters to the regex, digits to str.isdigit
            cls[cp] |= _jit.IS_DIGIT
    fold_idx = np.full(0x110000, -1, np.int32)
    rows: list[list[int]] = []
    for lo in range(0, 0x110000, 256):
        block = every[lo:lo + 256]
        if block.casefold() == block:
            continue
        for cp in range(lo, lo + len(block)):
            folded = every[cp].casefold()
            if folded != every[cp]:
                fold_idx[cp] = len(rows)
                rows.append([len(folded), *map(ord, folded)])
    width = 1 + max((r[0] for r in rows), default=1)
    fold_cps = np.zeros((max(1, len(rows)), width), np.uint32)
    for n, row in enumerate(rows):
        fold_cps[n, :len(row)] = row
    words = sorted(_NUMBER_WORDS, key=len)
    word_cps = np.zeros((len(words), max(map(len, words))), np.uint32)
    for n, w in enumerate(words):
        word_cps[n, :len(w)] = [ord(c) for c in w]
    by_length = np.searchsorted([len(w) for w in words], np.arange(len(words[-1]) + 2))
    word_crc = np.zeros(1024, np.bool_)
    word_crc[[zlib.crc32(w.encode()) & 1023 for w in words]] = True
    return (cls, fold_idx, fold_cps, word_cps, by_length.astype(np.int64), word_crc,
            _jit.CRC_TABLE)


class _Shingling:
    """``shingle_texts`` in a background thread when ``settings.workers`` > 1 (its compiled
    part releases the GIL), else at ``result()``."""

    def __init__(self, texts: Sequence[str], settings: LinkSettings) -> None:
        self._texts, self._k, self._workers = texts, settings.shingle_size, settings.workers
        self._pool: Any = None
        self._future: Any = None

    def __enter__(self) -> _Shingling:
        if self._workers > 1 and len(self._texts) >= _THREADED_MIN:
            from concurrent.futures import ThreadPoolExecutor

            # Up to a few hundred MB of text, encode here first: then the threads never
            # wait for the GIL that the caller's Python work holds.
            encoded = _encode(self._texts) if len(self._texts) <= 200_000 else None
            self._pool = ThreadPoolExecutor(1)
            self._future = self._pool.submit(shingle_texts, self._texts, self._k, self._workers,
                                             encoded)
        return self

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if self._future is not None:
            return self._future.result()
        return shingle_texts(self._texts, self._k, self._workers)

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


_THREADED_MIN = 2_000  # below this many ads, starting threads costs more than it saves


def _in_threads[T, R](work: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[work(item) for item in items]``, on ``workers`` threads when ``workers`` > 1.

    The compiled kernels release the GIL, so threads run them on all cores without the cost
    of processes (nothing to copy or fork) and without numba's own thread pool.
    """
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: not a token character, kept as one
        return text.encode("utf-8", "surrogatepass")


def shingle_texts(texts: Sequence[str], k: int, workers: int = 1,
                  encoded: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Unique 32-bit hashes of the word k-shingles of each text, concatenated, and counts.

    The tokens are ``normalise_tokens``' (compiled: ``_jit.shingle_docs``); each is hashed
    with crc32 of its UTF-8 (stable across runs and processes) and shingle hashes are mixed
    from token hashes, so no shingle string is ever built. A text shorter than ``k`` tokens
    is one shingle. Chunks of texts go to ``workers`` threads, each encoding its own chunk
    (a million texts never sit in memory twice) unless ``encoded`` (``_encode(texts)``) is
    given; then the threads need no GIL at all.
    """
    from zichtbaar.ads import _jit

    tables = _unicode_tables()
    counts = np.zeros(len(texts), np.int64)

    def chunk(lo: int) -> np.ndarray:
        hi = min(lo + _CHUNK_TEXTS, len(texts))
        if encoded is None:
            buf, bounds = _encode(texts[lo:hi])
        else:
            at = encoded[1][lo:hi + 1]
            buf, bounds = encoded[0][at[0]:at[-1]], at - at[0]
        return _jit.shingle_docs(buf, bounds, k, *tables, _NUMBER_RUN_MIN, counts[lo:hi])

    parts = _in_threads(chunk, range(0, len(texts), _CHUNK_TEXTS), workers)
    if not parts:
        return np.zeros(0, _U32), counts
    return np.concatenate(parts), counts


def _encode(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' UTF-8 in one buffer, and where each starts (plus the end)."""
    encoded = [_utf8(t) for t in texts]
    bounds = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=bounds[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), bounds


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted unique values (numpy's hash-based ``unique`` is slower for big uint64 arrays)."""
    if not len(values):
        return values
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]]


def _image_hashes(idents: np.ndarray, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit pHashes among image identifiers (16 hex digits; others match exactly only).

    All at once when every value is one (the usual case): one regex over the joined text
    and ``bytes.fromhex``, instead of a regex and ``int(v, 16)`` per value.
    """
    texts = [values[i] for i in idents.tolist()]
    joined = "".join(texts)
    if all(len(t) == 16 for t in texts) and _HEX_DIGITS.fullmatch(joined):
        return idents, np.frombuffer(bytes.fromhex(joined), ">u8").astype(_U64)
    ok = [n for n, t in enumerate(texts) if _HEX64.fullmatch(t)]
    return idents[ok], np.asarray([int(texts[n], 16) for n in ok], _U64)


def _normalised(kind: int, values: Iterable[str]) -> list[str]:
    """Identifier values as compared: stripped; e-mails and handles casefolded (handles
    without "@"), image hashes lower-case. ``map`` over C methods: no Python frame per value."""
    stripped = map(str.strip, values)
    if kind == 0:
        return list(stripped)
    if kind == 1:
        return list(map(str.casefold, stripped))
    if kind == 2:
        return list(map(methodcaller("lstrip", "@"), map(str.casefold, stripped)))
    return list(map(str.lower, stripped))


def _names(names: Sequence[str]) -> tuple[str, ...]:
    if not names:
        return ()
    if len(names) == 1:
        name = names[0].strip()
        return (name.casefold(),) if name else ()
    return tuple(dict.fromkeys(n.strip().casefold() for n in names if n.strip()))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies it before its permutations."""
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def minhash_signatures(token_lists: Sequence[Sequence[int]], *, num_perm: int = 128,
                       seed: int = 1) -> np.ndarray:
    """datasketch-compatible MinHash signatures of integer shingle sets, vectorised.

    Equal to ``datasketch.MinHash(num_perm, seed, hashfunc=int, scheme="affine32")`` updated
    with each value; exposed so tests can prove it.
    """
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    a, b = np.asarray(a, _U32), np.asarray(b, _U32)
    out = np.full((len(token_lists), num_perm), 0xFFFFFFFF, _U32)
    for n, values in enumerate(token_lists):
        if len(values):
            hv = _fmix32(np.asarray(values, _U32))
            out[n] = (hv[:, None] * a[None, :] + b[None, :]).min(axis=0)
    return out


def _pairs_within(group: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All unordered pairs of items sharing a group (groups are small: one ad's identifiers)."""
    if not len(group):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(group, kind="stable")
    g, it = group[order], item[order]
    a_parts, b_parts = [], []
    shift = 1
    while shift < len(g):
        same = g[shift:] == g[:-shift]
        if not same.any():
            break
        a_parts.append(it[:-shift][same])
        b_parts.append(it[shift:][same])
        shift += 1
    if not a_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _near_pairs(hashes: np.ndarray, start: int, max_distance: int, workers: int = 1
                ) -> np.ndarray:
    """Pairs (i, j, distance) with i ≥ start (new), j < i, Hamming distance ≤ max_distance.

    Multi-index hashing: 4 bands of 16 bits; a pair within ``d`` bits has a band within
    ``d // 4`` bits, so probing every band value within that radius finds all pairs.
    """
    from zichtbaar.ads import _jit

    n = len(hashes)
    radius = max_distance // 4
    flips = [0]
    for r in range(1, radius + 1):
        for bits in combinations(range(16), r):
            flips.append(sum(1 << b for b in bits))
    flips_arr = np.asarray(flips, np.int64)

    def band(number: int) -> np.ndarray:
        values = ((hashes >> _U64(16 * number)) & _U64(0xFFFF)).astype(np.int64)
        order = np.argsort(values, kind="stable")
        sorted_values = values[order]
        bucket_start = np.searchsorted(sorted_values, np.arange(65537))
        return _jit.near_probe(order, sorted_values, hashes[order], bucket_start, start,
                               flips_arr, max_distance)

    found = [f for f in _in_threads(band, range(4), workers if n - start >= _THREADED_MIN else 1)
             if len(f)]
    if not found:
        return np.zeros((0, 3), np.int64)
    allp = np.concatenate(found)
    _, first = np.unique(allp[:, 0] * n + allp[:, 1], return_index=True)
    return allp[first]


def _key_name(number: int) -> str:
    return f"c{number:07d}"


def _key_number(key: str) -> int | None:
    if len(key) > 1 and key[0] == "c" and key[1:].isdigit():
        return int(key[1:])
    return None


def _key_numbers(keys: Iterable[str]) -> set[int]:
    return {k for k in (_key_number(x) for x in keys) if k is not None}
