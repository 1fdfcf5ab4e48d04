"""Stored estimate runs: the exact input and parameters, so every number can be reproduced."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.fields import EncryptedTextField


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class EstimateRun(models.Model):
    """One estimate: who asked, on which bytes, with which settings, and what came out.

    The capture histories are aggregate counts, but small cells of a registration can still
    point at people, so the input is encrypted at rest and only the owning organisation sees
    it. ``input_sha256`` proves a reproduction used the identical file.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT,
                                     related_name="estimate_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="estimate_runs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reproduces = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="reproductions")
    source = models.CharField(max_length=16, default="upload")  # "upload" or "hub"
    input_name = models.CharField(_("file name"), max_length=255)
    # Base64 of the uploaded bytes, encrypted (Fernet) like every other sensitive field.
    input_data = EncryptedTextField()
    input_sha256 = models.CharField(max_length=64)
    input_size = models.PositiveIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    library_version = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED,
                              db_index=True)
    progress = models.FloatField(default=0.0)
    progress_text = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    # A sentence for the user in both languages; tracebacks go to the server log only.
    error_nl = models.TextField(blank=True)
    error_en = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("estimate run")
        verbose_name_plural = _("estimate runs")
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                                   name="estimate_run_progress_fraction"),
        ]

    def __str__(self) -> str:
        return f"estimate run {self.pk} ({self.status})"

    @property
    def input_bytes(self) -> bytes:
        return base64.b64decode(self.input_data or "")

    @staticmethod
    def encode_input(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.DONE, RunStatus.FAILED}

    @property
    def error(self) -> str:
        """The failure sentence in the active language (Dutch first)."""
        return self.error_en if (get_language() or "nl").startswith("en") else self.error_nl

    @property
    def progress_percent(self) -> int:
        return round(100 * self.progress)

    def parameter(self, name: str, default: Any = None) -> Any:
        return (self.parameters or {}).get(name, default)
