"""Shared model base for every app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Creation and change times on every table: retention rules and audits need them."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class VersionedData(BaseModel):
    """One version of rules kept as data (codebook, routing rules, lexicon, catalogue).

    Saving makes a new version; old ones stay, and every record coded with a version keeps
    it. Subclasses may narrow ``version``.
    """

    version = models.CharField(_("version"), max_length=32, unique=True)
    data = models.JSONField()
    note = models.CharField(_("change note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.version

    @classmethod
    def current(cls, seed: Callable[[], Mapping[str, Any]]) -> Self:
        """The newest version; seeded from the repository file (``seed()``) on first use."""
        # The manager exists on the concrete subclasses, not on this abstract model.
        latest = cls.objects.order_by("-created_at", "-id").first()  # type: ignore[attr-defined]
        if latest is not None:
            return latest
        data = seed()
        version, _ = cls.objects.get_or_create(  # type: ignore[attr-defined]
            version=data["version"], defaults={"data": dict(data), "note": "seed"})
        return version
