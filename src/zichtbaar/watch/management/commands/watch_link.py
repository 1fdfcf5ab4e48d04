from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zichtbaar.watch import services


class Command(BaseCommand):
    help = "Link new and changed ads into clusters (incremental)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.link_pending(progress=lambda t: self.stdout.write(t + "\n"))
        self.stdout.write(services.link_summary(report) + "\n")
