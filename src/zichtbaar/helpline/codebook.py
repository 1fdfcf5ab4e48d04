"""The versioned helpline codebook, kept as data (``codebook/<version>.json``).

Every stored coding names the version it used, so a later codebook never reinterprets old
counts. Pure functions: no ORM, no request.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CODEBOOK_DIR = Path(__file__).resolve().parent / "codebook"
CURRENT_VERSION = "2026.1"

CodingValues = dict[str, str | list[str] | None]


@dataclass(frozen=True)
class Option:
    value: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "single" or "multi"
    required: bool
    label: Mapping[str, str]
    options: tuple[Option, ...]

    def label_in(self, language: str) -> str:
        return self.label.get(language) or self.label["en"]

    def option_label(self, value: str, language: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label.get(language) or option.label["en"]
        return value

    @property
    def values(self) -> frozenset[str]:
        return frozenset(o.value for o in self.options)


@dataclass(frozen=True)
class Codebook:
    version: str
    fields: tuple[Field, ...]
    rules: Mapping[str, Any]

    def field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)


@cache
def load(version: str = CURRENT_VERSION) -> Codebook:
    raw = json.loads((CODEBOOK_DIR / f"{version}.json").read_text(encoding="utf-8"))
    fields = tuple(
        Field(name=f["name"], kind=f["kind"], required=bool(f["required"]), label=f["label"],
              options=tuple(Option(o["value"], o["label"]) for o in f["options"]))
        for f in raw["fields"]
    )
    return Codebook(version=raw["version"], fields=fields, rules=raw.get("rules", {}))


# A chat closed as abandoned (the visitor left before saying much) asks only these; the
# other required questions default to "unknown".
SHORT_REQUIRED = frozenset({"help_question_trafficking", "risk_level"})


def validate(values: Mapping[str, Any], codebook: Codebook, *, short: bool = False,
             ) -> tuple[CodingValues, dict[str, str]]:
    """Clean values against the codebook; return (clean values, error code per field).

    Error codes (``required``, ``invalid``, ``alternative_route``) are turned into sentences
    by the form, in the user's language. ``short``: the coding of an abandoned chat.
    """
    clean: CodingValues = {}
    errors: dict[str, str] = {}
    for field in codebook.fields:
        raw = values.get(field.name)
        if short and field.required and field.name not in SHORT_REQUIRED:
            if raw in (None, "") and field.kind == "single" and "unknown" in field.values:
                raw = "unknown"
            field = dataclasses.replace(field, required=False)
        if field.kind == "multi":
            items = [raw] if isinstance(raw, str) else list(raw or [])
            if any(not isinstance(v, str) or v not in field.values for v in items):
                errors[field.name] = "invalid"
                continue
            clean[field.name] = sorted(set(items))
            if field.required and not items:
                errors[field.name] = "required"
        else:
            if raw in (None, ""):
                clean[field.name] = None
                if field.required:
                    errors[field.name] = "required"
            elif not isinstance(raw, str) or raw not in field.values:
                errors[field.name] = "invalid"
            else:
                clean[field.name] = raw
    if (codebook.rules.get("parent_perpetrator_requires_alternative_route")
            and "parent" in (clean.get("perpetrator_relation") or [])
            and not clean.get("alternative_route")):
        errors.setdefault("alternative_route", "alternative_route")
    return clean, errors


def is_sexual_exposure(values: Mapping[str, Any], codebook: Codebook) -> bool:
    """Whether a coded chat counts toward the counsellor's well-being exposure count."""
    rule: Mapping[str, list[str]] = codebook.rules.get("sexual_exposure_fields", {})
    for name, hits in rule.items():
        given = values.get(name) or []
        given = [given] if isinstance(given, str) else given
        if set(given) & set(hits):
            return True
    return False
