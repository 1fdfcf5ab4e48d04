from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from zichtbaar.accounts.roles import has_capability

from . import navigation as nav_registry


def navigation_items(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return []
    organisation = getattr(user, "organisation", None)
    organisation_type = getattr(organisation, "type", None)
    return [
        {"label": item.label, "url": reverse(item.url_name),
         "current": request.path == reverse(item.url_name)}
        for item in nav_registry.items()
        if has_capability(user, item.capability) and item.shown_to(organisation_type)
    ]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Only the entries this user's roles may use; the views check again on the server."""
    return {"nav_items": navigation_items(request)}
