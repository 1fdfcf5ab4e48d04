"""Monitor dashboard pages (included by `monitor.urls`, namespace `monitor`).

Each audience has its page, its chart images and its CSV tables under its own prefix, so the
access rule of a path is the rule of its prefix: ``public/`` is open, the rest needs
``monitor.view``, and ``organisation/`` is always the user's own organisation.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from . import dashboard_views as views

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("chart/<slug:key>.svg", views.chart_svg, name="chart"),
    path("table/<slug:key>/<int:n>.csv", views.table_csv, name="table"),
    path("public/", views.public_dashboard, name="public_dashboard"),
    path("public/chart/<slug:key>.svg", views.public_chart_svg, name="public_chart"),
    path("public/table/<slug:key>/<int:n>.csv", views.public_table_csv, name="public_table"),
    path("organisation/", views.organisation_detail, name="organisation_detail"),
    path("organisation/chart/<slug:key>.svg", views.organisation_chart_svg,
         name="organisation_chart"),
    path("organisation/table/<slug:key>/<int:n>.csv", views.organisation_table_csv,
         name="organisation_table"),
]
