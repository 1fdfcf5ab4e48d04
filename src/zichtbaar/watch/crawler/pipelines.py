"""Pipelines: clean → drop duplicates → hash images (bytes discarded) → store.

Storing goes through ``watch.services.ad_page_store``, which extracts, scores and keeps the
evidence snapshot. Django's ORM refuses to run in a thread with a running event loop (Scrapy's
default asyncio reactor runs one in the main thread), so every ORM call is made in one
dedicated worker thread (``deferToThreadPool`` on a one-thread Twisted pool). One thread also
means one database connection and no write contention on SQLite; it is closed in that same
thread when the spider closes, since Django connections belong to the thread that opened them.

Images are fetched through the Scrapy engine, so robots.txt, the allowed domains and the
download delay apply to them as to pages; each URL once per crawl, shared as an asyncio task
between ads processed at the same time (Scrapy's default asyncio reactor, which
``settings.py`` keeps). Only a perceptual hash is kept; no face detection
or recognition of any kind is run, and the bytes are dropped as soon as they are hashed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from scrapy import Request
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from zichtbaar.watch.crawler.items import AdItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
T = TypeVar("T")
_AGE = re.compile(r"\b(\d{2})\b")


def normalise(parts: Sequence[str]) -> str:
    """Selected strings joined by one space, runs of whitespace collapsed."""
    return " ".join(" ".join(parts).split())


def parse_posted(parts: Sequence[str]) -> dt.date | None:
    for part in parts:
        try:
            return dt.date.fromisoformat(part.strip()[:10])
        except ValueError:
            continue
    return None


def parse_age(parts: Sequence[str]) -> int | None:
    match = _AGE.search(normalise(parts))
    if match and 16 <= int(match.group(1)) <= 99:
        return int(match.group(1))
    return None


class _Stage:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def count(self, key: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"zichtbaar/{key}", n)


class CleanPipeline(_Stage):
    """Join and normalise the selected strings; an ad without text is not an ad."""

    def process_item(self, item: AdItem) -> AdItem:
        item.title = normalise(item.title_parts)[:300]
        item.text = normalise(item.text_parts)
        item.posted = parse_posted(item.posted_parts)
        item.city = normalise(item.city_parts)[:100]
        item.age = parse_age(item.age_parts)
        limit = self.crawler.settings.getint("ZICHTBAAR_MAX_IMAGES_PER_AD")
        item.image_urls = list(dict.fromkeys(item.image_urls))[:limit]
        if not item.text:
            self.count("empty_ads")
            raise DropItem(f"no ad text at {item.url}")
        return item


class DuplicatePipeline(_Stage):
    """One ad page once per crawl, even when a redirect or two links lead to it."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[str] = set()

    def process_item(self, item: AdItem) -> AdItem:
        if item.url in self.seen:
            self.count("duplicates")
            raise DropItem(f"duplicate {item.url}")
        self.seen.add(item.url)
        return item


class ImageHashPipeline(_Stage):
    """Replace image URLs by perceptual hashes; an image reused by many ads is fetched once."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # One task per image URL, shared by the ads that are processed at the same time.
        self.hashes: dict[str, asyncio.Future[str | None]] = {}
        self.image_hash: Callable[[bytes], str | None] | None = None

    def open_spider(self) -> None:
        from zichtbaar.ads.images import image_hash

        self.image_hash = image_hash

    async def _hash(self, url: str) -> str | None:
        if url not in self.hashes:
            self.hashes[url] = asyncio.ensure_future(self._fetch_and_hash(url))
        return await asyncio.shield(self.hashes[url])

    async def _fetch_and_hash(self, url: str) -> str | None:
        assert self.crawler.engine is not None and self.image_hash is not None
        digest: str | None = None
        try:
            response = await self.crawler.engine.download_async(
                Request(url, meta={"zb_page": "image"}, dont_filter=True))
        except IgnoreRequest:  # robots.txt or another host: not ours to fetch
            self.count("images_refused")
        except Exception as exc:
            self.count("image_errors")
            logger.warning("image %s not fetched: %s", url, exc)
        else:
            if response.status == 200:
                self.count("images")
                digest = self.image_hash(response.body)
            else:
                self.count("image_errors")
            del response  # the bytes go no further than the hash
        return digest

    async def process_item(self, item: AdItem) -> AdItem:
        hashes = [await self._hash(url) for url in item.image_urls]
        item.image_hashes = sorted({h for h in hashes if h})
        item.image_urls = []
        return item


class StorePipeline(_Stage):
    """Store ads through ``watch.services`` in one worker thread (see module docstring).

    Pages are stored in batches of ``ZICHTBAAR_STORE_BATCH`` (one transaction and one audit
    entry per batch instead of per page: a Dutch day of ads in seconds rather than minutes);
    what is buffered is stored when the spider closes. A batch that fails is stored page by
    page, so one bad page costs only itself.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="zichtbaar-watch-store")
        self.run: Any = None
        self.buffer: list[AdItem] = []
        self.batch = max(1, crawler.settings.getint("ZICHTBAAR_STORE_BATCH", 50))

    def open_spider(self) -> None:
        if getattr(self.crawler.spider, "run_id", None) is not None:
            self.pool.start()

    async def in_thread(self, func: Callable[..., T], *args: Any) -> T:
        from twisted.internet import reactor

        deferred = deferToThreadPool(reactor, self.pool, func, *args)  # type: ignore[arg-type]
        return await maybe_deferred_to_future(deferred)

    @staticmethod
    def _page(item: AdItem) -> Any:
        from zichtbaar.watch import services

        return services.AdPage(url=item.url, status=item.status, body=item.body,
                               fetched_at=item.fetched_at, title=item.title, text=item.text,
                               posted=item.posted, image_hashes=tuple(item.image_hashes),
                               city=item.city, age=item.age)

    def _store(self, run_id: int, items: list[AdItem]) -> list[Any]:
        from django.db import close_old_connections

        from zichtbaar.watch import services
        from zichtbaar.watch.models import CrawlRun

        close_old_connections()
        if self.run is None:
            self.run = CrawlRun.objects.select_related("source").get(pk=run_id)
        if len(items) == 1:
            return [services.ad_page_store(run=self.run, page=self._page(items[0]))]
        return services.ad_pages_store(run=self.run, pages=[self._page(i) for i in items])

    def _counted(self, stored: Any) -> None:
        self.count("ads_new" if stored.created else "ads_changed" if stored.changed
                   else "ads_unchanged")

    async def flush(self) -> None:
        items, self.buffer = self.buffer, []
        if not items:
            return
        run_id = self.crawler.spider.run_id  # type: ignore[union-attr]
        try:
            for stored in await self.in_thread(self._store, run_id, items):
                self._counted(stored)
        except Exception:
            logger.warning("batch of %d pages not stored; storing them one by one", len(items))
            for item in items:
                try:
                    for stored in await self.in_thread(self._store, run_id, [item]):
                        self._counted(stored)
                except Exception:
                    self.count("errors")
                    self.count("store_errors")
                    logger.exception("could not store %s", item.url)
        for item in items:
            item.body = b""  # stored as the snapshot; do not keep it in memory

    async def process_item(self, item: AdItem) -> AdItem:
        spider = self.crawler.spider
        if getattr(spider, "run_id", None) is None:  # parse-only crawl (no run): nothing to store
            return item
        self.buffer.append(item)
        if len(self.buffer) >= self.batch:
            await self.flush()
        return item

    async def close_spider(self) -> None:
        from django.db import connections

        if not self.pool.started:
            return
        try:
            await self.flush()
            await self.in_thread(connections.close_all)
        finally:
            self.pool.stop()
