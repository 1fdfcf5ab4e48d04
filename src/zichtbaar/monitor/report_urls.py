"""Monitor report pages (included by `monitor.urls`, namespace `monitor`)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
