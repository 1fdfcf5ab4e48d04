"""The crawler against the synthetic ad site on loopback, run as operators run it.

Each crawl is ``zichtbaar manage watch_crawl`` in a subprocess on this test's database; the
server counts every path it is asked for, so "never requested" and "exactly once" are facts
of the wire, not of the crawler's own bookkeeping.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import pytest
from django.db import connection
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from zichtbaar.ads.images import image_hash
from zichtbaar.watch import services
from zichtbaar.watch.crawler.items import AdItem
from zichtbaar.watch.crawler.spiders.ads import AdSpider
from zichtbaar.watch.models import Ad, CrawlRun, Snapshot, Source
from zichtbaar.watch.sources import SourceConfig

from .crawlsite import Site, crawl_env, site_fixture, watch_crawl  # noqa: F401  # fixture

LAYOUTS = ("voorbeeldsite", "proefadvertenties")


def _ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def _truth_urls(site: Site, layout: str) -> set[str]:
    return {site.info.url(path) for path in site.info.ads_in(layout).values()}


def _disk(site: Site, path: str) -> bytes:
    return (site.info.root / path.lstrip("/")).read_bytes()


def _dump_database() -> str:
    """Every row of every table as text (what someone reading the database file sees)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # names from introspection
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


# --- parsing alone (no network, no database) ------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_spider_parses_listing_and_ad_pages_of_both_layouts(site: Site, layout: str) -> None:
    config = SourceConfig.from_yaml(site.info.source_yaml(layout))
    spider = AdSpider.from_crawler(get_crawler(AdSpider), source=config)
    first = site.info.listing_paths[layout][0]
    listing = HtmlResponse(site.info.url(first), body=_disk(site, first),
                           request=Request(site.info.url(first)))
    followed = list(spider.parse_listing(listing))
    ads = [r.url for r in followed if r.meta["zb_page"] == "ad"]
    nexts = [r.url for r in followed if r.meta["zb_page"] == "listing"]
    assert nexts == [site.info.url(site.info.listing_paths[layout][1])]
    assert any("/offsite/" in url for url in ads)  # followed by the parser, refused later
    assert any(site.info.url(p) in ads for p in site.info.hidden_paths.values())

    ad_id, path = next(iter(site.info.ads_in(layout).items()))
    ad = site.info.ads[ad_id]
    page = HtmlResponse(site.info.url(path), body=_disk(site, path),
                        request=Request(site.info.url(path)))
    (item,) = spider.parse_ad(page)
    assert isinstance(item, AdItem)
    assert item.body == _disk(site, path)
    assert "".join(item.title_parts).strip() == ad.title
    assert ad.phone_raw in " ".join(" ".join(item.text_parts).split())
    assert item.posted_parts[0] == ad.posted.isoformat()
    assert len(item.image_urls) == len(ad.image_seeds)
    assert all(url.startswith(f"http://127.0.0.1:{site.port}/img/") for url in item.image_urls)


