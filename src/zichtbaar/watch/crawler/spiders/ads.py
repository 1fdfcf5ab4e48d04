"""The one ad spider: listing pages → ad links and the next page; ad page → an AdItem.

It only parses, with the selectors of the source YAML; cleaning, image hashing and storing
happen in the pipelines. Requests to other hosts, to robots-disallowed paths and beyond the
page budget are refused by Scrapy's middlewares and the scheduler, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from zichtbaar.watch.crawler.items import AdItem
from zichtbaar.watch.sources import SourceConfig, select

LISTING = "listing"
AD = "ad"


class AdSpider(scrapy.Spider):
    name = "watch_ads"

    def __init__(self, source: SourceConfig, run_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"watch_{source.name}", **kwargs)
        self.source = source
        self.run_id = run_id
        self.allowed_domains = list(source.allowed_domains)

    async def start(self) -> AsyncIterator[Request]:
        # Filtered like any other request: with a shared frontier, the process that comes
        # second finds the start pages already seen and takes work from the queue instead.
        for url in self.source.start_urls:
            yield self._request(url, LISTING)

    def _request(self, url: str, kind: str) -> Request:
        # Ads before the next listing page: under a page budget the newest ads come first.
        callback = self.parse_listing if kind == LISTING else self.parse_ad
        return Request(url, callback=callback, errback=self.failed, meta={"zb_page": kind},
                       priority=0 if kind == LISTING else 1)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"zichtbaar/{key}")

    def _follow(self, response: Response, href: str, kind: str) -> Request | None:
        url = response.urljoin(href.strip())
        if not url.startswith(("http://", "https://")):
            return None
        return self._request(url, kind)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        self._count("pages")
        self._count("listing_pages")
        if not isinstance(response, TextResponse):
            self._count("errors")
            self.logger.warning("listing is not a text page: %s", response.url)
            return
        for href in select(response, self.source.listing.ad_links):
            if request := self._follow(response, href, AD):
                yield request
        if self.source.listing.next_page:
            for href in select(response, self.source.listing.next_page)[:1]:
                if request := self._follow(response, href, LISTING):
                    yield request

    def parse_ad(self, response: Response) -> Iterator[AdItem]:
        self._count("pages")
        self._count("ad_pages")
        if not isinstance(response, TextResponse):
            self._count("errors")
            self.logger.warning("ad is not a text page: %s", response.url)
            return
        ad = self.source.ad

        def pick(spec: str) -> list[str]:
            return select(response, spec) if spec else []

        yield AdItem(
            url=response.url,
            status=response.status,
            body=response.body,
            fetched_at=dt.datetime.now(dt.UTC),
            title_parts=pick(ad.title),
            text_parts=pick(ad.text),
            posted_parts=pick(ad.posted),
            city_parts=pick(ad.city),
            age_parts=pick(ad.age),
            image_urls=[response.urljoin(u.strip()) for u in pick(ad.images) if u.strip()],
        )

    def failed(self, failure: Failure) -> None:
        """A page that could not be fetched; refusals (robots, off-site, budget) are not
        errors, they are the crawler being polite."""
        request = getattr(failure, "request", None)
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
            if request is not None and hasattr(scheduler, "refund"):
                scheduler.refund(request)
            return
        self._count("errors")
        self.logger.warning("could not fetch %s: %s", getattr(request, "url", "?"),
                            failure.getErrorMessage())
