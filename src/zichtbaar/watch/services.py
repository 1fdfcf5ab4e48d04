"""Every write of Watch: sources, crawl runs, ads and evidence, linking, labels, handover.

The crawler's pipelines, the CLI, the demo and the views all come through here, so an ad
stored by a test crawl and one stored by the demo are coded the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Least
from django.utils import timezone

from zichtbaar.audit.record import record

from .events import WatchAuditEvent
from .models import (
    Ad,
    Cluster,
    ClusterLabel,
    CrawlRun,
    LexiconVersion,
    LinkerState,
    Snapshot,
    Source,
)


class WatchError(Exception):
    """A refused operation; ``code`` is turned into a sentence in the user's language."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# --- keys ---------------------------------------------------------------------------------

def identifier_key(kind: str, value: str) -> str:
    """Keyed hash of a normalised identifier: ads are linked on it, never on the clear value."""
    # The pseudonym key never leaves this installation (the linkage key is shared with
    # partners, and mobile numbers are few enough to try them all against it).
    secret = settings.PSEUDONYM_KEY.encode()
    return hmac.new(secret, f"watch:{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


# --- lexicon ------------------------------------------------------------------------------

def current_lexicon() -> LexiconVersion:
    """The newest lexicon version; seeded from the repository file on first use."""
    from zichtbaar.ads.lexicon import load_lexicon

    return LexiconVersion.current(lambda: load_lexicon().to_dict())


@transaction.atomic
def lexicon_version_create(*, actor: Any, data: Mapping[str, Any], note: str = ""
                           ) -> LexiconVersion:
    """A new version; ads keep the version they were scored with."""
    from zichtbaar.ads.lexicon import Lexicon, LexiconError

    try:
        lexicon = Lexicon.from_dict(data)
    except LexiconError as exc:
        raise WatchError("lexicon_invalid", str(exc)) from exc
    if LexiconVersion.objects.filter(version=lexicon.version).exists():
        raise WatchError("version_exists", lexicon.version)
    version = LexiconVersion.objects.create(version=lexicon.version, data=lexicon.to_dict(),
                                            note=note[:300], created_by=actor)
    record(WatchAuditEvent.LEXICON_CREATED, actor=actor, object_type="watch_lexicon",
           object_id=version.pk, detail={"version": version.version})
    return version


# --- sources and crawl runs ---------------------------------------------------------------

@transaction.atomic
def source_save(*, yaml_text: str, actor: Any = None) -> Source:
    """Create or update a source from its YAML; crawling refuses a source without a legal
    basis, so saving does too."""
    from .sources import SourceConfig, SourceError

    try:
        config = SourceConfig.from_yaml(yaml_text)
    except SourceError as exc:
        raise WatchError("source_invalid", str(exc)) from exc
    values = {"yaml_text": yaml_text, "config": config.to_dict(),
              "legal_basis": config.legal_basis, "retention_days": config.retention_days}
    # A no-key lock: crawler processes storing ads hold key-share locks on this row (their
    # foreign keys) while they wait for the audit chain; a full row lock here would deadlock.
    source = Source.objects.select_for_update(no_key=True).filter(name=config.name).first()
    if source is None:
        source = Source.objects.create(name=config.name, **values)
    else:
        for name, value in values.items():
            setattr(source, name, value)
        source.save()
    record(WatchAuditEvent.SOURCE_SAVED, actor=actor, object_type="watch_source",
           object_id=source.pk, detail={"name": source.name, "legal_basis": source.legal_basis})
    return source


@transaction.atomic
def crawl_run_start(*, source: Source, actor: Any = None) -> CrawlRun:
    if not source.legal_basis.strip():
        raise WatchError("no_legal_basis", source.name)
    run = CrawlRun.objects.create(source=source, started_at=timezone.now())
    record(WatchAuditEvent.CRAWL_STARTED, actor=actor, object_type="watch_crawl_run",
           object_id=run.pk, detail={"source": source.name})
    return run


@transaction.atomic
def crawl_run_finish(*, run: CrawlRun, pages: int, errors: int, failed: bool = False,
                     stats: Mapping[str, Any] | None = None) -> CrawlRun:
    run.refresh_from_db()
    run.pages = pages
    run.errors = errors
    run.stats = dict(stats or {})
    run.status = CrawlRun.Status.FAILED if failed else CrawlRun.Status.FINISHED
    run.finished_at = timezone.now()
    run.save()
    record(WatchAuditEvent.CRAWL_FINISHED, actor=None, object_type="watch_crawl_run",
           object_id=run.pk, detail={"source": run.source.name, "pages": pages,
                                     "new": run.ads_new, "changed": run.ads_changed,
                                     "errors": errors, "status": run.status})
    return run


# --- ads ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AdPage:
    """One fetched ad page as the spider parsed it (images already hashed and discarded)."""

    url: str
    status: int
    body: bytes
    fetched_at: dt.datetime
    title: str = ""
    text: str = ""
    posted: dt.date | None = None
    image_hashes: Sequence[str] = field(default_factory=tuple)
    # What the source's own selectors found; preferred over extraction from the text.
    city: str = ""
    age: int | None = None


@dataclass(frozen=True)
class AdStored:
    ad: Ad
    created: bool
    changed: bool


def _code_ad(text: str, lexicon_row: LexiconVersion) -> dict[str, Any]:
    """Extraction and indicator hits of one ad text (pure library calls)."""
    from zichtbaar.ads.extract import extract
    from zichtbaar.ads.indicators import indicator_hits

    extraction = extract(text)
    hits = indicator_hits(text, extraction, _lexicon_cache(lexicon_row))
    return {
        "extraction": extraction,
        "hits": [{"indicator": h.indicator, "start": h.start, "end": h.end, "grade": h.grade,
                  "weight": h.weight} for h in hits],
        "score": round(sum(h.weight for h in {h.indicator: h for h in hits}.values()), 3),
    }


_LEXICONS: dict[int, Any] = {}


def _lexicon_cache(row: LexiconVersion) -> Any:
    from zichtbaar.ads.lexicon import Lexicon

    if row.pk not in _LEXICONS:
        _LEXICONS[row.pk] = Lexicon.from_dict(row.data)
    return _LEXICONS[row.pk]


def _place(name: str) -> str:
    from zichtbaar.ads.places import canonical_place

    return (canonical_place(name) or name.strip()) if name else ""


def _first_age(ages: Sequence[int]) -> int | None:
    return ages[0] if ages else None


def ad_page_store(*, run: CrawlRun, page: AdPage) -> AdStored:
    """Store or refresh one ad with its evidence snapshot (see ``ad_pages_store``); the audit
    entry names this ad (``watch_ad``, its id)."""
    return _ad_pages_store(run, [page], audit_each=True)[0]


def ad_pages_store(*, run: CrawlRun, pages: Sequence[AdPage]) -> list[AdStored]:
    """Store or refresh ads with their evidence snapshots, one transaction per batch.

    A re-crawl of unchanged content only moves ``last_seen``; changed content (say, another
    phone number) keeps the earlier snapshot and its hash: the change is evidence. A page
    that returns to an earlier version is re-coded; its snapshot is already kept.

    A batch saves the per-page transaction, look-ups and inserts (bulk) and the audit chain's
    per-entry lock: one audit entry per batch (``watch_crawl_run``, the run's id) lists every
    stored snapshot with the same fields a per-page entry holds (ad id, SHA-256, URL hash,
    version, whether it is an earlier version again), so each hash stays in the trail.
    A URL that occurs twice in ``pages`` is stored in page order, as one call per page would.
    """
    out: list[AdStored] = []
    batch: list[AdPage] = []
    keys: set[str] = set()
    for page in pages:
        key = url_hash(page.url)
        if key in keys:
            out.extend(_ad_pages_store(run, batch, audit_each=False))
            batch, keys = [], set()
        batch.append(page)
        keys.add(key)
    if batch:
        out.extend(_ad_pages_store(run, batch, audit_each=False))
    return out


@transaction.atomic
def _ad_pages_store(run: CrawlRun, pages: Sequence[AdPage], *, audit_each: bool
                    ) -> list[AdStored]:
    """``ad_pages_store`` for pages with distinct URLs; ``audit_each``: an entry per ad."""
    keys = [url_hash(page.url) for page in pages]
    digests = [hashlib.sha256(page.body).hexdigest() for page in pages]
    existing: dict[str, Ad] = {}
    for chunk in _chunks(keys):
        existing.update((ad.url_hash, ad) for ad in Ad.objects.select_for_update()
                        .filter(source=run.source, url_hash__in=chunk))
    lexicon_row: LexiconVersion | None = None
    created: list[Ad] = []
    changed: list[Ad] = []
    unchanged: list[tuple[int, dt.datetime]] = []
    stored: list[AdStored] = []
    for page, key, digest in zip(pages, keys, digests, strict=True):
        ad = existing.get(key)
        if ad is not None and ad.sha256 == digest:
            unchanged.append((ad.pk, page.fetched_at))
            stored.append(AdStored(ad=ad, created=False, changed=False))
            continue
        lexicon_row = lexicon_row or current_lexicon()
        values = _ad_values(page, digest, lexicon_row)
        if ad is None:
            ad = Ad(source=run.source, url_hash=key, first_seen=page.fetched_at, **values)
            created.append(ad)
            stored.append(AdStored(ad=ad, created=True, changed=False))
        else:
            for name, value in values.items():
                setattr(ad, name, value)
            ad.versions += 1
            changed.append(ad)
            stored.append(AdStored(ad=ad, created=False, changed=True))
    if created:
        Ad.objects.bulk_create(created, batch_size=500)
    for ad in changed:
        ad.save()
    seen: set[tuple[int, str]] = set()
    if changed:
        seen = set(Snapshot.objects.filter(ad__in=[a.pk for a in changed])
                   .values_list("ad_id", "sha256"))
    snapshots: list[Snapshot] = []
    audited: list[dict[str, Any]] = []
    for page, digest, result in zip(pages, digests, stored, strict=True):
        if not (result.created or result.changed):
            continue
        ad = result.ad
        seen_before = (ad.pk, digest) in seen
        if not seen_before:
            snapshots.append(Snapshot(ad=ad, sha256=digest, url=page.url, status=page.status,
                                      fetched_at=page.fetched_at,
                                      content=base64.b64encode(page.body).decode()))
        detail = {"sha256": digest, "url_hash": ad.url_hash[:16], "run": run.pk,
                  "version": ad.versions, "earlier_version_again": seen_before}
        if audit_each:
            record(WatchAuditEvent.SNAPSHOT_STORED, actor=None, object_type="watch_ad",
                   object_id=ad.pk, detail=detail)
        else:
            audited.append({"ad": ad.pk, **detail})
    if audited:
        record(WatchAuditEvent.SNAPSHOT_STORED, actor=None, object_type="watch_crawl_run",
               object_id=run.pk, detail={"run": run.pk, "snapshots": audited})
    if snapshots:
        Snapshot.objects.bulk_create(snapshots, batch_size=500)
    for pk, fetched_at in unchanged:
        Ad.objects.filter(pk=pk).update(last_seen=fetched_at)
    counts = Counter("ads_new" if r.created else "ads_changed" if r.changed else "ads_unchanged"
                     for r in stored)
    CrawlRun.objects.filter(pk=run.pk).update(**{name: F(name) + n for name, n in counts.items()})
    return stored


def _ad_values(page: AdPage, digest: str, lexicon_row: LexiconVersion) -> dict[str, Any]:
    """The coded fields of one ad version (extraction, hits, keyed phones)."""
    coded = _code_ad(page.text, lexicon_row)
    extraction = coded["extraction"]
    return {
        "url": page.url, "last_seen": page.fetched_at, "posted": page.posted,
        "title": page.title, "text": page.text,
        "extraction_json": json.dumps(extraction.to_dict(), ensure_ascii=False),
        "hits": coded["hits"], "lexicon": lexicon_row, "score": coded["score"],
        "city": (_place(page.city) or (extraction.places[0] if extraction.places
                                       else ""))[:100],
        "age": page.age if page.age is not None else _first_age(extraction.ages),
        "phone_keys": sorted({identifier_key("phone", p) for p in extraction.phones}),
        "image_hashes": sorted(set(page.image_hashes)), "linked": False,
        "sha256": digest,
    }


def _chunks(values: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """IN-lists short enough for SQLite's bound-parameter limit."""
    for lo in range(0, len(values), size):
        yield values[lo:lo + size]


def sources_active() -> Iterable[Source]:
    return Source.objects.filter(active=True)


ProgressFn = Callable[[str], None]


# --- the analyst's side -------------------------------------------------------------------

def lexicon_labels(language: str) -> dict[str, str]:
    """Indicator id → label in the language, from the current lexicon (plus link signals)."""
    data = current_lexicon().data
    return {entry["id"]: entry.get(f"label_{language}") or entry["id"]
            for entry in data.get("indicators", [])}


def cluster_mark_reviewed(*, cluster: Cluster) -> None:
    """Opening a cluster takes it off the "new/grown" list until it grows again."""
    if cluster.reviewed_size != cluster.size:
        Cluster.objects.filter(pk=cluster.pk).update(reviewed_size=cluster.size)


@transaction.atomic
def cluster_label(*, actor: Any, cluster: Cluster, label: str, note: str = "") -> Cluster:
    if label not in Cluster.Label.values:
        raise WatchError("label_invalid", label)
    ClusterLabel.objects.create(cluster=cluster, label=label, note=note[:2000], actor=actor,
                                organisation_id=getattr(actor, "organisation_id", None))
    cluster.label = label
    cluster.labelled_at = timezone.now()
    cluster.labelled_by = actor
    cluster.save(update_fields=["label", "labelled_at", "labelled_by", "updated_at"])
    record(WatchAuditEvent.CLUSTER_LABELLED, actor=actor, object_type="watch_cluster",
           object_id=cluster.pk, detail={"label": label, "size": cluster.size})
    return cluster


def evidence_package(cluster: Cluster) -> list[dict[str, Any]]:
    """URLs, fetch times and snapshot hashes: enough to find and verify, no copy of pages."""
    package = []
    for ad in cluster.ads.select_related("source").prefetch_related("snapshots").order_by("id"):
        package.append({
            "ad": ad.reference, "source": ad.source.name, "url": ad.url,
            "first_seen": ad.first_seen.isoformat(), "last_seen": ad.last_seen.isoformat(),
            "snapshots": [{"sha256": s.sha256, "fetched_at": s.fetched_at.isoformat(),
                           "status": s.status} for s in ad.snapshots.all()],
        })
    return package


def handover_initial(cluster: Cluster) -> dict[str, Any]:
    """Suggestions the analyst confirms or changes: never sent without a person's choice."""
    young = any(row["indicator"] in {"young_age", "youth_language"} and row.get("ads")
                for row in cluster.explanation)
    return {"indicators": ["NS01"] if cluster.label == Cluster.Label.TRAFFICKING else [],
            "minor": young}


def handover_preview(cluster: Cluster) -> dict[str, Any]:
    cities = Counter(a.city for a in cluster.ads.all() if a.city)
    return {"municipality": cities.most_common(1)[0][0] if cities else "",
            "ads": cluster.size, "indicators": [r["indicator"] for r in cluster.explanation
                                                if r.get("contribution", 0) > 0]}


@transaction.atomic
def cluster_handover(*, actor: Any, cluster: Cluster, indicators: Sequence[str] = (),
                     minor: bool | None = None, note: str = "") -> Any:
    """A hub signal through the hub's own service layer (channel "online monitoring"), with
    the cluster's coded indicators and its evidence package, linked back to the cluster."""
    from zichtbaar.hub import services as hub
    from zichtbaar.hub.models import Channel

    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if cluster.signal_id is not None:
        raise WatchError("already_handed_over", cluster.reference)
    try:
        desk = hub.hub_desk()
    except hub.HubError as exc:
        raise WatchError("no_desk") from exc
    preview = handover_preview(cluster)
    labels = lexicon_labels("nl")
    lines = [f"Online monitoring: advertentienetwerk {cluster.reference} "
             f"({cluster.size} advertenties, score {cluster.score:.1f})."]
    lines += [f"- {labels.get(r['indicator'], r['indicator'])} ({r['grade']}): "
              f"{len(r.get('ads', []))} advertentie(s)" for r in cluster.explanation
              if r.get("contribution", 0) > 0]
    if note:
        lines += ["", note[:2000]]
    template = cluster.template.get("text", "")
    if template:
        lines += ["", "Sjabloon: " + template[:1000]]
    result = hub.signal_submit(
        channel=Channel.ONLINE, actor=actor, organisation=desk,
        source_organisation=getattr(actor, "organisation", None),
        data=hub.SignalInput(
            indicators=list(indicators), forms=["sexual"], minor=True if minor else None,
            municipality=preview["municipality"], description="\n".join(lines),
            external_ref=cluster.reference,
            coded_fields={"watch_cluster": cluster.reference, "watch_score": cluster.score,
                          "watch_indicators": preview["indicators"],
                          "watch_label": cluster.label,
                          "evidence": evidence_package(cluster)}))
    cluster.signal = result.signal
    cluster.save(update_fields=["signal", "updated_at"])
    record(WatchAuditEvent.CLUSTER_HANDED_OVER, actor=actor, object_type="watch_cluster",
           object_id=cluster.pk, detail={"signal": result.signal.pk, "ads": cluster.size})
    return result.signal


def indicator_report(language: str) -> list[dict[str, Any]]:
    """How each indicator performed against the analysts' labels (share of its hits that fall
    in clusters labelled trafficking vs independent)."""
    from zichtbaar.ads.indicators import indicator_performance

    from .selectors import labelled_clusters

    pairs = [(c.label, [_scored(ad) for ad in c.ads.all()]) for c in labelled_clusters()]
    rows = indicator_performance(pairs)
    labels = lexicon_labels(language)
    return [{**row, "label": labels.get(row["indicator"], row["indicator"])} for row in rows]


def _scored(ad: Ad) -> Any:
    from zichtbaar.ads.indicators import Hit, ScoredAd

    hits = tuple(Hit(indicator=h["indicator"], start=h["start"], end=h["end"], text="",
                     grade=h["grade"], weight=h["weight"]) for h in ad.hits)
    return ScoredAd(ad_id=ad.pk, hits=hits)



# --- linking ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkReport:
    ads: int
    clusters_new: int
    clusters_grown: int
    clusters_total: int
    pruned: int
    seconds: float


def linker_id(ad: Ad) -> str:
    """The linker's id of one version of an ad: a changed ad is added again as a new node,
    joined to its earlier versions by a shared ad key, so the phone number it had before and
    the one it has now are both evidence that links."""
    return f"{ad.pk}.{ad.versions}"


def ad_pk(linker_ad_id: Any) -> int:
    return int(str(linker_ad_id).split(".", 1)[0])


def _ad_record(ad: Ad) -> Any:
    from zichtbaar.ads.linking import AdRecord

    extraction = ad.extraction()
    return AdRecord(
        ad_id=linker_id(ad), text=ad.text, phones=tuple(ad.phone_keys),
        emails=tuple(identifier_key("email", e) for e in extraction.get("emails", [])),
        handles=(identifier_key("ad", str(ad.pk)),
                 *(identifier_key("handle", h) for h in extraction.get("handles", []))),
        image_hashes=tuple(ad.image_hashes), city=ad.city,
        posted=ad.posted or ad.first_seen.date(), site=ad.source.name,
        # Names only as keyed hashes: the linker counts distinct names, it needs no name.
        names=tuple(identifier_key("name", n.lower()) for n in extraction.get("names", [])))


def _load_linker(row: LinkerState) -> Any:
    from zichtbaar.ads.linking import Linker, LinkSettings

    if not row.state:
        return Linker(LinkSettings())
    return Linker.from_state(base64.b64decode(row.state))


def link_pending(*, progress: ProgressFn | None = None, batch: int = 5000) -> LinkReport:
    """Join new and changed ads to clusters incrementally: the linker's state is kept
    (encrypted) in the database, so earlier ads are not linked again.

    One transaction with the state row locked: two runs cannot overwrite each other's state,
    and a crash leaves no ad marked linked that the stored state does not hold.
    """
    import time

    started = time.perf_counter()
    say = progress or (lambda text: None)
    with transaction.atomic():
        LinkerState.objects.get_or_create(name="default", defaults={"state": ""})
        row = LinkerState.objects.select_for_update().get(name="default")
        linker = _load_linker(row)
        touched: set[str] = set()
        new_keys: set[str] = set()
        linked = 0
        last_pk = 0
        while True:
            ads = list(Ad.objects.filter(linked=False, pk__gt=last_pk).select_related("source")
                       .order_by("id")[:batch])
            if not ads:
                break
            last_pk = ads[-1].pk
            before = {ad.pk: ad.versions for ad in ads}
            update = linker.add([_ad_record(ad) for ad in ads])
            new_keys |= set(update.new_clusters)
            touched |= set(update.new_clusters) | set(update.grown_clusters)
            touched |= set(getattr(update, "merged", {}) or {})
            by_versions: dict[int, list[int]] = {}
            for pk, versions in before.items():
                by_versions.setdefault(versions, []).append(pk)
            for versions, pks in by_versions.items():
                # An ad changed by a crawl meanwhile stays pending for the next run.
                for chunk in _chunks(pks):
                    Ad.objects.filter(pk__in=chunk, versions=versions).update(linked=True)
            linked += len(ads)
            say(f"linked {linked} ads")
        clusters = linker.clusters()
        touched &= set(clusters)
        _clusters_refresh(linker, clusters, touched, new_keys)
        row.state = base64.b64encode(linker.to_state()).decode()
        row.ads_linked = sum(len(v) for v in clusters.values())
        row.save()
        report = LinkReport(ads=linked, clusters_new=len(new_keys & set(clusters)),
                            clusters_grown=len(touched - new_keys),
                            clusters_total=len(clusters), pruned=len(linker.pruned()),
                            seconds=round(time.perf_counter() - started, 2))
        if linked:
            record(WatchAuditEvent.CLUSTERS_LINKED, actor=None, object_type="watch_clusters",
                   detail={"ads": linked, "new": report.clusters_new,
                           "grown": report.clusters_grown, "total": report.clusters_total})
    return report


def link_summary(report: LinkReport) -> str:
    return (f"Linked {report.ads} ads: {report.clusters_new} new and {report.clusters_grown} "
            f"grown clusters, {report.clusters_total} clusters in all; {report.pruned} "
            f"identifiers ignored as too common; {report.seconds} s.")


def _identifiers(ad: Ad) -> set[str]:
    record_ = _ad_record(ad)
    return {*record_.phones, *record_.emails, *record_.handles, *record_.image_hashes}


def _clusters_refresh(linker: Any, clusters: Mapping[str, Sequence[Any]], touched: set[str],
                      new_keys: set[str]) -> None:
    """Write the touched clusters: members, score with explanation, template, link summary.
    Clusters merged into another hand their labels and hub signal to the survivor.

    Set-based: the touched clusters and their ads are read in a few queries and written with
    bulk inserts and updates, since a day's crawl touches thousands of clusters at once.
    """
    from zichtbaar.ads.indicators import score_cluster
    from zichtbaar.ads.template import template_summary

    lexicon = _lexicon_cache(current_lexicon())
    pruned = linker.pruned()
    pruned_values = {p.get("value") for p in pruned}
    gone = Cluster.objects.exclude(key__in=list(clusters))
    for old in gone.filter(Q(signal__isnull=False) | ~Q(label="")):
        survivor_key = _survivor(linker, old)
        if survivor_key:
            touched.add(survivor_key)
            survivor, _ = Cluster.objects.get_or_create(key=survivor_key)
            ClusterLabel.objects.filter(cluster=old).update(cluster=survivor)
            if survivor.signal_id is None and old.signal_id is not None:
                survivor.signal_id = old.signal_id
            if not survivor.label:
                survivor.label, survivor.labelled_at = old.label, old.labelled_at
                survivor.labelled_by_id = old.labelled_by_id
            survivor.save()
    gone.delete()
    now = timezone.now()
    members_of: dict[str, list[int]] = {}
    for key in sorted(touched):
        members = sorted({ad_pk(m) for m in clusters.get(key, ())})
        if len(members) >= 2:
            members_of[key] = members
    if not members_of:
        return
    keys = list(members_of)
    rows: dict[str, Cluster] = {}
    for chunk in _chunks(keys):
        rows.update((c.key, c) for c in Cluster.objects.filter(key__in=chunk))
    fresh = [Cluster(key=key) for key in keys if key not in rows]
    Cluster.objects.bulk_create(fresh, batch_size=500)
    created = {c.key for c in fresh}
    rows.update((c.key, c) for c in fresh)
    all_pks = sorted({pk for members in members_of.values() for pk in members})
    ads_by_pk: dict[int, Ad] = {}
    for chunk in _chunks(all_pks):
        ads_by_pk.update((ad.pk, ad) for ad in Ad.objects.filter(pk__in=chunk)
                         .select_related("source"))
    for key, members in members_of.items():
        cluster = rows[key]
        Ad.objects.filter(pk__in=members).update(cluster=cluster)
        ads = [ads_by_pk[pk] for pk in members if pk in ads_by_pk]
        # Versions of one ad are joined by their ad key: not a link between ads.
        kinds = Counter(edge["kind"] for edge in linker.edges(key)
                        if ad_pk(edge["a"]) != ad_pk(edge["b"]))
        signals = {name: sorted({ad_pk(i) for i in ids})
                   for name, ids in linker.link_signals(key).items()}
        score = score_cluster([_scored(ad) for ad in ads], lexicon, link_signals=signals)
        template = template_summary([ad.text for ad in ads[:50]])
        cluster.size = len(ads)
        cluster.score = round(score.score, 3)
        cluster.explanation = score.explanation
        cluster.template_json = json.dumps({"text": template.text, "slots": template.slots,
                                            "coverage": template.coverage},
                                           ensure_ascii=False)
        # Identifiers are keyed (HMAC) per ad; only needed when some identifier was pruned.
        own = set().union(*(_identifiers(ad) for ad in ads)) if pruned_values else set()
        cluster.linkage = {"kinds": dict(kinds),
                           "pruned": [{"kind": p.get("kind"), "ads": p.get("ads"),
                                       "reason": p.get("reason", "")}
                                      for p in pruned if p.get("value") in own][:20]}
        if key not in created and key not in new_keys:
            cluster.grown_at = now
        cluster.updated_at = now
    Cluster.objects.bulk_update(
        [rows[key] for key in keys],
        ["size", "score", "explanation", "template_json", "linkage", "grown_at", "updated_at"],
        batch_size=200)


def _survivor(linker: Any, old: Cluster) -> str | None:
    ad = Ad.objects.filter(cluster=old).first()
    return linker.cluster_of(linker_id(ad)) if ad is not None else None


# --- retention ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionReport:
    ads: int
    snapshots: int


def retention_run(*, now: dt.datetime | None = None, actor: Any = None) -> RetentionReport:
    """Delete ads not seen within their source's retention, with their snapshots; each
    snapshot's hash stays in the audit trail so a handed-over evidence package can still be
    matched against it."""
    now = now or timezone.now()
    ads_deleted = snapshots_deleted = 0
    for source in Source.objects.all():
        cutoff = now - dt.timedelta(days=source.retention_days)
        expired = Ad.objects.filter(source=source, last_seen__lt=cutoff)
        for ad in expired.iterator(chunk_size=500):
            with transaction.atomic():
                for snapshot in Snapshot.objects.filter(ad=ad):
                    record(WatchAuditEvent.SNAPSHOT_DELETED, actor=actor,
                           object_type="watch_ad", object_id=ad.pk,
                           detail={"sha256": snapshot.sha256, "source": source.name,
                                   "fetched_at": snapshot.fetched_at.isoformat()})
                    snapshots_deleted += 1
                cluster_id = ad.cluster_id
                ad.delete()
                ads_deleted += 1
                if cluster_id is not None:
                    _cluster_shrink(cluster_id)
    record(WatchAuditEvent.RETENTION_RUN, actor=actor, object_type="watch_retention",
           detail={"ads": ads_deleted, "snapshots": snapshots_deleted})
    return RetentionReport(ads=ads_deleted, snapshots=snapshots_deleted)


def _cluster_shrink(cluster_id: int) -> None:
    size = Ad.objects.filter(cluster_id=cluster_id).count()
    if size < 2 and not Cluster.objects.filter(pk=cluster_id, signal__isnull=False).exists():
        Ad.objects.filter(cluster_id=cluster_id).update(cluster=None)
        Cluster.objects.filter(pk=cluster_id).delete()
    else:
        from zichtbaar.ads.template import template_summary

        # The template must not keep text of ads that retention removed.
        texts = [ad.text for ad in Ad.objects.filter(cluster_id=cluster_id).order_by("id")[:50]]
        summary = template_summary(texts) if texts else None
        template = ({"text": summary.text, "slots": summary.slots,
                     "coverage": summary.coverage} if summary else {})
        Cluster.objects.filter(pk=cluster_id).update(
            size=size, reviewed_size=Least(F("reviewed_size"), size),
            template_json=json.dumps(template, ensure_ascii=False))


ERROR_TEXTS = {
    "no_legal_basis": "Crawling refused: the source names no legal basis (legal_basis).",
    "source_invalid": "The source is not valid",
    "no_desk": "There is no signal desk to hand over to.",
    "already_handed_over": "This cluster was already handed to the hub.",
}


def error_text(exc: WatchError) -> str:
    """One clear line for the command line (operators read English there, as for Django's
    own commands)."""
    text = ERROR_TEXTS.get(exc.code, exc.code)
    return f"{text}: {exc.detail}" if exc.detail and exc.code != "no_legal_basis" else text


def export_recorded(*, rows: int, actor: Any = None) -> None:
    record(WatchAuditEvent.ADS_EXPORTED, actor=actor, object_type="watch_ads",
           organisation_id=getattr(actor, "organisation_id", None),
           detail={"rows": rows, "via": "web" if actor is not None else "cli"})
