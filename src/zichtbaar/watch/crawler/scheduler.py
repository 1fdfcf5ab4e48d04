"""Schedulers with a page budget: in memory (one process) or on Redis (shared frontier).

The budget (``ZICHTBAAR_MAX_PAGES``) counts listing and ad page requests this process takes
from the frontier. Once spent, the scheduler hands out nothing more and reports nothing
pending, so the spider finishes its in-flight pages and closes; with a shared frontier the
requests it did not take stay in Redis for the other processes. (``CLOSESPIDER_PAGECOUNT``
would count robots.txt and images too and cut in-flight pages off.)

``RedisBudgetScheduler`` is scrapy-redis 0.9.1's scheduler, which works with Scrapy 2.19 as
it is, minus one thing: it passes ``spider=`` to the stats collector on every enqueue and
dequeue, which Scrapy 2.19 deprecates with a warning per call. The two methods are
re-stated here without it; queue, dupefilter and persistence are scrapy-redis's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.core.scheduler import Scheduler
from scrapy.http import Request
from scrapy_redis.scheduler import Scheduler as RedisScheduler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class _Budget:
    budget: int | None = None
    taken: int = 0

    def _set_budget(self, crawler: Crawler) -> None:
        self.budget = crawler.settings.getint("ZICHTBAAR_MAX_PAGES") or None
        self.taken = 0

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and self.taken >= self.budget

    def refund(self, request: Request) -> None:
        """A page request refused before it reached the network (robots.txt, another
        host) does not use up the budget."""
        if request.meta.get("zb_page") and self.taken > 0:
            self.taken -= 1

    def _took(self, request: Request | None) -> Request | None:
        if request is not None and request.meta.get("zb_page"):
            self.taken += 1
        return request


class BudgetScheduler(_Budget, Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler._set_budget(crawler)
        return scheduler

    def has_pending_requests(self) -> bool:
        return not self.exhausted and super().has_pending_requests()

    def next_request(self) -> Request | None:
        if self.exhausted:
            return None
        return self._took(super().next_request())


class RedisBudgetScheduler(_Budget, RedisScheduler):  # type: ignore[misc]  # untyped base
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = cls.from_settings(crawler.settings)
        scheduler.stats = crawler.stats
        scheduler._set_budget(crawler)
        return scheduler

    def has_pending_requests(self) -> bool:
        return not self.exhausted and len(self) > 0

    def queued(self) -> int:
        """Requests waiting in the shared queue (all processes)."""
        return len(self)

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        if self.exhausted:
            return None
        request: Any = self.queue.pop(self.idle_before_close)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return self._took(request)
