"""Audit event names and their labels. A stored value is never reused or renamed.

The trail stores codes (``hub_signal_viewed``); people read labels. Each app's event enum is a
``TextChoices`` whose members carry a translatable label, and ``register_events`` keeps that
label, so the audit pages show "Signaal bekeken" without knowing the apps.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


# Code -> label of every registered event; the first label registered for a code wins.
EVENT_LABELS: dict[str, str | Promise] = {str(event): event.label for event in AuditEvent}

# What an entry's ``object_type`` names, for the "Record" column and filter. A context of
# their own, so these words never override an app's translation of the same English word.
OBJECT_TYPE_LABELS: dict[str, str | Promise] = {
    "user": pgettext_lazy("audit record type", "User"),
    "estimate_run": pgettext_lazy("audit record type", "Estimate run"),
    "helpline_chat": pgettext_lazy("audit record type", "Chat"),
    "helpline_queue": pgettext_lazy("audit record type", "Chat queue"),
    "helpline_referral": pgettext_lazy("audit record type", "Referral"),
    "helpline_settings": pgettext_lazy("audit record type", "Helpline settings"),
    "helpline_stats": pgettext_lazy("audit record type", "Helpline statistics"),
    "hub_agreement": pgettext_lazy("audit record type", "Sharing agreement"),
    "hub_api_token": pgettext_lazy("audit record type", "API token"),
    "hub_attachment": pgettext_lazy("audit record type", "Attachment"),
    "hub_capture_histories": pgettext_lazy("audit record type", "Capture histories"),
    "hub_codebook": pgettext_lazy("audit record type", "Codebook"),
    "hub_duplicate": pgettext_lazy("audit record type", "Duplicate candidate"),
    "hub_erasure": pgettext_lazy("audit record type", "Erasure request"),
    "hub_handover": pgettext_lazy("audit record type", "Handover"),
    "hub_person": pgettext_lazy("audit record type", "Person"),
    "hub_retention": pgettext_lazy("audit record type", "Retention"),
    "hub_routing_rules": pgettext_lazy("audit record type", "Routing rules"),
    "hub_signal": pgettext_lazy("audit record type", "Signal"),
    "monitor_catalogue": pgettext_lazy("audit record type", "Indicator catalogue"),
    "monitor_chart": pgettext_lazy("audit record type", "Monitor chart"),
    "monitor_dashboard": pgettext_lazy("audit record type", "Monitor dashboard"),
    "monitor_reference": pgettext_lazy("audit record type", "Reference values"),
    "monitor_report": pgettext_lazy("audit record type", "Monitor report"),
    "monitor_table": pgettext_lazy("audit record type", "Monitor table"),
    "monitor_value": pgettext_lazy("audit record type", "Indicator value"),
    "monitor_values": pgettext_lazy("audit record type", "Indicator values"),
    "watch_ad": pgettext_lazy("audit record type", "Ad"),
    "watch_ads": pgettext_lazy("audit record type", "Ads"),
    "watch_cluster": pgettext_lazy("audit record type", "Ad cluster"),
    "watch_clusters": pgettext_lazy("audit record type", "Ad clusters"),
    "watch_crawl_run": pgettext_lazy("audit record type", "Crawl"),
    "watch_decoy": pgettext_lazy("audit record type", "Decoy profile"),
    "watch_indicator_report": pgettext_lazy("audit record type", "Indicator report"),
    "watch_lexicon": pgettext_lazy("audit record type", "Indicator lexicon"),
    "watch_queue": pgettext_lazy("audit record type", "Analyst queue"),
    "watch_retention": pgettext_lazy("audit record type", "Watch retention"),
    "watch_source": pgettext_lazy("audit record type", "Ad source"),
}


def register_events(actions: Mapping[str, AuditAction]) -> None:
    """Product apps add their events here (their enums live in their own events.py).

    Keys are the apps' ``TextChoices`` members, so their labels come along.
    """
    for name, action in actions.items():
        if ACTION_OF.get(name, action) != action:
            raise ValueError(f"Audit event {name!r} already registered with another action.")
        ACTION_OF[name] = action
        label = getattr(name, "label", None)
        if label is not None:
            EVENT_LABELS.setdefault(str(name), label)


def event_label(code: str) -> str:
    """The reader's-language label of an event code; an unknown code is shown as it is."""
    label = EVENT_LABELS.get(code)
    return str(label) if label is not None else code


def object_type_label(code: str) -> str:
    label = OBJECT_TYPE_LABELS.get(code)
    return str(label) if label is not None else code


def event_choices() -> list[tuple[str, str]]:
    """Every registered event as a filter choice, sorted by label in the reader's language."""
    return sorted(((code, str(label)) for code, label in EVENT_LABELS.items()),
                  key=lambda choice: choice[1].casefold())


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(((code, str(label)) for code, label in OBJECT_TYPE_LABELS.items()),
                  key=lambda choice: choice[1].casefold())


def role_labels(stored: str) -> str:
    """"admin,auditor" as "Beheerder, Auditor": the stored role codes as their labels."""
    from zichtbaar.accounts.roles import Role

    names = dict(Role.choices)
    return ", ".join(str(names.get(code, code)) for code in stored.split(",") if code)
