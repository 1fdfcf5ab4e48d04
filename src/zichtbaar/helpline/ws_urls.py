"""Websocket routes of the helpline (Channels' "routing")."""

from __future__ import annotations

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/helpline/visitor/<slug:slug>/", consumers.VisitorConsumer.as_asgi()),
    path("ws/helpline/staff/", consumers.StaffConsumer.as_asgi()),
]
