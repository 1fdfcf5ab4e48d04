"""Crawl-level behaviour: progress lines, closing on the page budget, the shared frontier."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from twisted.internet.task import LoopingCall

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


def counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """The figures of a crawl from Scrapy's stats (ours are under ``zichtbaar/``)."""
    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    return {
        "pages": get("zichtbaar/pages"),
        "ads_new": get("zichtbaar/ads_new"),
        "ads_changed": get("zichtbaar/ads_changed"),
        "ads_unchanged": get("zichtbaar/ads_unchanged"),
        "errors": get("zichtbaar/errors"),
        "robots_refused": get("robotstxt/forbidden"),
        "images": get("zichtbaar/images"),
    }


def progress_line(stats: Mapping[str, Any]) -> str:
    c = counts(stats)
    return (f"pages {c['pages']}; ads new {c['ads_new']}, changed {c['ads_changed']}, "
            f"unchanged {c['ads_unchanged']}; errors {c['errors']}; "
            f"refused by robots.txt {c['robots_refused']}")


class CrawlProgress:
    """Calls the spider's ``progress`` function every few seconds and every N pages."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("ZICHTBAAR_PROGRESS_INTERVAL")
        self.every = max(1, crawler.settings.getint("ZICHTBAAR_PROGRESS_EVERY_PAGES"))
        self.next_at = self.every
        self.loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.response, signal=signals.response_received)
        return extension

    def emit(self) -> None:
        spider = self.crawler.spider
        progress: ProgressFn | None = getattr(spider, "progress", None)
        if progress is not None and self.crawler.stats is not None:
            source = getattr(getattr(spider, "source", None), "name", "crawl")
            progress(f"{source}: {progress_line(self.crawler.stats.get_stats())}")

    def opened(self, spider: Spider) -> None:
        if self.interval > 0:
            self.loop = LoopingCall(self.emit)
            self.loop.start(self.interval, now=False)

    def response(self) -> None:
        assert self.crawler.stats is not None
        if int(self.crawler.stats.get_value("zichtbaar/pages", 0)) >= self.next_at:
            self.next_at += self.every
            self.emit()

    def closed(self, spider: Spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()


class PageBudgetClose:
    """Closes the spider with reason ``max_pages`` once the budget scheduler is spent."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.idle, signal=signals.spider_idle)
        return extension

    def idle(self) -> None:
        assert self.crawler.engine is not None
        if getattr(self.crawler.engine.scheduler, "exhausted", False):
            raise CloseSpider("max_pages")


class SharedFrontier:
    """Lets several processes share one Redis frontier and leave it together.

    A process whose view of the frontier is empty does not close at once (another process
    may be fetching a listing page that adds more): it stays until the shared queue has been
    empty, and no process has fetched anything, for ``ZICHTBAAR_IDLE_CLOSE_S`` seconds. The
    last process out deletes the queue; the duplicate filter is kept for an hour, so a late
    process with the same run key finds everything seen and leaves instead of re-crawling.
    """

    KEEP_S = 24 * 3600
    KEEP_SEEN_S = 3600

    def __init__(self, crawler: Crawler) -> None:
        from scrapy_redis.connection import get_redis_from_settings

        self.crawler = crawler
        self.keys: dict[str, str] = crawler.settings.getdict("ZICHTBAAR_REDIS_KEYS")
        if not self.keys:
            raise NotConfigured("no shared frontier")
        self.server = get_redis_from_settings(crawler.settings)
        self.idle_close_s = crawler.settings.getfloat("ZICHTBAAR_IDLE_CLOSE_S")
        self.idle_since: float | None = None
        self.last_mark = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.active, signal=signals.response_received)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self, spider: Spider) -> None:
        pipe = self.server.pipeline()
        pipe.incr(self.keys["workers"])
        pipe.set(self.keys["active"], time.time())
        for key in ("workers", "active", "queue", "dupefilter"):
            pipe.expire(self.keys[key], self.KEEP_S)
        pipe.execute()
        # The engine looks at an empty scheduler again only on its heartbeat (5 s); work
        # another process adds to the shared queue should be picked up sooner.
        assert self.crawler.engine is not None
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = 1.0  # private, read at start

    def active(self) -> None:
        now = time.time()
        if now - self.last_mark >= 0.5:
            self.last_mark = now
            self.server.set(self.keys["active"], now, ex=self.KEEP_S)

    def idle(self) -> None:
        assert self.crawler.engine is not None
        scheduler: Any = self.crawler.engine.scheduler
        if getattr(scheduler, "exhausted", False):
            return  # our budget is spent: PageBudgetClose closes us
        if scheduler.queued() > 0:
            raise DontCloseSpider
        now = time.time()
        if self.idle_since is None:
            self.idle_since = now
        last_active = float(self.server.get(self.keys["active"]) or 0)
        if now - max(self.idle_since, last_active) < self.idle_close_s:
            raise DontCloseSpider

    def closed(self, spider: Spider) -> None:
        left = self.server.decr(self.keys["workers"])
        if left <= 0:
            pipe = self.server.pipeline()
            pipe.delete(self.keys["queue"], self.keys["active"], self.keys["workers"])
            pipe.expire(self.keys["dupefilter"], self.KEEP_SEEN_S)
            pipe.execute()
