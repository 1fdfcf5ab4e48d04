"""Delete closed hub signals past their desk's retention period (schedule daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zichtbaar.hub.rights import retention_apply


class Command(BaseCommand):
    help = ("Delete closed signals (with their persons, attachments, handovers and linkage "
            "keys) whose retention period has ended; the audit trail keeps the handovers.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would be deleted; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention_apply(dry_run=options["dry_run"])
        verb = "would be deleted" if report.dry_run else "deleted"
        s = report.signals
        self.stdout.write(
            f"signals {verb}: {report.total} (closed without handover {s['closed_no_action']}, "
            f"closed after handover {s['closed_handed_over']}, merged {s['merged']})\n"
            f"persons: {report.persons}; attachments: {report.attachments}; "
            f"handovers: {report.handovers}; linkage keys: {report.linkage_keys}\n"
            f"held (a partner has not reported an outcome yet): {report.held}")
