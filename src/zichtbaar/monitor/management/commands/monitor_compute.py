from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from zichtbaar.monitor import services


class Command(BaseCommand):
    help = ("Store the platform's indicator values for a year (a new vintage only where a "
            "value changed) and refresh the derived indicators.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=timezone.localdate().year)

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        computed = services.values_compute(year)
        derived = services.values_derive()
        self.stdout.write(f"Monitor {year}: {computed.created} computed values changed, "
                          f"{computed.unchanged} unchanged; {derived.created} derived values "
                          "changed.\n")
