"""Watch test helpers: synthetic ads stored through the crawler's own store service.

RECONSTRUCTED: the original of this file was overwritten by mistake by the crawler session
(2026-12-02 16:20) and rebuilt from how test_queue.py and test_browser.py use it
(``store_synth``, ``watch_org``, ``analyst_client``, ``linked_corpus``). Its owner should
compare it with their version. The crawler tests keep their helpers in ``crawlsite.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.ads.synth import fake_image_hash, generate
from zichtbaar.watch import services
from zichtbaar.watch.models import Ad

SOURCE_YAML = """\
name: {site}
start_urls: ["https://{site}.example/"]
allowed_domains: ["{site}.example"]
listing: {{ad_links: "a.ad::attr(href)"}}
ad: {{text: "#text ::text"}}
legal_basis: "DPIA-2026-03, purpose: signalling of exploitation (tests)"
"""


def store_synth(*, networks: int, independents: int, seed: int,
                fetched_at: dt.datetime | None = None) -> list[Ad]:
    """Synthetic ads stored as the crawler stores them (one run per site)."""
    when = fetched_at or timezone.now()
    runs: dict[str, object] = {}
    stored: list[Ad] = []
    for ad in generate(networks=networks, independents=independents, seed=seed):
        if ad.site not in runs:
            source = services.source_save(yaml_text=SOURCE_YAML.format(site=ad.site))
            runs[ad.site] = services.crawl_run_start(source=source)
        variants = ad.image_variants or (0,) * len(ad.image_seeds)
        page = services.AdPage(
            url=f"https://{ad.site}.example/ad/{ad.ad_id}.html", status=200,
            body=f"<html><h1>{ad.title}</h1><div id=text>{ad.text}</div></html>".encode(),
            fetched_at=when, title=ad.title, text=ad.text, posted=ad.posted,
            image_hashes=tuple(fake_image_hash(s, v) for s, v in zip(ad.image_seeds, variants,
                                                                     strict=False)))
        stored.append(services.ad_page_store(run=runs[ad.site], page=page).ad)  # type: ignore[arg-type]
    return stored


@pytest.fixture
def watch_org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Meldpunt Test", OrganisationType.REPORTING_POINT)


@pytest.fixture
def analyst_client(staff_client: Callable[..., Client], watch_org: Organisation) -> Client:
    return staff_client(Role.ANALYST, watch_org)


@pytest.fixture
def linked_corpus(db: None) -> list[Ad]:
    ads = store_synth(networks=3, independents=6, seed=11)
    services.link_pending()
    return ads
