"""Monitor pages under /monitor/: dashboards, reports and exports, each in its own module."""

from django.urls import include, path

from . import dashboard_urls, export_urls, manage_urls, report_urls

app_name = "monitor"

urlpatterns = [
    path("", include(dashboard_urls.urlpatterns)),
    path("reports/", include(report_urls.urlpatterns)),
    path("exports/", include(export_urls.urlpatterns)),
    path("manage/", include(manage_urls.urlpatterns)),
]
