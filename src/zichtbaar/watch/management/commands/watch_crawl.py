"""Crawl one ad source now, in this process (operators; the CLI's ``watch crawl``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zichtbaar.watch.services import WatchError


class Command(BaseCommand):
    help = ("Crawl one source (a YAML file) politely and store its ads as evidence. Refuses "
            "a source without a legal basis.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="path of the source YAML file")
        parser.add_argument("--max-pages", type=int, default=None,
                            help="fetch at most this many listing and ad pages")
        parser.add_argument("--redis-url", default=None,
                            help="share the frontier through Redis (default: $REDIS_URL)")
        parser.add_argument("--run-key", default=None,
                            help="join the shared frontier of this run key")

    def handle(self, *args: Any, **options: Any) -> None:
        from zichtbaar.watch.crawler.run import crawl

        if options["max_pages"] is not None and options["max_pages"] < 1:
            raise CommandError("--max-pages must be at least 1.")

        def progress(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            summary = crawl(options["source"], max_pages=options["max_pages"],
                            progress=progress, redis_url=options["redis_url"],
                            run_key=options["run_key"])
        except WatchError as exc:
            raise CommandError(f"Crawl refused ({exc.code}): {exc.detail or exc.code}") from exc
        if summary.reason not in {"finished", "max_pages", "closespider_pagecount"}:
            raise CommandError(f"Crawl ended early: {summary.reason}")
