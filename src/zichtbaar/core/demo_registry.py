"""Demo data: each app may have a ``demo.py`` with ``load(progress) -> list[credential]``,
loaded in one transaction unless the module sets ``ATOMIC = False``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from django.apps import apps
from django.db import transaction


def load_all(progress: Callable[[str], None] = lambda text: None) -> list[dict[str, str]]:
    """Load every app's demo data once (idempotent), in INSTALLED_APPS order."""
    credentials: list[dict[str, str]] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("zichtbaar."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        progress(f"{config.label}")
        if getattr(module, "ATOMIC", True):
            with transaction.atomic():
                credentials.extend(module.load(progress) or [])
        else:
            # The module starts another process that writes (Watch's demo crawl); holding a
            # write transaction here would lock that process out of SQLite.
            credentials.extend(module.load(progress) or [])
    return credentials
