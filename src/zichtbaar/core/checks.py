"""Deployment checks of our own (``zichtbaar check --deploy``; ``zichtbaar serve`` runs them).

Production needs its real parts: PostgreSQL, because SQLite serialises every write and cannot
be shared by several servers, and Redis, because the in-process cache and channel layer are
private to one process (sign-in throttles, rate limits and helpline events would silently not
be shared). An installation that runs one web process on purpose says so with
``ZICHTBAAR_SINGLE_PROCESS=1``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

SINGLE_PROCESS_HINT = ("Or, for a deliberate installation with one web process, set "
                       "ZICHTBAAR_SINGLE_PROCESS=1.")


@register("zichtbaar", deploy=True)
def production_parts(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if getattr(settings, "SINGLE_PROCESS", False):
        return []
    errors = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(Error(
            "DATABASE_URL is not set: production would run on the SQLite file in the data "
            "folder, which one process at a time can write.",
            hint="Set DATABASE_URL=postgres://user@host:5432/zichtbaar. " + SINGLE_PROCESS_HINT,
            id="zichtbaar.E001"))
    if not settings.REDIS_URL:
        errors.append(Error(
            "REDIS_URL is not set: the cache and the Channels layer would be in-process memory, "
            "not shared between server processes (sign-in throttles, rate limits, chat events).",
            hint="Set REDIS_URL=redis://host:6379/0. " + SINGLE_PROCESS_HINT,
            id="zichtbaar.E002"))
    return errors