# --- whole crawls ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_crawl_of_both_layouts_stores_every_ad_politely(site: Site, tmp_path: Path) -> None:
    # Both layouts side by side in one process, as the demo crawls them.
    out = _ok(watch_crawl(*(site.source_file(layout, tmp_path) for layout in LAYOUTS)))
    for layout in LAYOUTS:
        assert f"{layout}: " in out and "ads new" in out

    requested = site.server.requested()
    # robots.txt: the disallowed ad page, linked from a listing, was never asked for.
    assert requested["/robots.txt"] == 2  # once per crawl
    for path in site.info.hidden_paths.values():
        assert requested[path] == 0, path
    # Only the allowed domain: the off-site links (this server, another host name) never.
    for path in site.info.offsite_paths:
        assert requested[path] == 0, path
    # Pagination followed to the end; every page and every ad fetched exactly once.
    for layout in LAYOUTS:
        for path in site.info.listing_paths[layout]:
            assert requested[path] == 1, path
        for path in site.info.ads_in(layout).values():
            assert requested[path] == 1, path
    # Images: each once (reused images are fetched once per crawl at most).
    assert all(requested[path] <= 2 for path in site.info.image_paths)
    assert site.server.user_agents == {"zichtbaar-watch/0.1 (+mailto:watch@example.org)"}

    for layout in LAYOUTS:
        source = Source.objects.get(name=layout)
        urls = set(Ad.objects.filter(source=source).values_list("url", flat=True))
        assert urls == _truth_urls(site, layout)
        run = CrawlRun.objects.get(source=source)
        assert run.status == CrawlRun.Status.FINISHED
        assert run.ads_new == len(urls) and run.errors == 0
        assert run.pages == len(urls) + len(site.info.listing_paths[layout])
        assert run.stats["robots_refused"] == 1

    # Evidence: one snapshot per ad, the exact bytes served, with their sha256.
    for ad in Ad.objects.all():
        path = ad.url.split(f":{site.port}", 1)[1]
        served = _disk(site, path)
        (snapshot,) = ad.snapshots.all()
        assert snapshot.sha256 == hashlib.sha256(served).hexdigest()
        assert base64.b64decode(snapshot.content) == served
        assert snapshot.status == 200
        truth = site.info.ads[path.rsplit("/", 1)[1].removesuffix(".html")]
        assert ad.posted == truth.posted
        assert ad.title == truth.title
        # Image hashes are kept, computed from the bytes the site served.
        expected = set()
        for index, seed in enumerate(truth.image_seeds):
            variant = truth.image_variants[index] if truth.image_variants else 0
            image = f"/img/{seed}.png" if not variant else f"/img/{seed}v{variant}.png"
            expected.add(image_hash(_disk(site, image)))
        assert set(ad.image_hashes) == expected - {None}

    # Image bytes are stored nowhere: not in a snapshot, not in any table, in no encoding.
    snapshots = {base64.b64decode(s.content) for s in Snapshot.objects.all()}
    dump = _dump_database()
    for path in site.info.image_paths:
        data = _disk(site, path)
        assert data not in snapshots
        assert base64.b64encode(data).decode()[:80] not in dump
        assert data.hex()[:80] not in dump


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_recrawl_moves_last_seen_and_keeps_the_old_snapshot_of_a_changed_ad(
        site: Site, tmp_path: Path) -> None:
    source_file = site.source_file("voorbeeldsite", tmp_path)
    _ok(watch_crawl(source_file))
    ads = {a.url: a for a in Ad.objects.all()}
    ad_id, path = next(iter(site.info.ads_in("voorbeeldsite").items()))
    old = site.info.ads[ad_id]
    before = hashlib.sha256(_disk(site, path)).hexdigest()
    new_phone = "06 19 87 65 43"
    changes = {"phone_raw": new_phone, "text": old.text.replace(old.phone_raw, new_phone)}
    site.info.rewrite_ad(old._replace(**changes) if hasattr(old, "_replace")
                         else dataclasses.replace(old, **changes))
    after = hashlib.sha256(_disk(site, path)).hexdigest()
    assert before != after

    _ok(watch_crawl(source_file))
    changed = Ad.objects.get(url=site.info.url(path))
    assert changed.versions == 2
    assert set(changed.snapshots.values_list("sha256", flat=True)) == {before, after}
    assert new_phone in changed.text
    for ad in Ad.objects.exclude(pk=changed.pk):
        assert ad.last_seen > ads[ad.url].last_seen
        assert ad.versions == 1 and ad.snapshots.count() == 1
    second = CrawlRun.objects.order_by("-started_at", "-id").first()
    assert second is not None
    assert (second.ads_new, second.ads_changed, second.ads_unchanged) == (
        0, 1, len(ads) - 1)
    for ad_path in site.info.ads_in("voorbeeldsite").values():
        assert site.server.count(ad_path) == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_max_pages_bounds_the_crawl(site: Site, tmp_path: Path) -> None:
    out = _ok(watch_crawl(site.source_file("proefadvertenties", tmp_path), "--max-pages", "4"))
    assert "proefadvertenties: 4 pages" in out and "(max_pages)" in out
    # Refused requests (robots.txt, off-site) do not use up the budget; fetched pages do.
    assert sum(site.html_requests().values()) == 4
    run = CrawlRun.objects.get()
    assert run.pages == 4 and run.status == CrawlRun.Status.FINISHED
    # Ads come before the next listing page: the first listing, then three of its ads.
    assert site.html_requests()[site.info.listing_paths["proefadvertenties"][0]] == 1
    assert Ad.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_source_without_legal_basis_is_refused_before_anything_is_fetched(
        site: Site, tmp_path: Path) -> None:
    from zichtbaar.watch.crawler.run import crawl

    no_basis = site.source_file("voorbeeldsite", tmp_path, legal_basis=None)
    with pytest.raises(services.WatchError) as error:
        crawl(no_basis, progress=lambda line: None)
    assert error.value.code == "no_legal_basis"
    assert "legal_basis" in str(error.value)
    assert not Source.objects.exists() and not CrawlRun.objects.exists()
    assert not site.server.requested()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_command_refuses_a_source_without_legal_basis(site: Site, tmp_path: Path) -> None:
    no_basis = site.source_file("voorbeeldsite", tmp_path, legal_basis="")
    result = watch_crawl(no_basis, env=crawl_env())
    assert result.returncode != 0
    assert "no_legal_basis" in result.stderr and "crawling refuses without it" in result.stderr
    assert "Traceback" not in result.stderr
    assert not site.server.requested()
    assert not CrawlRun.objects.exists()
