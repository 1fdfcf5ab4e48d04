"""Two crawler processes sharing one Redis frontier (scrapy-redis) against one loopback site.

Each page must be fetched by one of them, once (the server counts), and each ad stored once.
Redis keys carry a run key unique to the test, so parallel test workers never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from zichtbaar.watch import services
from zichtbaar.watch.crawler.settings import redis_keys
from zichtbaar.watch.models import Ad, CrawlRun

from .crawlsite import Site, crawl_env, site_fixture, watch_crawl  # noqa: F401  # fixture

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def run_key() -> Iterator[str]:
    key = f"test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # fails loudly when the test Redis is not there
    try:
        yield key
    finally:
        for name in client.scan_iter(f"zichtbaar:watch:*:{key}:*"):
            client.delete(name)
        client.close()


def test_two_processes_share_one_frontier_and_fetch_each_page_once(
        site: Site, tmp_path: Path, run_key: str) -> None:
    # A little delay so both processes take part; the source row exists before they start
    # (two processes saving a new source at the same instant would race on its name).
    source_file = site.source_file("voorbeeldsite", tmp_path,
                                   rate={"concurrency": 1, "delay_s": 0.05})
    services.source_save(yaml_text=source_file.read_text())
    env = crawl_env(REDIS_URL=REDIS_URL)
    workers = [watch_crawl(source_file, "--run-key", run_key, env=env, wait=False)
               for _ in range(2)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out + err
        assert "Traceback" not in err, err
        assert f"run key {run_key}" in out

    requested = site.server.requested()
    truth = site.info.ads_in("voorbeeldsite")
    for path in [*truth.values(), *site.info.listing_paths["voorbeeldsite"]]:
        assert requested[path] == 1, path
    for path in [*site.info.hidden_paths.values(), *site.info.offsite_paths]:
        assert requested[path] == 0, path

    assert Ad.objects.count() == len(truth)
    assert set(Ad.objects.values_list("url", flat=True)) == {
        site.info.url(p) for p in truth.values()}
    runs = list(CrawlRun.objects.all())
    assert len(runs) == 2
    assert all(run.status == CrawlRun.Status.FINISHED and run.errors == 0 for run in runs)
    assert sum(run.ads_new for run in runs) == len(truth)
    assert sum(run.pages for run in runs) == len(truth) + len(
        site.info.listing_paths["voorbeeldsite"])

    # The last process out removed the queue; the duplicate filter stays a while, so a late
    # process with the same run key finds everything seen and fetches no page again.
    keys = redis_keys("voorbeeldsite", run_key)
    client = redis.Redis.from_url(REDIS_URL)
    assert not client.exists(keys["queue"]) and not client.exists(keys["workers"])
    assert 0 < client.ttl(keys["dupefilter"]) <= 3600
    late = watch_crawl(source_file, "--run-key", run_key, env=env)
    assert late.returncode == 0, late.stdout + late.stderr
    assert "0 pages" in late.stdout
    assert site.server.requested()["/a/page1.html"] == 1
    client.close()
