"""Audit events of the monitor. A stored value is never reused or renamed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction


class MonitorAuditEvent(models.TextChoices):
    CATALOGUE_CREATED = "monitor_catalogue_created", _("Indicator catalogue version created")
    VALUE_ENTERED = "monitor_value_entered", _("Indicator value entered")
    VALUE_REVISED = "monitor_value_revised", _("Indicator value revised")
    REFERENCE_LOADED = "monitor_reference_loaded", _("Reference values loaded")
    VALUES_COMPUTED = "monitor_values_computed", _("Indicator values computed")
    VALUES_DERIVED = "monitor_values_derived", _("Derived indicator values computed")
    DASHBOARD_VIEWED = "monitor_dashboard_viewed", _("National monitor dashboard viewed")
    PUBLIC_DASHBOARD_VIEWED = "monitor_public_dashboard_viewed", _("Public monitor viewed")
    ORGANISATION_DETAIL_VIEWED = ("monitor_organisation_detail_viewed",
                                  _("Own organisation's monitor figures viewed"))
    ORGANISATION_CHART_VIEWED = ("monitor_organisation_chart_viewed",
                                 _("Chart of own organisation's monitor figures viewed"))
    TABLE_EXPORTED = "monitor_table_exported", _("Monitor table downloaded as CSV")


ACTIONS: dict[str, AuditAction] = {
    MonitorAuditEvent.CATALOGUE_CREATED: AuditAction.CREATE,
    MonitorAuditEvent.VALUE_ENTERED: AuditAction.CREATE,
    MonitorAuditEvent.VALUE_REVISED: AuditAction.CHANGE,
    MonitorAuditEvent.REFERENCE_LOADED: AuditAction.CREATE,
    MonitorAuditEvent.VALUES_COMPUTED: AuditAction.CREATE,
    MonitorAuditEvent.VALUES_DERIVED: AuditAction.CREATE,
    MonitorAuditEvent.DASHBOARD_VIEWED: AuditAction.VIEW,
    MonitorAuditEvent.PUBLIC_DASHBOARD_VIEWED: AuditAction.VIEW,
    MonitorAuditEvent.ORGANISATION_DETAIL_VIEWED: AuditAction.VIEW,
    MonitorAuditEvent.ORGANISATION_CHART_VIEWED: AuditAction.VIEW,
    MonitorAuditEvent.TABLE_EXPORTED: AuditAction.EXPORT,
}
