"""Readable names for indicators, dimension values, units and publishers, Dutch first.

Values coded in the helpline codebook take the codebook's own labels; the rest are named
here. An unknown value is shown as it is stored rather than hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import catalogue

DIMENSIONS = {
    "form": _("Form of exploitation"), "sex": _("Sex"), "age_band": _("Age"),
    "region": _("Region"), "nationality_group": _("Nationality"), "reporter": _("Reported by"),
    "channel": _("Channel"), "partner_type": _("Partner"), "outcome": _("Outcome"),
    "label": _("Analyst label"), "duration": _("Duration"), "visitor_role": _("Visitor"),
    "measure": _("Measure"), "sector": _("Sector"),
}

VALUES: dict[str, dict[str, Any]] = {
    "form": {"sexual": _("Sexual exploitation"), "labour": _("Labour exploitation"),
             "criminal": _("Criminal exploitation"), "other": _("Other or unknown"),
             "organ_removal": _("Organ removal"), "domestic_sexual": _("Sexual, within the NL"),
             "unknown": _("Unknown")},
    "sex": {"female": _("Female"), "male": _("Male"), "other": _("Other"),
            "unknown": _("Unknown")},
    "age_band": {"under_12": _("Under 12"), "12_15": _("12–15"), "16_17": _("16–17"),
                 "<=15": _("15 or younger"), "<18": _("Minor"), "18_23": _("18–23"),
                 "18_plus": _("18 or older"), "24_plus": _("24 or older"),
                 "unknown": _("Unknown")},
    "visitor_role": {"victim": _("Victim"), "reporter": _("Someone else reporting"),
                     "unknown": _("Unknown")},
    "duration": {"1y_plus": _("More than 1 year"), "5y_plus": _("5 years or more")},
    "channel": {"chat": _("Helpline chat"), "public_form": _("Public reporting form"),
                "professional": _("Professional"), "partner_api": _("Partner API"),
                "online": _("Online monitoring")},
    "partner_type": {"police": _("Police"), "labour_inspectorate": _("Labour inspectorate"),
                     "care_coordinator": _("Care coordinator"),
                     "veilig_thuis": _("Veilig Thuis")},
    "label": {"trafficking_suspected": _("Trafficking suspected"),
              "independent": _("Independent"), "spam": _("Spam"), "scam": _("Scam"),
              "unsure": _("Unsure")},
    "region": {},
}

UNITS = {"persons": _("Persons"), "count": _("Number"), "percent": _("Percentage"),
         "ratio": _("Ratio"), "rate_per_100k": _("Per 100,000 inhabitants"),
         "months": _("Months"), "hours": _("Hours"), "years": _("Years"),
         "registrations": _("Registrations")}

SOURCES = {"platform": _("zichtbaar (this platform)"), "nr": _("National Rapporteur"),
           "comensha": "CoMensha", "ckm": "CKM / Fier", "wodc": "WODC", "cbs": "CBS",
           "unodc": "UNODC", "own": _("own organisation"), "demo": _("synthetic demo series"),
           "nr_vs_comensha": _("National Rapporteur vs CoMensha")}


def dimension_label(name: str | None) -> str:
    return str(DIMENSIONS.get(name or "", name or ""))


def _codebook_label(dimension: str, value: str) -> str | None:
    fields = {"form": "exploitation_forms", "visitor_role": "visitor_role",
              "age_band": "age_band", "duration": "duration"}
    if dimension not in fields:
        return None
    try:
        from zichtbaar.helpline import codebook

        label = codebook.load().field(fields[dimension]).option_label(
            value, (get_language() or "nl")[:2])
    except Exception:  # a label is a nicety; the stored value still shows
        return None
    return str(label) if label and str(label) != value else None


def value_label(dimension: str | None, value: str) -> str:
    if dimension is None or value == "":
        return ""
    known = VALUES.get(dimension, {}).get(value)
    if known is not None:
        return str(known)
    return _codebook_label(dimension, value) or value.replace("_", " ")


def order_key(dimension: str | None) -> Callable[[str], tuple[int, str]]:
    """Categories in their listed order (age bands young to old), unknown ones after."""
    order = list(VALUES.get(dimension or "", {}))

    def key(value: str) -> tuple[int, str]:
        return (order.index(value) if value in order else len(order), value)

    return key


def unit_label(unit: str) -> str:
    return str(UNITS.get(unit, unit))


def source_label(source: str) -> str:
    return str(SOURCES.get(source, source))


def indicator_name(item: Mapping[str, Any]) -> str:
    """The indicator's name in the reader's language (the catalogue holds both)."""
    language = (get_language() or "nl")[:2]
    return str(item.get("name_en" if language == "en" else "name_nl") or item["id"])


def anchor_text(anchor: Mapping[str, Any] | None) -> str:
    """A baseline's or target's note in the reader's language (``text_nl``/``text_en``)."""
    return catalogue.anchor_text(anchor, "en" if (get_language() or "nl")[:2] == "en" else "nl")
