"""Closes every staff page to anyone without a password login *and* a confirmed second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


def _sign_in_again(request: HttpRequest, target: str) -> HttpResponse:
    """Redirect to the sign-in (or code) step and come back to the page afterwards.

    An htmx request (a live region refreshing itself) would otherwise swap the sign-in
    form into the region, or, with ``hx-select``, quietly empty it: it gets ``HX-Redirect``
    to the page it came from instead, so the whole page goes to the sign-in.
    """
    next_path = request.get_full_path()
    htmx = request.headers.get("HX-Request") == "true"
    if htmx:
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if current.path.startswith("/") and not current.path.startswith("//"):
            next_path = current.path + (f"?{current.query}" if current.query else "")
    url = f"{reverse(target)}?{urlencode({'next': next_path})}"
    if htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


class StaffAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view_func, "zichtbaar_public", False):
            return None
        user = request.user
        if not user.is_authenticated:
            return _sign_in_again(request, "accounts:login")
        if getattr(view_func, "zichtbaar_otp_exempt", False):
            return None
        if not user.is_verified():  # type: ignore[union-attr]
            from .services import has_confirmed_totp

            target = "accounts:verify" if has_confirmed_totp(user) else "accounts:setup"
            return _sign_in_again(request, target)
        return None
