"""Turn stored codes into readable lines in the user's language (pages only, never data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from .codebook import Codebook, label
from .sharing import ShareField

DATETIME = "j F Y H:i"  # "3 december 2026 08:38" in Dutch; always local time (TIME_ZONE)

PERSON_FIELDS = {"given_name": gettext_lazy("First name"), "surname": gettext_lazy("Surname"),
                 "date_of_birth": gettext_lazy("Date of birth"), "sex": gettext_lazy("Sex"),
                 "phone": gettext_lazy("Phone"), "email": gettext_lazy("E-mail"),
                 "postcode": gettext_lazy("Postcode"), "city": gettext_lazy("City")}


def _language() -> str:
    return (get_language() or "nl")[:2]


def local_datetime(value: dt.datetime | str | None) -> str:
    """A stored moment (datetime or ISO text from JSON) as local, localised text.

    Payloads and exports keep ISO 8601 in UTC; only pages show this form, never
    "2026-12-03T07:38:36Z". Text that is not a moment is returned unchanged.
    """
    if value in (None, ""):
        return ""
    moment = value
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    if not isinstance(moment, dt.datetime):
        return str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return date_format(timezone.localtime(moment), DATETIME)


def local_date(value: dt.date | str | None) -> str:
    """A stored date ("1990-02-03", e.g. a date of birth) as "3 februari 1990"."""
    if value in (None, ""):
        return ""
    day = value
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return day
    if not isinstance(day, dt.date):
        return str(value)
    return date_format(day, "j F Y")


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
        elif key == "received_at":
            lines = [local_datetime(value) or "—"]
        elif key == "minor":
            lines = [{True: _("Yes"), False: _("No")}.get(value, _("Unknown"))]
        elif key in ("victim_identity", "suspect_identity"):
            lines = ["; ".join(f"{PERSON_FIELDS.get(k, k)}: "
                               f"{local_date(v) if k == 'date_of_birth' else v}"
                               for k, v in person.items())
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


def field_labels(names: Sequence[str]) -> list[str]:
    catalogue = dict(ShareField.choices)
    return [str(catalogue.get(n, n)) for n in names]


SOURCE_LABELS = {"description": gettext_lazy("What happened"),
                 "people_text": gettext_lazy("Who is involved"),
                 "update": gettext_lazy("Addition by the reporter")}


def suggestion_rows(suggestions: Sequence[Any], book: Codebook) -> list[dict[str, Any]]:
    """Suggestions for the signal page: label, what accepting would add, quotes to mark."""
    language = _language()
    rows = []
    for item in suggestions:
        if item.code == "minor":
            title, weight, points, urgent = _("Minor involved"), "", 0, bool(
                book.triage.get("minor_is_urgent", True))
        else:
            indicator = book.indicators[item.code]
            title = f"{item.code} · {label(indicator.label, language)}"
            weight = {"strong": _("strong"), "medium": _("medium"),
                      "weak": _("weak")}.get(indicator.weight, indicator.weight)
            points, urgent = int(book.weights[indicator.weight]), indicator.urgent
        rows.append({"code": item.code, "title": title, "weight": weight, "points": points,
                     "urgent": urgent, "negated": item.negated,
                     # Patterns (``re:``) are for machines; the marked quote shows them.
                     "terms": [t.replace("*", "…") for t in item.terms
                               if not t.startswith("re:")],
                     "quotes": [{"source": SOURCE_LABELS.get(q.source, q.source),
                                 "pieces": q.pieces, "negated": q.negated}
                                for q in item.quotes]})
    return rows
