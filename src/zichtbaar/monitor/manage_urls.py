"""Monitor data keeping: catalogue editor, values entered by hand, revision history."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import manage_views as views

urlpatterns: list[URLPattern] = [
    path("catalogue/", views.catalogue_edit, name="catalogue"),
    path("values/", views.values_enter, name="values"),
    path("values/<int:pk>/", views.value_history, name="value_history"),
]
