"""Every write about accounts: sign-in with lock-out, 2FA enrolment, users and organisations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from zichtbaar.audit.events import AuditEvent
from zichtbaar.audit.record import record

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
    user.failed_login_count += 1
    fields = ["failed_login_count"]
    if user.failed_login_count >= settings.LOCKOUT_FAILURES:
        user.locked_until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
        user.failed_login_count = 0
        fields.append("locked_until")
        user.save(update_fields=fields)
        record(AuditEvent.ACCOUNT_LOCKED, actor=None, object_type="user", object_id=user.pk,
               organisation_id=user.organisation_id,
               detail={"minutes": settings.LOCKOUT_MINUTES})
        return SignInOutcome.LOCKED
    user.save(update_fields=fields)
    return SignInOutcome.INVALID


@transaction.atomic
def sign_in_attempt(*, request: HttpRequest, username: str, password: str) -> SignInResult:
    """Check a password, counting failures per account; locked accounts are refused outright.

    Failures are counted per account, not per address: we do not store addresses.
    """
    user = User.objects.select_for_update().filter(username=username).first()
    if user is not None and user.is_locked():
        return SignInResult(SignInOutcome.LOCKED)
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        if user is None:
            return SignInResult(SignInOutcome.INVALID)
        record(AuditEvent.LOGIN_FAILED, object_type="user", object_id=user.pk,
               organisation_id=user.organisation_id)
        return SignInResult(_register_failure(user))
    assert isinstance(authenticated, User)
    authenticated.failed_login_count = 0
    authenticated.locked_until = None
    authenticated.save(update_fields=["failed_login_count", "locked_until"])
    record(AuditEvent.LOGIN_SUCCEEDED, actor=authenticated, object_type="user",
           object_id=authenticated.pk)
    return SignInResult(SignInOutcome.OK, authenticated)


def has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def second_factor_check(*, user: User, token: str) -> tuple[SignInOutcome, Any]:
    """Verify a TOTP code or a one-time recovery code; failures count toward the lock-out."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return SignInOutcome.LOCKED, None
    token = "".join(token.split())
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if token.isdigit() and device.verify_token(token):
            user.failed_login_count = 0
            user.save(update_fields=["failed_login_count"])
            record(AuditEvent.OTP_VERIFIED, actor=user, object_type="user", object_id=user.pk)
            return SignInOutcome.OK, device
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token.lower()):
            user.failed_login_count = 0
            user.save(update_fields=["failed_login_count"])
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
