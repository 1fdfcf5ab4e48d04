"""What a partner may receive: the field catalogue and the projection onto an agreement.

A handover payload is built only from ``project(full, allowed)``; anything not in the
partner's agreement never leaves the hub, so the inbox cannot show it by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShareField(models.TextChoices):
    REFERENCE = "reference", _("Reference")
    RECEIVED_AT = "received_at", _("Received")
    URGENCY = "urgency", _("Urgency")
    FORMS = "forms", _("Forms of exploitation")
    INDICATORS = "indicators", _("Indicators")
    SCORE = "score", _("Score and explanation")
    MINOR = "minor", _("Minor involved")
    MUNICIPALITY = "municipality", _("Municipality")
    DESCRIPTION = "description", _("Description")
    VICTIM_IDENTITY = "victim_identity", _("Identity of the victim")
    VICTIM_AGE_BAND = "victim_age_band", _("Age band of the victim")
    SUSPECT_IDENTITY = "suspect_identity", _("Identity of the suspect")
    REPORTER_CONTACT = "reporter_contact", _("Reporter's contact details")
    LINKAGE_KEYS = "linkage_keys", _("Pseudonymous linkage keys")


class LegalBasis(models.TextChoices):
    PUBLIC_TASK = "public_task", _("Public task (art. 6(1)(e) GDPR)")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (art. 6(1)(c) GDPR)")
    VITAL_INTEREST = "vital_interest", _("Vital interest (art. 6(1)(d) GDPR)")
    CONSENT = "consent", _("Consent (art. 6(1)(a) GDPR)")
    WPG = "wpg", _("Police Data Act (Wpg) provision")
    JEUGDWET = "jeugdwet", _("Youth Act / Wmo provision (Veilig Thuis)")
    WGS = "wgs", _("Collaboration under the WGS")


ALL_FIELDS = frozenset(ShareField.values)


def project(full: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """Only the agreed fields, in catalogue order; unknown names in ``allowed`` are ignored."""
    allowed_set = set(allowed) & ALL_FIELDS
    return {name: full[name] for name in ShareField.values if name in allowed_set and name in full}
