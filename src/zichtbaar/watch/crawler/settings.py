"""Polite defaults of the Watch crawler, and the per-source settings built on them.

Politeness, not throughput, sets the design (research/online.md §6.1): robots.txt obeyed,
one request in flight per site with AutoThrottle backing off when a site slows down, a
delay floor from the source, an honest user agent with a contact address, only the source's
own domains, and bounded depth and page counts.

The upper-case names are a Scrapy settings module; ``crawl_settings`` layers one source's
rate and limits (and, optionally, the shared Redis frontier) on top.
"""

from __future__ import annotations

import os
import re
from typing import Any

from scrapy.settings import Settings

from zichtbaar.watch.sources import SourceConfig

DEFAULT_CONTACT = "mailto:watch@example.org"
CRAWLER_VERSION = "0.1"


def user_agent(contact: str | None = None) -> str:
    """``zichtbaar-watch/0.1 (+mailto:…)``: site operators can see who crawls and ask us."""
    contact = (contact or os.environ.get("ZICHTBAAR_CRAWLER_CONTACT") or DEFAULT_CONTACT)
    return f"zichtbaar-watch/{CRAWLER_VERSION} (+{contact.strip()})"


BOT_NAME = "zichtbaar-watch"
USER_AGENT = user_agent()
ROBOTSTXT_OBEY = True  # the robots middleware does nothing unless this is on
ROBOTSTXT_USER_AGENT = "zichtbaar-watch"

# One request in flight per site; AutoThrottle widens the delay when responses slow down and
# never goes below DOWNLOAD_DELAY (the source's rate.delay_s).
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50 %, so requests do not tick like a clock
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port on a crawler that holds evidence

DEPTH_LIMIT = 100
DEPTH_PRIORITY = 0
CLOSESPIDER_PAGECOUNT = 20_000  # backstop; the page budget (ZICHTBAAR_MAX_PAGES) ends first
CLOSESPIDER_TIMEOUT = 6 * 3600

LOG_LEVEL = os.environ.get("ZICHTBAAR_CRAWLER_LOG_LEVEL", "WARNING")
STATS_DUMP = False
LOG_FORMATTER = "zichtbaar.watch.crawler.logformatter.QuietLogFormatter"

SCHEDULER = "zichtbaar.watch.crawler.scheduler.BudgetScheduler"
ITEM_PIPELINES = {
    "zichtbaar.watch.crawler.pipelines.CleanPipeline": 100,
    "zichtbaar.watch.crawler.pipelines.DuplicatePipeline": 200,
    "zichtbaar.watch.crawler.pipelines.ImageHashPipeline": 300,
    "zichtbaar.watch.crawler.pipelines.StorePipeline": 900,
}
EXTENSIONS = {
    "zichtbaar.watch.crawler.extensions.CrawlProgress": 500,
    "zichtbaar.watch.crawler.extensions.PageBudgetClose": 510,
}

# Own settings (read by our components):
ZICHTBAAR_MAX_PAGES = 500  # listing + ad page requests this process takes from the frontier
ZICHTBAAR_MAX_IMAGES_PER_AD = 12
# Ads stored per transaction (and audit entry); the rest is stored when the spider closes.
ZICHTBAAR_STORE_BATCH = 50
ZICHTBAAR_PROGRESS_INTERVAL = 5.0  # seconds between progress lines
ZICHTBAAR_PROGRESS_EVERY_PAGES = 25
ZICHTBAAR_IDLE_CLOSE_S = 5.0  # shared frontier: leave after it stayed empty this long

_KEY_PART = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def redis_keys(source_name: str, run_key: str) -> dict[str, str]:
    """The Redis keys of one shared frontier: per source and run, so crawls never collide."""
    if not _KEY_PART.match(run_key):
        raise ValueError("run key: use 1-64 letters, digits, '.', '_' or '-'")
    base = f"zichtbaar:watch:{source_name}:{run_key}"
    return {"queue": f"{base}:requests", "dupefilter": f"{base}:dupefilter",
            "workers": f"{base}:workers", "active": f"{base}:active"}


def crawl_settings(source: SourceConfig, *, max_pages: int | None = None,
                   redis_url: str | None = None, run_key: str | None = None,
                   contact: str | None = None, **extra: Any) -> Settings:
    """The settings of one crawl: this module, then the source's rate and limits."""
    settings = Settings()
    settings.setmodule("zichtbaar.watch.crawler.settings", priority="project")
    pages = max_pages if max_pages is not None else source.max_pages
    overrides: dict[str, Any] = {
        "USER_AGENT": user_agent(contact),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.rate.concurrency,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(source.rate.concurrency),
        "DOWNLOAD_DELAY": source.rate.delay_s,
        "AUTOTHROTTLE_START_DELAY": max(source.rate.delay_s, 0.0),
        "DEPTH_LIMIT": source.max_depth,
        "ZICHTBAAR_MAX_PAGES": pages,
        # Robots, images and retries are responses too; the page budget ends the crawl.
        "CLOSESPIDER_PAGECOUNT": max(50, pages * 20),
    }
    if redis_url:
        if not run_key:
            raise ValueError("a shared frontier needs a run key")
        keys = redis_keys(source.name, run_key)
        overrides.update({
            "REDIS_URL": redis_url,
            "SCHEDULER": "zichtbaar.watch.crawler.scheduler.RedisBudgetScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": keys["queue"],
            "SCHEDULER_DUPEFILTER_KEY": keys["dupefilter"],
            # Several processes share the frontier: none may flush it when it leaves.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never block the reactor in a Redis pop
            "ZICHTBAAR_REDIS_KEYS": keys,
        })
        overrides["EXTENSIONS"] = {**settings.getdict("EXTENSIONS"),
                                   "zichtbaar.watch.crawler.extensions.SharedFrontier": 520}
    overrides.update(extra)
    settings.setdict(overrides, priority="cmdline")
    return settings
