"""Websocket URL patterns of every app (Channels calls this "routing").

Each product app that speaks websockets has a ``ws_urls`` module with its own
``websocket_urlpatterns``; they are collected here in INSTALLED_APPS order.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps


def _collect() -> list[Any]:
    patterns: list[Any] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("zichtbaar."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.ws_urls")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.ws_urls":
                raise
            continue
        patterns.extend(module.websocket_urlpatterns)
    return patterns


websocket_urlpatterns: list[Any] = _collect()
