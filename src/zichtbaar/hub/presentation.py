"""Turn stored codes into readable lines in the user's language (pages only, never data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from .codebook import Codebook, label
from .sharing import ShareField

PERSON_FIELDS = {"given_name": gettext_lazy("First name"), "surname": gettext_lazy("Surname"),
                 "date_of_birth": gettext_lazy("Date of birth"), "sex": gettext_lazy("Sex"),
                 "phone": gettext_lazy("Phone"), "email": gettext_lazy("E-mail"),
                 "postcode": gettext_lazy("Postcode"), "city": gettext_lazy("City")}


def _language() -> str:
    return (get_language() or "nl")[:2]


def indicator_lines(codes: list[str], book: Codebook) -> list[str]:
    language = _language()
    return [f"{code} · {label(book.indicators[code].label, language)}" if code in book.indicators
            else code for code in codes]


def form_lines(codes: list[str], book: Codebook) -> list[str]:
    language = _language()
    return [label(book.forms[c]["label"], language) if c in book.forms else c for c in codes]


def urgency_lines(reasons: list[str], book: Codebook) -> list[str]:
    return [_("Minor involved") if r == "minor" else indicator_lines([r], book)[0]
            for r in reasons]


def explanation_rows(explanation: Mapping[str, Any], book: Codebook) -> list[dict[str, Any]]:
    language = _language()
    weight_names = {"strong": _("strong"), "medium": _("medium"), "weak": _("weak")}
    rows = []
    for item in explanation.get("contributions", []):
        indicator = book.indicators.get(item["code"])
        rows.append({"code": item["code"],
                     "label": label(indicator.label, language) if indicator else item["code"],
                     "weight": weight_names.get(item["weight"], item["weight"]),
                     "points": item["points"]})
    return rows


def payload_rows(payload: Mapping[str, Any], book: Codebook) -> list[tuple[str, list[str]]]:
    """Each shared field as (label, lines). Only keys present in the payload are shown."""
    names = dict(ShareField.choices)
    rows: list[tuple[str, list[str]]] = []
    for key, value in payload.items():
        if key == "forms":
            lines = form_lines(value, book)
        elif key == "indicators":
            lines = indicator_lines(value, book)
        elif key == "urgency":
            lines = ([_("Urgent")] if value.get("urgent") else [_("Not urgent")]) + \
                urgency_lines(value.get("reasons", []), book)
        elif key == "score":
            lines = [str(value.get("score", 0))] + [
                f"{r['code']} · {r['label']} ({r['weight']}, +{r['points']})"
                for r in explanation_rows(value, book)]
        elif key == "minor":
            lines = [{True: _("Yes"), False: _("No")}.get(value, _("Unknown"))]
        elif key in ("victim_identity", "suspect_identity"):
            lines = ["; ".join(f"{PERSON_FIELDS.get(k, k)}: {v}" for k, v in person.items())
                     for person in value] or ["—"]
        elif key == "linkage_keys":
            lines = [", ".join(f"{k}: {v[:16]}…" for k, v in keys.items())
                     for keys in value] or ["—"]
        elif isinstance(value, list):
            lines = [str(v) for v in value] or ["—"]
        else:
            lines = [str(value)] if value not in ("", None) else ["—"]
        rows.append((str(names.get(key, key)), lines))
    return rows
