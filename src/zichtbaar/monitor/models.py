"""Monitor tables: the versioned catalogue, series cells and their append-only vintages.

A published number is never overwritten. ``IndicatorValue`` is one cell of a series
(indicator × period × dimensions × organisation × source) and carries a copy of its newest
vintage for quick reads; ``IndicatorVintage`` rows are the history, each with its as-of date,
reason, provenance and who entered it, so any table can be shown "as published on date D".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.models import BaseModel, VersionedData

DECIMAL = {"max_digits": 20, "decimal_places": 6}


class Kind(models.TextChoices):
    COMPUTED = "computed", _("Computed from the platform")
    MANUAL = "manual", _("Entered by hand")
    DERIVED = "derived", _("Derived from other indicators")


class CatalogueVersion(VersionedData):
    version = models.CharField(_("version"), max_length=16, unique=True)

    class Meta(VersionedData.Meta):
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")


class IndicatorValue(BaseModel):
    """One cell of a series; its history lives in ``vintages``."""

    indicator_id = models.CharField(_("indicator"), max_length=16, db_index=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    dims = models.JSONField(_("dimensions"), default=dict, blank=True)
    dims_key = models.CharField(max_length=255, default="{}")
    # Empty for national figures; set for one organisation's own figures.
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organisation"))
    # Who publishes the series ("nr", "comensha", "ckm", "wodc", "cbs", "platform"): the same
    # year has several official numbers, and they are different series, not revisions.
    source = models.CharField(_("source"), max_length=32)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.DecimalField(_("value"), **DECIMAL)
    lower = models.DecimalField(_("lower bound"), null=True, blank=True, **DECIMAL)
    upper = models.DecimalField(_("upper bound"), null=True, blank=True, **DECIMAL)
    as_of = models.DateField(_("as of"))
    vintage_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["indicator_id", "period_start", "dims_key", "source", "id"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        indexes = [models.Index(fields=["indicator_id", "period_start", "period_end"])]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_id", "period_start", "period_end", "dims_key", "source"],
                condition=Q(organisation__isnull=True), name="monitor_value_national_cell"),
            models.UniqueConstraint(
                fields=["indicator_id", "period_start", "period_end", "dims_key", "source",
                        "organisation"],
                condition=Q(organisation__isnull=False), name="monitor_value_org_cell"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")),
                                   name="monitor_value_period_order"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_start}..{self.period_end} {self.dims_key}"


class IndicatorVintage(models.Model):
    """One published state of a cell. Append-only: a revision is a new row."""

    series = models.ForeignKey(IndicatorValue, on_delete=models.PROTECT, related_name="vintages")
    number = models.PositiveIntegerField(_("vintage"))
    value = models.DecimalField(_("value"), **DECIMAL)
    lower = models.DecimalField(_("lower bound"), null=True, blank=True, **DECIMAL)
    upper = models.DecimalField(_("upper bound"), null=True, blank=True, **DECIMAL)
    # Kept for shares, so disclosure rules on small denominators can be applied later.
    numerator = models.DecimalField(null=True, blank=True, **DECIMAL)
    denominator = models.DecimalField(null=True, blank=True, **DECIMAL)
    as_of = models.DateField(_("as of"))
    reason = models.CharField(_("reason"), max_length=300)
    publication = models.CharField(_("publication"), max_length=300, blank=True)
    page = models.CharField(_("page"), max_length=32, blank=True)
    source_url = models.CharField(_("source address"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    catalogue_version = models.CharField(max_length=16, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)

    class Meta:
        ordering = ["series", "as_of", "number"]
        verbose_name = _("vintage")
        verbose_name_plural = _("vintages")
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="monitor_vintage_number"),
            models.CheckConstraint(condition=Q(lower__isnull=True) | Q(lower__lte=F("value")),
                                   name="monitor_vintage_lower_le_value"),
            models.CheckConstraint(condition=Q(upper__isnull=True) | Q(upper__gte=F("value")),
                                   name="monitor_vintage_upper_ge_value"),
        ]

    def __str__(self) -> str:
        return f"{self.series_id} v{self.number} ({self.as_of})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse updates: a published value is never overwritten."""
        if self.pk is not None and not self._state.adding:
            raise ValueError("a vintage is never changed; add a new one")
        super().save(*args, **kwargs)
