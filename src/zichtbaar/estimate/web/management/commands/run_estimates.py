"""Process queued estimate runs: for a separate worker, or after a restart left runs behind."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zichtbaar.estimate.web import services


class Command(BaseCommand):
    help = "Run queued estimates (oldest first); with --loop keep polling for new ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true",
                            help="keep running and poll the queue")
        parser.add_argument("--interval", type=float, default=2.0,
                            help="seconds between polls with --loop (default 2)")
        parser.add_argument("--limit", type=int, default=None,
                            help="stop after this many runs")
        parser.add_argument("--requeue-after", type=int, default=60, metavar="MINUTES",
                            help="put runs back in the queue that have been 'running' this "
                                 "long (their worker died); 0 disables (default 60)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requeue_after"] > 0:
            stale = services.runs_requeue_stale(
                older_than=timedelta(minutes=options["requeue_after"]))
            if stale:
                self.stdout.write(f"requeued {stale} stale run(s)")
        total = 0
        while True:
            limit = None if options["limit"] is None else options["limit"] - total
            total += services.runs_process_queued(limit=limit)
            if not options["loop"] or (options["limit"] is not None
                                       and total >= options["limit"]):
                break
            time.sleep(options["interval"])
        self.stdout.write(f"processed {total} run(s)")
