"""Run crawls in this process: the CLI's, never the web server's.

``crawl()`` saves the source (refusing one without a legal basis), starts a crawl run, runs
Scrapy's ``CrawlerProcess`` here, prints progress, finishes the run and returns a summary.

Twisted's reactor cannot be restarted, so a process runs ``crawl()`` once; the CLI, the
management command and the demo each start a process for it.

With ``REDIS_URL`` set (or ``redis_url=``), the frontier and the duplicate filter live in Redis
under a run key, so several processes started with the same key share the work: each page is
fetched by one of them, once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from zichtbaar.watch.sources import MAX_YAML_BYTES, SourceConfig, SourceError

ProgressFn = Callable[[str], None]
FINISHED_REASONS = {"finished", "max_pages", "closespider_pagecount"}
_USED = False


@dataclass(frozen=True)
class CrawlSummary:
    source: str
    run_id: int
    pages: int
    ads_new: int
    ads_changed: int
    ads_unchanged: int
    errors: int
    robots_refused: int
    seconds: float
    reason: str
    run_key: str | None = None

    def line(self) -> str:
        return (f"{self.source}: {self.pages} pages in {self.seconds:.1f} s ({self.reason}); "
                f"ads new {self.ads_new}, changed {self.ads_changed}, unchanged "
                f"{self.ads_unchanged}; errors {self.errors}; refused by robots.txt "
                f"{self.robots_refused}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _yaml_text(source: str | Path | SourceConfig) -> str:
    from zichtbaar.watch.services import WatchError

    if isinstance(source, SourceConfig):
        return yaml.safe_dump(source.to_dict(), sort_keys=False, allow_unicode=True)
    path = Path(source)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise WatchError("source_invalid",
                             f"{path} is larger than {MAX_YAML_BYTES // 1024} KB.")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchError("source_invalid", f"cannot read {path}: {exc}") from exc


def _check(yaml_text: str) -> SourceConfig:
    """Validate before anything is saved; a missing legal basis has its own refusal code."""
    from zichtbaar.watch.services import WatchError

    try:
        return SourceConfig.from_yaml(yaml_text)
    except SourceError as exc:
        code = "no_legal_basis" if exc.key == "legal_basis" else "source_invalid"
        raise WatchError(code, str(exc)) from exc


def _saved_source(config: SourceConfig, yaml_text: str) -> Any:
    """The stored source, saved through the service only when its YAML changed.

    Saving takes a row lock on the source; with several processes crawling it, a save that
    changes nothing only risks lock waits (on PostgreSQL, foreign keys are checked at commit)
    and adds an audit entry per crawl.
    """
    from zichtbaar.watch import services
    from zichtbaar.watch.models import Source

    existing = Source.objects.filter(name=config.name).first()
    if existing is not None and existing.yaml_text == yaml_text and existing.legal_basis:
        return existing
    return services.source_save(yaml_text=yaml_text)


class _CrawlerLogFilter(logging.Filter):
    """Keeps Scrapy's and Twisted's records below ``LOG_LEVEL`` out of Django's handlers.

    Scrapy sets its own loggers to DEBUG when the process starts (and logs its version
    banner and settings at INFO); this process logs through Django's handlers instead.
    """

    NAMES = ("scrapy", "scrapy_redis", "protego", "twisted", "filelock", "hpack")

    def __init__(self, level: str) -> None:
        super().__init__()
        self.level = logging.getLevelName(level.upper())
        if not isinstance(self.level, int):
            self.level = logging.WARNING

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] in self.NAMES:
            return record.levelno >= self.level
        return True


def crawl(source: str | Path | SourceConfig, *, max_pages: int | None = None,
          progress: ProgressFn = print, redis_url: str | None = None,
          run_key: str | None = None, contact: str | None = None,
          settings: Mapping[str, Any] | None = None) -> CrawlSummary:
    """Crawl one source; returns when the crawl has ended and its run is finished.

    Progress lines go to ``progress`` while it runs; the caller prints ``summary.line()``.

    ``source`` is a YAML path or a SourceConfig. ``max_pages`` overrides the source's
    ``max_pages`` (listing and ad pages this process fetches). ``redis_url`` (default: the
    ``REDIS_URL`` environment variable) shares the frontier with other processes that use
    the same ``run_key`` (default ``run-<id>``, printed). ``settings`` overrides Scrapy
    settings (tests). Raises ``WatchError`` before fetching anything when the source is
    invalid or has no legal basis.
    """
    (summary,) = crawl_many([source], max_pages=max_pages, progress=progress,
                            redis_url=redis_url, run_key=run_key, contact=contact,
                            settings=settings)
    return summary


def crawl_many(sources: Sequence[str | Path | SourceConfig], *, max_pages: int | None = None,
               progress: ProgressFn = print, redis_url: str | None = None,
               run_key: str | None = None, contact: str | None = None,
               settings: Mapping[str, Any] | None = None) -> list[CrawlSummary]:
    """Crawl several sources side by side in this process (the demo crawls both layouts).

    Every source is checked before any is fetched; each gets its own crawl run, rate and
    page budget. Same arguments as ``crawl``; ``max_pages`` applies to each source.
    """
    global _USED  # one reactor per process
    from zichtbaar.watch import services

    if _USED:
        raise RuntimeError("crawl() runs once per process: Twisted's reactor cannot restart.")
    if max_pages is not None and max_pages < 1:
        raise ValueError("max_pages must be at least 1")
    texts = [_yaml_text(source) for source in sources]
    configs = [_check(text) for text in texts]
    if len({c.name for c in configs}) != len(configs):
        raise services.WatchError("source_invalid", "the same source is listed twice")
    runs = [services.crawl_run_start(source=_saved_source(config, text))
            for config, text in zip(configs, texts, strict=True)]
    redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL") or None
    if redis_url:
        run_key = run_key or os.environ.get("ZICHTBAAR_CRAWL_RUN_KEY") or f"run-{runs[0].pk}"
        progress(f"shared frontier in Redis, run key {run_key} "
                 f"(other processes join with --run-key {run_key})")
    else:
        run_key = None

    started = time.monotonic()
    results: list[tuple[dict[str, Any], str]] = []
    try:
        results = _run_scrapy(list(zip(configs, (r.pk for r in runs), strict=True)),
                              max_pages=max_pages, progress=progress, redis_url=redis_url,
                              run_key=run_key, contact=contact, overrides=settings)
    finally:
        seconds = round(time.monotonic() - started, 3)
        summaries = [
            _finish(run, config, *(results[i] if i < len(results) else ({}, "failed")),
                    seconds=seconds, run_key=run_key, max_pages=max_pages)
            for i, (run, config) in enumerate(zip(runs, configs, strict=True))]
    return summaries


def _finish(run: Any, config: SourceConfig, stats: Mapping[str, Any], reason: str, *,
            seconds: float, run_key: str | None, max_pages: int | None) -> CrawlSummary:
    from zichtbaar.watch import services
    from zichtbaar.watch.crawler.extensions import counts

    figures = counts(stats)
    run = services.crawl_run_finish(
        run=run, pages=figures["pages"], errors=figures["errors"],
        failed=reason not in FINISHED_REASONS,
        stats={**figures, "reason": reason, "seconds": seconds, "run_key": run_key,
               "max_pages": max_pages or config.max_pages,
               "images_refused": int(stats.get("zichtbaar/images_refused", 0)),
               "image_errors": int(stats.get("zichtbaar/image_errors", 0)),
               "empty_ads": int(stats.get("zichtbaar/empty_ads", 0))})
    return CrawlSummary(source=config.name, run_id=run.pk, pages=run.pages,
                        ads_new=run.ads_new, ads_changed=run.ads_changed,
                        ads_unchanged=run.ads_unchanged, errors=run.errors,
                        robots_refused=figures["robots_refused"], seconds=seconds,
                        reason=reason, run_key=run_key)


def _run_scrapy(jobs: Sequence[tuple[SourceConfig, int]], *, max_pages: int | None,
                progress: ProgressFn, redis_url: str | None, run_key: str | None,
                contact: str | None, overrides: Mapping[str, Any] | None
                ) -> list[tuple[dict[str, Any], str]]:
    """One CrawlerProcess, one crawler per source (each with its own settings)."""
    global _USED
    from scrapy.crawler import Crawler, CrawlerProcess

    from zichtbaar.watch.crawler.settings import crawl_settings
    from zichtbaar.watch.crawler.spiders.ads import AdSpider

    if contact is None:
        from django.conf import settings as django_settings

        contact = getattr(django_settings, "WATCH_CRAWLER_CONTACT", None)
    per_source = [crawl_settings(config, max_pages=max_pages, redis_url=redis_url,
                                 run_key=run_key, contact=contact,
                                 LOG_INSTALL_ROOT_HANDLER=False, **dict(overrides or {}))
                  for config, _ in jobs]
    log_filter = _CrawlerLogFilter(per_source[0].get("LOG_LEVEL", "WARNING"))
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(log_filter)
    _USED = True
    try:
        process = CrawlerProcess(per_source[0])
        crawlers = []
        for index, ((config, run_id), crawler_settings) in enumerate(
                zip(jobs, per_source, strict=True)):
            # The first crawler installs the (asyncio) reactor, as CrawlerProcess would.
            crawler = Crawler(AdSpider, crawler_settings, init_reactor=index == 0)
            crawlers.append(crawler)
            process.crawl(crawler, source=config, run_id=run_id, progress=progress)
        process.start()
    finally:
        for handler in handlers:
            handler.removeFilter(log_filter)
    results = []
    for crawler in crawlers:
        stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
        results.append((stats, str(stats.get("finish_reason", "failed"))))
    return results
