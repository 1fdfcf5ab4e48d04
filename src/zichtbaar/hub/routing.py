"""Routing rules as data: which partner types a signal goes to, and why.

``decide`` only proposes; an analyst hands over (no solely automated decision). Each proposal
names the rule that produced it so the signal page can show the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from .triage import Facts

RULES_FILE = Path(__file__).resolve().parent / "data" / "routing_rules.json"

SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["version", "rules"],
    "properties": {
        "version": {"type": "string", "minLength": 1, "maxLength": 32},
        "rules": {"type": "array", "items": {
            "type": "object", "required": ["id", "when", "to", "reason"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "when": {"type": "object", "additionalProperties": False, "properties": {
                    "forms_any": {"type": "array", "items": {"type": "string"}},
                    "indicators_any": {"type": "array", "items": {"type": "string"}},
                    "minor": {"type": "boolean"},
                    "urgent": {"type": "boolean"}}},
                "to": {"type": "array", "minItems": 1, "items": {"enum": [
                    "care_ngo", "reporting_point", "police", "labour_inspectorate",
                    "municipality", "veilig_thuis", "research"]}},
                "reason": {"type": "object", "required": ["nl", "en"]}}}}},
}


class RoutingRulesError(ValueError):
    pass


@dataclass(frozen=True)
class Decision:
    partner_type: str
    rules: tuple[str, ...]


def validate(data: Any) -> None:
    try:
        jsonschema.validate(data, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise RoutingRulesError(f"{where}: {exc.message}") from None
    ids = [r["id"] for r in data["rules"]]
    if len(ids) != len(set(ids)):
        raise RoutingRulesError("rules: rule ids must be unique")


def load_file() -> dict[str, Any]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    validate(data)
    return data


def _matches(when: Mapping[str, Any], facts: Facts, urgent: bool) -> bool:
    forms = when.get("forms_any")
    if forms is not None and not facts.forms & set(forms):
        return False
    indicators = when.get("indicators_any")
    if indicators is not None and not facts.indicators & set(indicators):
        return False
    if "minor" in when and bool(facts.minor) != when["minor"]:
        return False
    return not ("urgent" in when and urgent != when["urgent"])


def decide(facts: Facts, rules: Sequence[Mapping[str, Any]], *, urgent: bool = False
           ) -> list[Decision]:
    """Partner types to propose, each with the ids of every rule that asked for it."""
    by_type: dict[str, list[str]] = {}
    for rule in rules:
        if _matches(rule["when"], facts, urgent):
            for partner_type in rule["to"]:
                by_type.setdefault(partner_type, []).append(rule["id"])
    return [Decision(t, tuple(ids)) for t, ids in sorted(by_type.items())]
