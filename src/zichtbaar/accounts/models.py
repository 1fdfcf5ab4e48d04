"""Organisations, staff users and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from zichtbaar.core.fields import EncryptedTextField
from zichtbaar.core.models import BaseModel

from .roles import OrganisationType, Role


class Organisation(BaseModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    type = models.CharField(_("type"), max_length=32, choices=OrganisationType.choices)
    slug = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member. Visitors of the helpline and public reporters never get an account."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="members", null=True,
        verbose_name=_("organisation"),
    )
    # Work phone for on-call contact: identifying, so encrypted at rest.
    work_phone = EncryptedTextField(_("work phone"), blank=True, default="")
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.role_grants.values_list("role", flat=True))

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def display_name(self) -> str:
        return self.get_full_name() or self.username


class RoleGrant(BaseModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="unique_role_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"
