from django.urls import include, path

from . import views

app_name = "watch"

urlpatterns = [
    path("watch/", views.queue, name="queue"),
    path("watch/clusters/<int:pk>/", views.cluster_detail, name="cluster"),
    path("watch/clusters/<int:pk>/images/", views.cluster_images, name="cluster_images"),
    path("watch/clusters/<int:pk>/label/", views.cluster_label, name="cluster_label"),
    path("watch/clusters/<int:pk>/handover/", views.cluster_handover, name="cluster_handover"),
    path("watch/clusters/<int:pk>/timeline.svg", views.cluster_timeline_svg,
         name="cluster_timeline_svg"),
    path("watch/report/indicators/", views.indicator_report, name="indicator_report"),
    path("watch/sources/", views.sources, name="sources"),
    path("watch/lexicon/", views.lexicon_edit, name="lexicon"),
    path("watch/export.csv", views.export_csv, name="export"),
    path("watch/", include("zichtbaar.watch.decoy_urls")),
]
