"""Watch on the platform path: a Dutch day (10,000 ads) stored through the watch services
(extraction, indicators, encryption, evidence snapshot, audit entry per snapshot) and linked
through ``services.link_pending`` (state in the database, cluster scores, templates), next to
the library-only path (extract + indicators + Linker) on the same ads in the same run.

``python bench/watch_platform.py [--ads 10000] [--store-batch 500]``: pages are stored
with ``ad_pages_store`` in batches per source (``--store-batch 1``: ``ad_page_store`` per
page, one transaction each, as the Scrapy pipeline stores them today). Uses a fresh SQLite
database in a temporary data folder unless ``BENCH_DATABASE_URL`` is set. Prints figures
(wall clock and this process's CPU time: a shared machine inflates the first); asserts
nothing. Page fetching is not included: on loopback it is measured by the crawl tests, and on
real sites the polite delay sets it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=10_000)
    parser.add_argument("--store-batch", type=int, default=500,
                        help="pages per ad_pages_store call; 1 = ad_page_store per page")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="zb-bench-watch-")
    os.environ["ZICHTBAAR_DATA_DIR"] = folder
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zichtbaar.project.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from zichtbaar.ads import synth
    from zichtbaar.ads.extract import extract
    from zichtbaar.ads.indicators import indicator_hits
    from zichtbaar.ads.lexicon import load_lexicon
    from zichtbaar.ads.linking import AdRecord, Linker
    from zichtbaar.watch import services

    call_command("migrate", "--no-input", "-v", "0")
    networks, independents = synth.plan(args.ads)
    ads = synth.generate(networks=networks, independents=independents, seed=10)[:args.ads]
    print(f"{len(ads)} synthetic ads ({networks} networks, {independents} independents)")

    started = time.perf_counter()
    lexicon = load_lexicon()
    records = []
    for ad in ads:
        extraction = extract(ad.text)
        indicator_hits(ad.text, extraction, lexicon)
        records.append(AdRecord(ad.ad_id, ad.text, extraction.phones, extraction.emails,
                                extraction.handles, (), ad.city, ad.posted, ad.site))
    Linker().add(records)
    library = time.perf_counter() - started
    print(f"library only (extract + indicators + link): {library:.1f} s, "
          f"{len(ads) / library:,.0f} ads/s")

    yaml_text = """name: {site}
start_urls: ["http://127.0.0.1:9/"]
allowed_domains: ["127.0.0.1"]
listing: {{ad_links: "a::attr(href)"}}
ad: {{text: "#description ::text"}}
legal_basis: "bench"
"""
    started, cpu_started = time.perf_counter(), time.process_time()
    runs = {}
    for site in sorted({ad.site for ad in ads}):
        source = services.source_save(yaml_text=yaml_text.format(site=site))
        runs[site] = services.crawl_run_start(source=source)
    now = timezone.now()
    pending: dict[str, list] = {site: [] for site in runs}

    def flush(site: str) -> None:
        if args.store_batch == 1:
            for page in pending[site]:
                services.ad_page_store(run=runs[site], page=page)
        else:
            services.ad_pages_store(run=runs[site], pages=pending[site])
        pending[site] = []

    for ad in ads:
        body = f"<html><div id='description'>{ad.text}</div></html>".encode()
        pending[ad.site].append(services.AdPage(
            url=f"http://127.0.0.1:9/{ad.site}/{ad.ad_id}", status=200, body=body,
            fetched_at=now, text=ad.text, title=ad.title, posted=ad.posted))
        if len(pending[ad.site]) >= args.store_batch:
            flush(ad.site)
    for site in runs:
        flush(site)
    stored, cpu_stored = time.perf_counter() - started, time.process_time() - cpu_started
    report = services.link_pending()
    total, cpu_total = time.perf_counter() - started, time.process_time() - cpu_started
    how = ("ad_page_store, one transaction per page" if args.store_batch == 1 else
           f"ad_pages_store, {args.store_batch} pages per transaction")
    print(f"platform store ({how}; coding, encryption, snapshot, audit entry per snapshot): "
          f"{stored:.1f} s ({cpu_stored:.1f} s CPU), {len(ads) / stored:,.0f} ads/s")
    print(f"platform link_pending: {report.seconds:.1f} s ({cpu_total - cpu_stored:.1f} s CPU; "
          f"{report.clusters_total} clusters)")
    print(f"platform stored-to-clusters: {total:.1f} s ({cpu_total:.1f} s CPU) for {len(ads)} ads "
          f"(target for 10,000: under 60 s); {total / library:.1f}x the library-only path")


if __name__ == "__main__":
    main()
