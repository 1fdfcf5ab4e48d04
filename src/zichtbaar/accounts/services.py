"""Every write about accounts: sign-in with growing delays, 2FA enrolment, users, organisations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from zichtbaar.audit.events import AuditEvent
from zichtbaar.audit.record import record

from . import throttle
from .models import Organisation, RoleGrant, User
from .roles import OrganisationType, Role

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1


class SignInOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True)
class SignInResult:
    outcome: SignInOutcome
    user: User | None = None


def organisation_create(*, name: str, type: OrganisationType, actor: Any = None) -> Organisation:
    return Organisation.objects.create(name=name, type=type, slug=slugify(name)[:64])


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    organisation: Organisation,
    roles: set[Role] | list[Role],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    work_phone: str = "",
    actor: Any = None,
) -> User:
    user = User(username=username, organisation=organisation, first_name=first_name,
                last_name=last_name, email=email, work_phone=work_phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    RoleGrant.objects.bulk_create([RoleGrant(user=user, role=Role(r)) for r in set(roles)])
    record(AuditEvent.USER_CREATED, actor=actor, object_type="user", object_id=user.pk,
           organisation_id=organisation.pk,
           detail={"roles": sorted(str(r) for r in set(roles))})
    return user


def _register_failure(user: User) -> SignInOutcome:
    """One more failure in a row; past the free ones the account waits a growing delay."""
    user.failed_login_count += 1
    delay = throttle.delay_seconds(user.failed_login_count)
    if not delay:
        user.save(update_fields=["failed_login_count"])
        return SignInOutcome.INVALID
    user.locked_until = timezone.now() + timedelta(seconds=delay)
    user.save(update_fields=["failed_login_count", "locked_until"])
    record(AuditEvent.ACCOUNT_LOCKED, actor=None, object_type="user", object_id=user.pk,
           organisation_id=user.organisation_id,
           detail={"seconds": delay, "failures": user.failed_login_count})
    return SignInOutcome.LOCKED


def _reset_failures(user: User) -> None:
    if user.failed_login_count or user.locked_until:
        user.failed_login_count = 0
        user.locked_until = None
        user.save(update_fields=["failed_login_count", "locked_until"])


@transaction.atomic
def sign_in_attempt(*, request: HttpRequest, username: str, password: str) -> SignInResult:
    """Check a password behind the per-account delay and the per-client throttle.

    Every refusal (wrong password, unknown name, account waiting, client throttled) is the
    same outcome, so the answer never tells whether an account exists; see throttle.py.
    """
    if throttle.client_refused(request):
        return SignInResult(SignInOutcome.INVALID)
    user = User.objects.select_for_update().filter(username=username).first()
    waiting = user.is_locked() if user is not None else throttle.name_waiting(username)
    if waiting:
        throttle.client_failed(request)
        return SignInResult(SignInOutcome.INVALID)
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        throttle.client_failed(request)
        if user is None:
            throttle.name_failed(username)
            return SignInResult(SignInOutcome.INVALID)
        record(AuditEvent.LOGIN_FAILED, object_type="user", object_id=user.pk,
               organisation_id=user.organisation_id)
        _register_failure(user)
        return SignInResult(SignInOutcome.INVALID)
    assert isinstance(authenticated, User)
    if not has_confirmed_totp(authenticated):
        # Enrolment follows; with a second factor the count resets only when it is passed,
        # so failed codes keep adding to the delay.
        _reset_failures(authenticated)
    record(AuditEvent.LOGIN_SUCCEEDED, actor=authenticated, object_type="user",
           object_id=authenticated.pk)
    return SignInResult(SignInOutcome.OK, authenticated)


def has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def second_factor_check(*, user: User, token: str) -> tuple[SignInOutcome, Any]:
    """Verify a TOTP code or a one-time recovery code; failures add to the account's delay,
    and LOCKED means a delay has begun (the view then ends the half-signed-in session)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return SignInOutcome.LOCKED, None
    token = "".join(token.split())
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if token.isdigit() and device.verify_token(token):
            _reset_failures(user)
            record(AuditEvent.OTP_VERIFIED, actor=user, object_type="user", object_id=user.pk)
            return SignInOutcome.OK, device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token.lower()):
            _reset_failures(user)
            record(AuditEvent.RECOVERY_CODE_USED, actor=user, object_type="user",
                   object_id=user.pk)
            return SignInOutcome.OK, device
    record(AuditEvent.OTP_FAILED, object_type="user", object_id=user.pk,
           organisation_id=user.organisation_id)
    return _register_failure(user), None


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed device shown during enrolment (re-used until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    token = "".join(token.split())
    if not token.isdigit() or not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(AuditEvent.OTP_DEVICE_CONFIRMED, actor=user, object_type="user", object_id=user.pk)
    return True


@transaction.atomic
def recovery_codes_create(*, user: User) -> list[str]:
    """Replace the user's recovery codes; each is shown once and works once.

    django-otp keeps tokens in a 16-character column, so a code is 3 × 4 characters from a
    31-letter alphabet without look-alikes (about 59 bits), e.g. ``k7mq-x2pa-9dfe``.
    """
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = ["-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4))
                      for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    record(AuditEvent.RECOVERY_CODES_CREATED, actor=user, object_type="user", object_id=user.pk)
    return codes


@transaction.atomic
def totp_device_create_confirmed(*, user: User, key_hex: str | None = None) -> TOTPDevice:
    """Pre-enrol an authenticator (demo users and administrators created from the CLI)."""
    TOTPDevice.objects.filter(user=user).delete()
    kwargs: dict[str, Any] = {"user": user, "name": "authenticator", "confirmed": True}
    if key_hex:
        kwargs["key"] = key_hex
    device = TOTPDevice.objects.create(**kwargs)
    record(AuditEvent.OTP_DEVICE_CONFIRMED, actor=None, object_type="user", object_id=user.pk,
           organisation_id=user.organisation_id)
    return device
