from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zichtbaar.watch import services


class Command(BaseCommand):
    help = "Delete ads and evidence snapshots past their source's retention (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = services.retention_run()
        self.stdout.write(f"Watch retention: {report.ads} ads, {report.snapshots} snapshots "
                          "deleted; their hashes stay in the audit trail.\n")
