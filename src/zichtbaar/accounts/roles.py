"""Organisation types, roles and what each role may do.

A capability names one thing a user can do ("audit.search"). Views and services ask for a
capability, never for a role, so adding a role means editing this one table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import User


class OrganisationType(models.TextChoices):
    CARE_NGO = "care_ngo", _("Care organisation / helpline")
    REPORTING_POINT = "reporting_point", _("Reporting point")
    POLICE = "police", _("Police")
    LABOUR_INSPECTORATE = "labour_inspectorate", _("Labour inspectorate")
    MUNICIPALITY = "municipality", _("Municipality")
    VEILIG_THUIS = "veilig_thuis", _("Veilig Thuis")
    RESEARCH = "research", _("Research")
    PLATFORM_OPERATOR = "platform_operator", _("Platform operator")
    MINISTRY = "ministry", _("Ministry")


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("Counsellor")
    SUPERVISOR = "supervisor", _("Supervisor")
    ANALYST = "analyst", _("Analyst")
    COORDINATOR = "coordinator", _("Care coordinator")
    PARTNER = "partner", _("Partner")
    AUDITOR = "auditor", _("Auditor")
    RESEARCHER = "researcher", _("Researcher")
    ADMIN = "admin", _("Administrator")


ALL_ROLES = frozenset(Role)

CAPABILITIES: dict[str, frozenset[Role]] = {
    "dashboard.view": ALL_ROLES,
    "account.manage_own": ALL_ROLES,
    "organisation.members.view": frozenset({Role.ADMIN, Role.SUPERVISOR}),
    "organisation.members.manage": frozenset({Role.ADMIN}),
    "audit.search": frozenset({Role.ADMIN, Role.AUDITOR}),
}


def register_capability(name: str, roles: frozenset[Role] | set[Role]) -> None:
    """Let a product app add its capabilities; a name is defined once."""
    existing = CAPABILITIES.get(name)
    if existing is not None and existing != frozenset(roles):
        raise ValueError(f"Capability {name!r} is already defined with other roles.")
    CAPABILITIES[name] = frozenset(roles)


def roles_for(capability: str) -> frozenset[Role]:
    try:
        return CAPABILITIES[capability]
    except KeyError:
        raise KeyError(f"Unknown capability {capability!r}") from None


def has_capability(user: User, capability: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.organisation_id is None:
        return False
    return bool(user.role_set & roles_for(capability))
