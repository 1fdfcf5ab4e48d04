"""Every audit code the code base records has a label people can read, in Dutch and English.

The codes are collected from the source itself: every call of ``record(...)`` (the only way
into the trail), its event argument resolved to the enum member it names, and its
``object_type=`` literal. A new event or record type without a label fails here.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import translation

import zichtbaar
from zichtbaar.audit.events import (
    ACTION_OF,
    EVENT_LABELS,
    OBJECT_TYPE_LABELS,
    event_label,
    object_type_label,
)

PACKAGE = Path(zichtbaar.__file__).resolve().parent
# Labels whose Dutch is the same word as the English one, on purpose.
SAME_IN_DUTCH = {"Chat", "Crawl"}


@dataclass(frozen=True)
class Call:
    where: str
    event: str  # "Enum.MEMBER" as written
    object_type: str


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def _is_record(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "record") or (
        isinstance(func, ast.Attribute) and func.attr == "record")


def _event_names(node: ast.AST) -> list[str]:
    """``HubAuditEvent.SIGNAL_VIEWED`` references inside ``node``."""
    return [f"{n.value.id}.{n.attr}" for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id.endswith("Event") and n.attr.isupper()]


def recorded_calls() -> list[Call]:
    """Every ``record(...)`` call, plus every event enum member named anywhere in the source.

    The latter covers calls that pass the event in a variable (``access_run(event=…)``).
    """
    calls: list[Call] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(PACKAGE.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_record(node) and node.args:
                object_type = next((k.value.value for k in node.keywords
                                    if k.arg == "object_type"
                                    and isinstance(k.value, ast.Constant)), "")
                calls.extend(Call(f"{where}:{node.lineno}", name, object_type)
                             for name in _event_names(node.args[0]) or [""])
        calls.extend(Call(where, name, "") for name in _event_names(tree))
    return calls


def event_enums() -> dict[str, type]:
    """Every ``class …Event(models.TextChoices)`` of the package, by class name."""
    enums: dict[str, type] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Event"):
                assert node.name not in enums, f"two audit event enums named {node.name}"
                enums[node.name] = getattr(importlib.import_module(_module_name(path)),
                                           node.name)
    return enums


def _resolve(call: Call) -> str | None:
    if not call.event:
        return None
    enum_name, member = call.event.split(".")
    return str(getattr(ENUMS[enum_name], member))


CALLS = recorded_calls()
ENUMS = event_enums()


def test_the_source_walk_finds_the_record_calls() -> None:
    assert len({c.where for c in CALLS if c.object_type}) > 80
    assert any(c.event == "HubAuditEvent.HANDOVER_VIEWED" for c in CALLS)
    assert any(c.event == "AuditEvent.AUDIT_SEARCHED" for c in CALLS)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_recorded_event_has_a_label(language: str) -> None:
    missing, untranslated = [], []
    for call in CALLS:
        code = _resolve(call)
        if code is None:
            continue
        with translation.override(language):
            label = event_label(code)
        if label == code:
            missing.append(f"{call.where} {code}")
        elif language == "nl":
            with translation.override("en"):
                english = event_label(code)
            if label == english and english not in SAME_IN_DUTCH:
                untranslated.append(f"{call.where} {code}: {label!r}")
    assert missing == [], "events recorded without a label:\n" + "\n".join(missing)
    assert untranslated == [], "labels without Dutch:\n" + "\n".join(untranslated)


def test_every_registered_event_has_a_label() -> None:
    assert set(ACTION_OF) <= set(EVENT_LABELS)
    every_member = {str(member) for enum in ENUMS.values() for member in enum}  # type: ignore[attr-defined]
    assert every_member <= set(ACTION_OF), "events defined but never registered"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_recorded_object_type_has_a_label(language: str) -> None:
    types = {c.object_type: c.where for c in CALLS if c.object_type}
    with translation.override(language):
        missing = [f"{where} {kind}" for kind, where in sorted(types.items())
                   if object_type_label(kind) == kind]
    assert missing == [], "record types without a label:\n" + "\n".join(missing)
    assert set(types) <= set(OBJECT_TYPE_LABELS)


def test_labels_read_dutch_under_dutch_and_english_under_english() -> None:
    with translation.override("nl"):
        assert event_label("audit_searched") == "Auditlog doorzocht"
        assert event_label("hub_handover_viewed") == "Overdracht bekeken"
        assert object_type_label("hub_signal") == "Signaal"
    with translation.override("en"):
        assert event_label("audit_searched") == "Audit trail searched"
        assert event_label("hub_handover_viewed") == "Handover viewed"
        assert object_type_label("hub_signal") == "Signal"
