"""Storing ads in batches (``ad_pages_store``) codes, keeps and audits them as one page at a
time does; the set-based cluster refresh writes what the analyst's queue reads."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from zichtbaar.ads.synth import generate
from zichtbaar.audit.models import AuditEntry
from zichtbaar.watch import services
from zichtbaar.watch.events import WatchAuditEvent
from zichtbaar.watch.models import Ad, Cluster, CrawlRun, Snapshot

from .conftest import SOURCE_YAML

pytestmark = pytest.mark.django_db


def _pages(seed: int, when: dt.datetime) -> dict[str, list[services.AdPage]]:
    pages: dict[str, list[services.AdPage]] = {}
    for ad in generate(networks=3, independents=8, seed=seed):
        pages.setdefault(ad.site, []).append(services.AdPage(
            url=f"https://{ad.site}.example/ad/{ad.ad_id}.html", status=200,
            body=f"<html><div id=text>{ad.text}</div></html>".encode(), fetched_at=when,
            title=ad.title, text=ad.text, posted=ad.posted))
    return pages


def _store(pages: dict[str, list[services.AdPage]], *, batch: bool) -> dict[str, CrawlRun]:
    runs = {}
    for site, site_pages in pages.items():
        source = services.source_save(yaml_text=SOURCE_YAML.format(site=site))
        runs[site] = services.crawl_run_start(source=source)
        if batch:
            services.ad_pages_store(run=runs[site], pages=site_pages)
        else:
            for page in site_pages:
                services.ad_page_store(run=runs[site], page=page)
    return runs


def _coded() -> dict[str, tuple]:
    return {ad.url: (ad.sha256, ad.extraction_json, ad.hits, ad.city, ad.age, ad.phone_keys,
                     ad.score, ad.versions, ad.snapshots.count())
            for ad in Ad.objects.all()}


def test_a_batch_is_coded_like_one_page_at_a_time():
    when = timezone.now()
    pages = _pages(5, when)
    _store(pages, batch=False)
    one_by_one = _coded()
    Ad.objects.all().delete()
    _store(pages, batch=True)
    assert _coded() == one_by_one


def test_a_batch_audit_entry_names_every_snapshot_hash():
    pages = _pages(6, timezone.now())
    runs = _store(pages, batch=True)
    entries = AuditEntry.objects.filter(event=WatchAuditEvent.SNAPSHOT_STORED)
    assert entries.count() == len(runs), "one entry per batch"
    named = {(s["ad"], s["sha256"]) for e in entries for s in e.detail["snapshots"]}
    assert named == set(Snapshot.objects.values_list("ad_id", "sha256"))
    for entry in entries:
        assert entry.object_type == "watch_crawl_run"
        assert all(set(s) == {"ad", "sha256", "url_hash", "run", "version",
                              "earlier_version_again"} for s in entry.detail["snapshots"])


def test_one_page_still_gets_its_own_audit_entry():
    pages = _pages(7, timezone.now())
    _store(pages, batch=False)
    entries = AuditEntry.objects.filter(event=WatchAuditEvent.SNAPSHOT_STORED)
    assert entries.count() == Ad.objects.count()
    assert {e.object_id for e in entries} == {str(pk) for pk in Ad.objects.values_list("pk",
                                                                                        flat=True)}


def test_a_batch_with_changed_unchanged_and_repeated_pages():
    when = timezone.now()
    pages = _pages(8, when)
    site, site_pages = next(iter(pages.items()))
    runs = _store({site: site_pages}, batch=True)
    first, second = site_pages[0], site_pages[1]
    later = when + dt.timedelta(hours=1)
    changed = services.AdPage(url=first.url, status=200, body=b"<html>anders</html>",
                              fetched_at=later, text="Anders nu, bel 06 12 34 56 78")
    same = services.AdPage(url=second.url, status=200, body=second.body, fetched_at=later,
                           text=second.text)
    back = services.AdPage(url=first.url, status=200, body=first.body, fetched_at=later,
                           text=first.text)
    run = services.crawl_run_start(source=runs[site].source)
    result = services.ad_pages_store(run=run, pages=[changed, same, back])
    assert [(r.created, r.changed) for r in result] == [(False, True), (False, False),
                                                        (False, True)]
    ad = Ad.objects.get(url=first.url)
    assert ad.versions == 3 and ad.text == first.text
    assert ad.snapshots.count() == 2, "each distinct page kept once"
    assert Ad.objects.get(url=second.url).last_seen == later
    run.refresh_from_db()
    assert (run.ads_new, run.ads_changed, run.ads_unchanged) == (0, 2, 1)
    again = [s for e in AuditEntry.objects.filter(event=WatchAuditEvent.SNAPSHOT_STORED,
                                                  object_id=str(run.pk)).order_by("seq")
             for s in e.detail["snapshots"]]
    assert [s["earlier_version_again"] for s in again] == [False, True]


def test_link_pending_writes_every_cluster_with_score_template_and_linkage():
    _store(_pages(9, timezone.now()), batch=True)
    report = services.link_pending()
    clusters = list(Cluster.objects.all())
    assert report.clusters_total == len(clusters) > 0
    for cluster in clusters:
        ads = list(cluster.ads.all())
        assert cluster.size == len(ads) >= 2
        assert cluster.template["text"]
        assert json.loads(cluster.template_json) == cluster.template
        assert cluster.explanation is not None and "kinds" in cluster.linkage
        assert all(not ad.linked or ad.cluster_id == cluster.pk for ad in ads)
    assert not Ad.objects.filter(linked=False).exists()
    assert services.link_pending().ads == 0
