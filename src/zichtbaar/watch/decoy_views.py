"""Decoy pages for the organisation's admins and supervisors, and the gateway's webhook.

The webhook is public (the gateway has no session) and CSRF-exempt; the per-decoy HMAC
signature over the raw body is its authentication. Every refusal is a 4xx JSON answer with a
code and a sentence, and stores nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from zichtbaar.core.decorators import public, require_capability
from zichtbaar.hub.ratelimit import count_in_window

from . import decoys as decoy_services
from .decoy_forms import DecoyForm
from .decoys import access_decoy, may_manage_decoys
from .models import Decoy

MAX_BODY_BYTES = 16 * 1024
MAX_ID_LENGTH = 200
SIGNATURE_HEADER = "X-Zichtbaar-Signature"
DEFAULT_RATE_LIMIT = (60, 60)  # deliveries per decoy, window in seconds
MONTHS_SHOWN = 6

WEBHOOK_ERRORS: dict[str, tuple[int, Any]] = {
    "method_not_allowed": (405, gettext_lazy("Send messages with POST.")),
    "too_large": (413, gettext_lazy("The request is too large (at most 16 KB).")),
    "unknown_decoy": (404, gettext_lazy("There is no active decoy at this address.")),
    "signature_missing": (401, gettext_lazy(
        "The header X-Zichtbaar-Signature is missing; sign the body with the decoy's "
        "secret.")),
    "signature_invalid": (401, gettext_lazy(
        "The signature does not match the body; check the decoy's current secret.")),
    "rate_limited": (429, gettext_lazy(
        "Too many messages for this decoy; try again in a minute.")),
    "malformed_json": (400, gettext_lazy("The body is not valid JSON in UTF-8.")),
    "invalid_payload": (400, gettext_lazy("The body must be a JSON object.")),
    "missing_field": (400, gettext_lazy("The field %(field)s is missing.")),
    "invalid_field": (400, gettext_lazy("The field %(field)s is not valid: %(why)s")),
}


# --- webhook --------------------------------------------------------------------------------

def _refuse(code: str, **values: str) -> JsonResponse:
    status, message = WEBHOOK_ERRORS[code]
    text = str(message) % values if values else str(message)
    response = JsonResponse({"error": code, "message": text}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    if code == "method_not_allowed":
        response["Allow"] = "POST"
    return response


def _rate_allowed(decoy_pk: int) -> bool:
    """Count one delivery for the decoy in the current window (cache only, nothing stored)."""
    limit, window = getattr(settings, "WATCH_DECOY_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    index = int(time.time() // window)
    return count_in_window(f"watch-decoy-rl:{decoy_pk}:{index}", limit=limit, window=window)


def _text_field(payload: dict[str, Any], name: str, *, max_length: int,
                allow_empty: bool = False) -> str | JsonResponse:
    if name not in payload:
        return _refuse("missing_field", field=name)
    value = payload[name]
    if not isinstance(value, str):
        return _refuse("invalid_field", field=name, why=_("it must be a text."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") is valid JSON, not valid text
        return _refuse("invalid_field", field=name, why=_("it must be a text."))
    if not allow_empty and not value.strip():
        return _refuse("invalid_field", field=name, why=_("it must not be empty."))
    if len(value) > max_length:
        return _refuse("invalid_field", field=name,
                       why=_("it is longer than %(n)d characters.") % {"n": max_length})
    return value


def _parse(body: bytes) -> dict[str, Any] | JsonResponse:
    """The payload's shape: message_id, sender, text, and optional sent_at and language."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _refuse("malformed_json")
    if not isinstance(payload, dict):
        return _refuse("invalid_payload")
    values: dict[str, Any] = {}
    for name, limit, empty in (("message_id", MAX_ID_LENGTH, False),
                               ("sender", MAX_ID_LENGTH, False),
                               ("text", MAX_BODY_BYTES, True)):
        value = _text_field(payload, name, max_length=limit, allow_empty=empty)
        if isinstance(value, JsonResponse):
            return value
        values[name] = value
    sent_at = payload.get("sent_at")
    if sent_at is not None:  # checked for shape only: arrival time is what is counted
        try:
            if not isinstance(sent_at, str):
                raise ValueError
            dt.datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
        except ValueError:
            return _refuse("invalid_field", field="sent_at",
                           why=_("it must be a date and time in ISO 8601."))
    language = payload.get("language", "nl")
    if language not in decoy_services.LANGUAGES:
        return _refuse("invalid_field", field="language", why=_("use nl or en."))
    values["language"] = language
    return values


