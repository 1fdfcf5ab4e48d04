"""View markers. Every view needs a verified (2FA) staff login unless it says otherwise here.

Secure by default: ``StaffAccessMiddleware`` reads these markers, so a view that forgets a
decorator is closed rather than open.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

V = TypeVar("V", bound=Callable[..., Any])


def public[F: Callable[..., Any]](view: F) -> F:
    """Open to anyone, signed in or not (visitor chat, public report form, health)."""
    view.zichtbaar_public = True  # type: ignore[attr-defined]  # marker read by middleware
    return view


def otp_exempt[F: Callable[..., Any]](view: F) -> F:
    """Needs a password login but not yet a second factor (the 2FA steps themselves)."""
    view.zichtbaar_otp_exempt = True  # type: ignore[attr-defined]  # marker read by middleware
    return view


def require_capability(capability: str) -> Callable[[V], V]:
    """Refuse with 403 unless the signed-in user's roles grant ``capability``."""
    from zichtbaar.accounts.roles import has_capability, roles_for

    roles_for(capability)  # fail at import time on a misspelt capability

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_capability(request.user, capability):  # type: ignore[arg-type]
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.zichtbaar_capability = capability  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
