"""Decoy paths; included by ``watch/urls.py`` under ``watch/`` in the ``watch`` namespace."""

from django.urls import path

from . import decoy_views

urlpatterns = [
    path("decoys/", decoy_views.decoys, name="decoys"),
    path("decoys/new/", decoy_views.decoy_new, name="decoy_new"),
    path("decoys/<int:pk>/", decoy_views.decoy_detail, name="decoy_detail"),
    path("decoys/<int:pk>/rotate/", decoy_views.decoy_rotate, name="decoy_rotate"),
    path("decoys/<int:pk>/webhook", decoy_views.decoy_webhook, name="decoy_webhook"),
]
