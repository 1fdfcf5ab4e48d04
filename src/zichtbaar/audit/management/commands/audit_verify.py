"""Verify the audit chain; exits non-zero when anything was tampered with."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from zichtbaar.audit.models import AuditEntry
from zichtbaar.audit.verify import chain_problems


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail."

    def handle(self, *args: Any, **options: Any) -> None:
        total = AuditEntry.objects.count()
        problems = list(chain_problems())
        for problem in problems:
            self.stderr.write(f"entry {problem.seq}: {problem.reason}")
        if problems:
            self.stderr.write(self.style.ERROR(f"Audit chain BROKEN: {len(problems)} problem(s)."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {total} entries verified."))
