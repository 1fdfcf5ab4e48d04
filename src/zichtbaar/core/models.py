"""Shared model base for every app."""

from __future__ import annotations

from django.db import models


class BaseModel(models.Model):
    """Creation and change times on every table: retention rules and audits need them."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
