"""Crawl ad sources now, in this process (operators; the CLI's ``watch crawl``).

Several sources given at once are crawled side by side in one process (the reactor of a
process runs once).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zichtbaar.watch.services import WatchError


class Command(BaseCommand):
    help = ("Crawl sources (YAML files) politely and store their ads as evidence. Refuses a "
            "source without a legal basis before anything is fetched.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="+", metavar="SOURCE",
                            help="path of a source YAML file")
        parser.add_argument("--max-pages", type=int, default=None,
                            help="fetch at most this many listing and ad pages (per source)")
        parser.add_argument("--redis-url", default=None,
                            help="share the frontier through Redis (default: $REDIS_URL)")
        parser.add_argument("--run-key", default=None,
                            help="join the shared frontier of this run key")

    def handle(self, *args: Any, **options: Any) -> None:
        from zichtbaar.watch.crawler.run import FINISHED_REASONS, crawl_many

        if options["max_pages"] is not None and options["max_pages"] < 1:
            raise CommandError("--max-pages must be at least 1.")

        def progress(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            summaries = crawl_many(options["sources"], max_pages=options["max_pages"],
                                   progress=progress, redis_url=options["redis_url"],
                                   run_key=options["run_key"])
        except WatchError as exc:
            raise CommandError(f"Crawl refused ({exc.code}): {exc.detail or exc.code}") from exc
        for summary in summaries:
            progress(summary.line())
        early = [f"{s.source} ({s.reason})" for s in summaries if s.reason not in FINISHED_REASONS]
        if early:
            raise CommandError(f"Crawl ended early: {', '.join(early)}")
