"""Audit events of the researcher page. A stored value is never reused or renamed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zichtbaar.audit.events import AuditAction


class EstimateEvent(models.TextChoices):
    RUN_CREATED = "estimate_run_created", _("Estimate run created")
    RUN_VIEWED = "estimate_run_viewed", _("Estimate run viewed")
    RESULT_DOWNLOADED = "estimate_result_downloaded", _("Estimate result downloaded")
    INPUT_DOWNLOADED = "estimate_input_downloaded", _("Estimate input downloaded")


ACTIONS: dict[str, AuditAction] = {
    EstimateEvent.RUN_CREATED: AuditAction.CREATE,
    EstimateEvent.RUN_VIEWED: AuditAction.VIEW,
    EstimateEvent.RESULT_DOWNLOADED: AuditAction.EXPORT,
    EstimateEvent.INPUT_DOWNLOADED: AuditAction.EXPORT,
}
