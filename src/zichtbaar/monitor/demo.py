"""Demo: the catalogue, the published Dutch series with their sources, derived indicators, and
the platform's own figures for this year from the other parts' demo data."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from . import services


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    services.current_catalogue()
    loaded = services.reference_values_load()
    progress(f"monitor: {loaded.created} reference values ({loaded.unchanged} already there)")
    computed = services.values_compute(timezone.localdate().year)
    derived = services.values_derive()
    progress(f"monitor: {computed.created} computed, {derived.created} derived values")
    return []
