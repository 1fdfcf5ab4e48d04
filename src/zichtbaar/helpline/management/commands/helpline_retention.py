"""Delete helpline transcripts past each organisation's retention period (run daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zichtbaar.helpline.services import transcripts_delete_expired


class Command(BaseCommand):
    help = "Delete chat transcripts older than the organisation's retention; codings stay."

    def handle(self, *args: Any, **options: Any) -> None:
        totals = transcripts_delete_expired()
        self.stdout.write(f"{totals['conversations']} transcripts deleted "
                          f"({totals['messages']} messages); codings kept.")
