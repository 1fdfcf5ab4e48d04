"""Websocket URL patterns of every app (Channels calls this "routing")."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