@public
@csrf_exempt
def decoy_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    """The gateway posts one message; the answer carries the reply it sends back."""
    if request.method != "POST":
        return _refuse("method_not_allowed")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _refuse("too_large")
    try:
        body = request.body
    except RequestDataTooBig:
        return _refuse("too_large")
    if len(body) > MAX_BODY_BYTES:
        return _refuse("too_large")
    decoy = Decoy.objects.filter(pk=pk, active=True).first()
    if decoy is None:
        return _refuse("unknown_decoy")
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not header:
        return _refuse("signature_missing")
    if not decoy_services.signature_valid(decoy.secret, body, header):
        return _refuse("signature_invalid")
    # Counted only for signed deliveries, so a stranger cannot exhaust a decoy's allowance.
    if not _rate_allowed(decoy.pk):
        response = _refuse("rate_limited")
        response["Retry-After"] = "60"
        return response
    parsed = _parse(body)
    if isinstance(parsed, JsonResponse):
        return parsed
    reply = decoy_services.decoy_contact_receive(
        decoy=decoy, sender=parsed["sender"], message_id=parsed["message_id"],
        text=parsed["text"], language=parsed["language"])
    return JsonResponse({"reply": reply.text, "template": reply.template_id,
                         "language": reply.language, "duplicate": reply.replayed},
                        json_dumps_params={"ensure_ascii": False})


# --- admin pages ----------------------------------------------------------------------------

def _require_watch_organisation(request: HttpRequest) -> None:
    """Admins of other organisation types hold the capability but run no decoys."""
    if not may_manage_decoys(request.user):
        raise PermissionDenied


def _detail(request: HttpRequest, decoy: Decoy, *, form: DecoyForm | None = None,
            secret: str | None = None, status: int = 200) -> HttpResponse:
    today = timezone.localdate()
    start = decoy_services.months_back(today, 12)
    context = {
        "decoy": decoy,
        "form": form or DecoyForm.for_decoy(decoy),
        "secret": secret,
        "webhook_url": request.build_absolute_uri(reverse("watch:decoy_webhook",
                                                          args=[decoy.pk])),
        "signature_header": SIGNATURE_HEADER,
        "counts": list(reversed(decoy_services.decoy_counts(decoy=decoy, start=start,
                                                            end=today))),
    }
    return render(request, "watch/decoy_detail.html", context, status=status)


@require_capability("watch.decoys.manage")
def decoys(request: HttpRequest) -> HttpResponse:
    _require_watch_organisation(request)
    user = request.user
    today = timezone.localdate()
    rows = decoy_services.decoy_month_table(list(decoy_services.decoys_of(user)), today=today,
                                            months=MONTHS_SHOWN)
    totals = list(reversed(decoy_services.decoy_counts(
        organisation=user.organisation,  # type: ignore[union-attr]
        start=decoy_services.months_back(today, MONTHS_SHOWN), end=today)))
    return render(request, "watch/decoys.html",
                  {"rows": rows, "totals": totals, "months": [t["period"] for t in totals]})


@require_capability("watch.decoys.manage")
@require_http_methods(["GET", "POST"])
def decoy_new(request: HttpRequest) -> HttpResponse:
    _require_watch_organisation(request)
    form = DecoyForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            decoy, secret = decoy_services.decoy_create(
                actor=request.user, organisation=request.user.organisation,  # type: ignore[union-attr]
                **form.to_values())
            messages.success(request, _("Decoy profile saved."))
            # Shown on this response only: the secret is never displayed again.
            return _detail(request, decoy, secret=secret, status=201)
        return render(request, "watch/decoy_new.html", {"form": form}, status=400)
    return render(request, "watch/decoy_new.html", {"form": form})


@require_capability("watch.decoys.manage")
@require_http_methods(["GET", "POST"])
def decoy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decoy = access_decoy(request.user, pk)
    if request.method == "POST":
        form = DecoyForm.for_decoy(decoy, request.POST)
        if form.is_valid():
            decoy_services.decoy_update(actor=request.user, decoy=decoy, **form.to_values())
            messages.success(request, _("Decoy profile saved."))
            return redirect("watch:decoy_detail", decoy.pk)
        return _detail(request, decoy, form=form, status=400)
    return _detail(request, decoy)


@require_capability("watch.decoys.manage")
@require_POST
def decoy_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    decoy = access_decoy(request.user, pk)
    secret = decoy_services.decoy_rotate_secret(actor=request.user, decoy=decoy)
    messages.success(request, _("New secret created; the old one no longer works."))
    return _detail(request, decoy, secret=secret)
