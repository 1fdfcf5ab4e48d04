"""Audit event names. A stored value is never reused or renamed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    ACCOUNT_LOCKED = "account_locked", _("Account locked")
    LOGOUT = "logout", _("Signed out")
    OTP_VERIFIED = "otp_verified", _("Second factor verified")
    OTP_FAILED = "otp_failed", _("Second factor failed")
    OTP_DEVICE_CONFIRMED = "otp_device_confirmed", _("Authenticator enrolled")
    RECOVERY_CODES_CREATED = "recovery_codes_created", _("Recovery codes created")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    USER_CREATED = "user_created", _("User created")
    USER_VIEWED = "user_viewed", _("User viewed")
    USER_CHANGED = "user_changed", _("User changed")
    AUDIT_SEARCHED = "audit_searched", _("Audit trail searched")
    AUDIT_EXPORTED = "audit_exported", _("Audit trail exported")
    FIELD_KEYS_ROTATED = "field_keys_rotated", _("Field keys rotated")


class AuditAction(models.TextChoices):
    """The kind of access, for filtering: who viewed, created, changed, exported or deleted."""

    VIEW = "view", _("viewed")
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    EXPORT = "export", _("exported")
    DELETE = "delete", _("deleted")
    AUTH = "auth", _("authentication")


ACTION_OF: dict[str, AuditAction] = {
    AuditEvent.LOGIN_SUCCEEDED: AuditAction.AUTH,
    AuditEvent.LOGIN_FAILED: AuditAction.AUTH,
    AuditEvent.ACCOUNT_LOCKED: AuditAction.AUTH,
    AuditEvent.LOGOUT: AuditAction.AUTH,
    AuditEvent.OTP_VERIFIED: AuditAction.AUTH,
    AuditEvent.OTP_FAILED: AuditAction.AUTH,
    AuditEvent.OTP_DEVICE_CONFIRMED: AuditAction.CHANGE,
    AuditEvent.RECOVERY_CODES_CREATED: AuditAction.CREATE,
    AuditEvent.RECOVERY_CODE_USED: AuditAction.AUTH,
    AuditEvent.USER_CREATED: AuditAction.CREATE,
    AuditEvent.USER_VIEWED: AuditAction.VIEW,
    AuditEvent.USER_CHANGED: AuditAction.CHANGE,
    AuditEvent.AUDIT_SEARCHED: AuditAction.VIEW,
    AuditEvent.AUDIT_EXPORTED: AuditAction.EXPORT,
    AuditEvent.FIELD_KEYS_ROTATED: AuditAction.CHANGE,
}


def register_events(actions: dict[str, AuditAction]) -> None:
    """Product apps add their events' actions here (their enums live in their own events.py)."""
    for name, action in actions.items():
        if ACTION_OF.get(name, action) != action:
            raise ValueError(f"Audit event {name!r} already registered with another action.")
        ACTION_OF[name] = action
