"""Sign-in in two steps (password, then authenticator), enrolment, own account, members."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from zichtbaar.audit.events import AuditEvent
from zichtbaar.audit.record import record
from zichtbaar.core.decorators import otp_exempt, public, require_capability

from . import selectors, services
from .access import access_member
from .forms import EnrolForm, SignInForm, TokenForm
from .models import User
from .services import SignInOutcome


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


# The one answer to every refused sign-in: a wrong password, a name that is no account, an
# account waiting out its delay and a throttled client look the same (accounts/throttle.py).
REFUSED_MESSAGE = gettext_lazy(
    "User name or password is incorrect, or there were too many attempts. "
    "Wait a few minutes before you try again."
)


def _renew_session(request: HttpRequest, device: object) -> None:
    """Second factor passed: a new session key (no session fixation), then mark it verified."""
    request.session.cycle_key()
    otp_login(request, device)


@public
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = services.sign_in_attempt(request=request, **form.cleaned_data)
            if result.outcome is SignInOutcome.OK and result.user is not None:
                auth_login(request, result.user)
                target = ("accounts:verify" if services.has_confirmed_totp(result.user)
                          else "accounts:setup")
                response = redirect(target)
                response["Location"] += "?" + urlencode({"next": _next_url(request)})
                return response
            form.add_error(None, REFUSED_MESSAGE)
        status = 400
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next_url(request)},
                  status=status)


@otp_exempt
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not services.has_confirmed_totp(user):
        return redirect("accounts:setup")
    form = TokenForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            outcome, device = services.second_factor_check(user=user,
                                                           token=form.cleaned_data["token"])
            if outcome is SignInOutcome.OK:
                _renew_session(request, device)
                return HttpResponseRedirect(_next_url(request))
            if outcome is SignInOutcome.LOCKED:
                auth_logout(request)
                messages.error(request, REFUSED_MESSAGE)
                return redirect("accounts:login")
            form.add_error("token", _("This code is not valid. Check the time on your phone."))
        status = 400
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)},
                  status=status)


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@otp_exempt
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: scan the QR code, confirm with a code, receive recovery codes."""
    user: User = request.user  # type: ignore[assignment]
    if services.has_confirmed_totp(user) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("accounts:verify")
    device = services.totp_device_pending(user=user)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and services.totp_device_confirm(
            user=user, device=device, token=form.cleaned_data["token"]
        ):
            _renew_session(request, device)
            codes = services.recovery_codes_create(user=user)
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        if form.is_valid():
            form.add_error("token", _("This code is not valid. Check the time on your phone."))
        status = 400
    secret = base64.b32encode(bytes(device.bin_key)).decode()
    return render(request, "accounts/setup.html", {
        "form": form, "qr": _qr_data_uri(device.config_url),
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
    }, status=status)


@otp_exempt
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    record(AuditEvent.LOGOUT, actor=request.user, object_type="user",
           object_id=request.user.pk)
    auth_logout(request)
    return redirect("accounts:login")


@require_capability("account.manage_own")
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST" and request.POST.get("action") == "recovery_codes":
        codes = services.recovery_codes_create(user=user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes})
    from django_otp.plugins.otp_static.models import StaticToken

    remaining = StaticToken.objects.filter(device__user=user).count()
    return render(request, "accounts/security.html", {"remaining_codes": remaining})


@require_capability("organisation.members.view")
def members(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/members.html",
                  {"members": selectors.members_of_organisation(request.user)})  # type: ignore[arg-type]


@require_capability("organisation.members.view")
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = access_member(request.user, pk, purpose=_("organisation administration"))  # type: ignore[arg-type]
    return render(request, "accounts/member_detail.html", {"member": member})
