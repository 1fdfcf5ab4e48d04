"""Monitor export pages (included by `monitor.urls`, namespace `monitor`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import export_views

urlpatterns: list[URLPattern] = [
    path("", export_views.exports_page, name="exports"),
    path("download/", export_views.export_download, name="export_download"),
    path("api/tables/", export_views.api_tables, name="export_api_tables"),
    path("api/tables/<str:key>/", export_views.api_table, name="export_api_table"),
]
