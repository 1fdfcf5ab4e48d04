"""Monitor report pages (included by `monitor.urls`, namespace `monitor`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import report_views as views

urlpatterns: list[URLPattern] = [
    path("", views.report_index, name="reports"),
    path("<str:job_id>/", views.report_status, name="report_status"),
    path("<str:job_id>/progress/", views.report_progress, name="report_progress"),
    path("<str:job_id>/download/", views.report_download, name="report_download"),
]
