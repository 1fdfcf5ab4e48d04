"""The indicator codebook: a versioned data file, validated, wrapped for look-ups.

The file in ``codebook/<version>.json`` is the seed; admins edit through the app, which stores
a new ``CodebookVersion`` row. Signals keep the version they were coded with, so an old signal
is always explained with the weights that scored it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

CODEBOOK_DIR = Path(__file__).resolve().parent / "codebook"
DEFAULT_VERSION = "2026.2"  # 2026.2 = 2026.1 plus keyword lists for suggestions
WEIGHT_NAMES = ("strong", "medium", "weak")

_LABEL = {"type": "object", "required": ["nl", "en"],
          "properties": {"nl": {"type": "string", "minLength": 1},
                         "en": {"type": "string", "minLength": 1}}}
# Words and phrases that suggest an indicator in free text (see ``suggest.py`` for the
# syntax: ``word*`` is a prefix, ``re:`` a regular expression). Optional: a codebook
# without them simply suggests from its labels.
_KEYWORDS = {"type": "object", "additionalProperties": False,
             "properties": {lang: {"type": "array", "items": {"type": "string", "minLength": 2}}
                            for lang in ("nl", "en")}}
_CODED = {"type": "object", "required": ["code", "label"],
          "properties": {"code": {"type": "string", "pattern": "^[a-z_]+$"}, "label": _LABEL}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "weights", "triage", "forms", "groups", "recruitment_methods",
                 "recruiter_relations"],
    "properties": {
        "version": {"type": "string", "pattern": r"^\d{4}\.\d+$"},
        "weights": {"type": "object", "required": list(WEIGHT_NAMES),
                    "additionalProperties": False,
                    "properties": {w: {"type": "integer", "minimum": 0, "maximum": 100}
                                   for w in WEIGHT_NAMES}},
        "triage": {"type": "object", "required": ["elevated_score", "target_hours"],
                   "properties": {
                       "elevated_score": {"type": "integer", "minimum": 1},
                       "minor_is_urgent": {"type": "boolean"},
                       "target_hours": {"type": "object",
                                        "required": ["urgent", "elevated", "normal"],
                                        "additionalProperties": {"type": "integer",
                                                                 "minimum": 1}}}},
        "forms": {"type": "array", "minItems": 1, "items": {
            **_CODED, "properties": {**_CODED["properties"], "question": _LABEL}}},
        "groups": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["code", "label", "indicators"],
            "properties": {
                "code": {"type": "string"}, "label": _LABEL,
                "indicators": {"type": "array", "items": {
                    "type": "object", "required": ["code", "label", "weight"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}$"},
                        "label": _LABEL, "question": _LABEL, "keywords": _KEYWORDS,
                        "weight": {"enum": list(WEIGHT_NAMES)},
                        "urgent": {"type": "boolean"},
                        "implies_form": {"type": "string"}}}}}}},
        "minor_keywords": _KEYWORDS,
        "recruitment_methods": {"type": "array", "items": _CODED},
        "recruiter_relations": {"type": "array", "items": _CODED},
    },
}


class CodebookError(ValueError):
    """The codebook data is not valid; the message names the place."""


@dataclass(frozen=True)
class Indicator:
    code: str
    group: str
    label: Mapping[str, str]
    weight: str
    urgent: bool = False
    implies_form: str | None = None
    question: Mapping[str, str] | None = None
    keywords: Mapping[str, Sequence[str]] | None = None


def validate(data: Any) -> None:
    """Raise ``CodebookError`` with a readable location when ``data`` is not a valid codebook."""
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise CodebookError(f"{where}: {exc.message}") from None
    codes = [i["code"] for g in data["groups"] for i in g["indicators"]]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise CodebookError(f"groups: duplicate indicator codes {', '.join(duplicates)}")
    forms = {f["code"] for f in data["forms"]}
    for group in data["groups"]:
        for indicator in group["indicators"]:
            implied = indicator.get("implies_form")
            if implied and implied not in forms:
                raise CodebookError(f"{indicator['code']}: unknown form {implied!r}")


def load_file(version: str = DEFAULT_VERSION) -> dict[str, Any]:
    data = json.loads((CODEBOOK_DIR / f"{version}.json").read_text(encoding="utf-8"))
    validate(data)
    return data


class Codebook:
    """Read-only view of one codebook version's data."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.version: str = data["version"]

    @cached_property
    def indicators(self) -> dict[str, Indicator]:
        return {
            i["code"]: Indicator(code=i["code"], group=g["code"], label=i["label"],
                                 weight=i["weight"], urgent=bool(i.get("urgent")),
                                 implies_form=i.get("implies_form"), question=i.get("question"),
                                 keywords=i.get("keywords"))
            for g in self.data["groups"] for i in g["indicators"]
        }

    @cached_property
    def forms(self) -> dict[str, Mapping[str, Any]]:
        return {f["code"]: f for f in self.data["forms"]}

    @property
    def weights(self) -> Mapping[str, int]:
        return self.data["weights"]

    @property
    def triage(self) -> Mapping[str, Any]:
        return self.data["triage"]

    @property
    def has_keywords(self) -> bool:
        return bool(self.data.get("minor_keywords")) or any(
            i.keywords for i in self.indicators.values())

    def lexicon(self, *, keywords_from: Codebook | None = None) -> dict[str, list[str]]:
        """Terms per indicator code, plus ``"minor"``: labels in both languages and keywords.

        ``keywords_from`` lends the keyword lists of another version (for signals coded
        with a version that had none), limited to the codes this version knows.
        """
        source = keywords_from or self
        result: dict[str, list[str]] = {}
        for code, indicator in self.indicators.items():
            lent = source.indicators.get(code)
            keywords = (lent.keywords if lent else None) or {}
            result[code] = [*indicator.label.values(), *keywords.get("nl", ()),
                            *keywords.get("en", ())]
        minor = source.data.get("minor_keywords") or {}
        if minor:
            result["minor"] = [*minor.get("nl", ()), *minor.get("en", ())]
        return result

    def choices(self, kind: str, language: str) -> list[tuple[str, str]]:
        """(code, label) pairs of ``forms``, ``recruitment_methods`` or ``recruiter_relations``."""
        return [(item["code"], label(item["label"], language)) for item in self.data[kind]]

    def groups(self, *, public_only: bool = False) -> list[dict[str, Any]]:
        result = []
        for group in self.data["groups"]:
            items = [i for i in group["indicators"] if not public_only or i.get("question")]
            if items:
                result.append({**group, "indicators": items})
        return result


def label(text: Mapping[str, str] | None, language: str) -> str:
    if not text:
        return ""
    return text.get(language) or text.get("nl") or next(iter(text.values()), "")
