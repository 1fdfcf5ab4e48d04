"""Audit events of the annual reports. A stored value is never reused or renamed.

Registered at import (``report.py`` imports this module), like the helpline's events, so the
reports need no change to the monitor's ``apps.py``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction, register_events


class ReportAuditEvent(models.TextChoices):
    REPORT_REQUESTED = "monitor_report_requested", _("Monitor report requested")
    REPORT_GENERATED = "monitor_report_generated", _("Monitor report generated")
    REPORT_DOWNLOADED = "monitor_report_downloaded", _("Monitor report downloaded")


ACTIONS: dict[str, AuditAction] = {
    ReportAuditEvent.REPORT_REQUESTED: AuditAction.CREATE,
    ReportAuditEvent.REPORT_GENERATED: AuditAction.CREATE,
    ReportAuditEvent.REPORT_DOWNLOADED: AuditAction.EXPORT,
}

register_events(ACTIONS)
