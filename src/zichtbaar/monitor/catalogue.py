"""The indicator catalogue: a versioned data file, validated, wrapped for look-ups.

``data/catalogue.yaml`` is the seed; an admin's edit is stored as a new ``CatalogueVersion``
row and old versions stay, so every value can be read against the definition it was made with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_FILE = DATA_DIR / "catalogue.yaml"
SCHEMA_FILE = DATA_DIR / "catalogue.schema.json"
TYPES = ("computed", "manual", "derived")


class CatalogueError(ValueError):
    """The catalogue data is not valid; the message names the place."""


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _place(data: Any, path: list[Any]) -> str:
    """``indicators[3] (AL1-03)/unit`` rather than ``indicators/3/unit``: people know ids."""
    parts: list[str] = []
    for i, step in enumerate(path):
        if isinstance(step, int) and i == 1 and path[0] == "indicators":
            try:
                ident = data["indicators"][step].get("id")
            except (AttributeError, IndexError, KeyError, TypeError):
                ident = None
            parts[-1] += f"[{step}]" + (f" ({ident})" if ident else "")
        else:
            parts.append(str(step))
    return "/".join(parts) or "(root)"


def _has_texts(anchor: Mapping[str, Any]) -> bool:
    """Both languages, or a plain ``text`` (a hand-edited catalogue, or one before 2026.2)."""
    return bool(anchor.get("text_nl") and anchor.get("text_en")) or "text" in anchor


def anchor_text(anchor: Mapping[str, Any] | None, language: str) -> str:
    """A baseline's or target's text in ``language`` ("nl"/"en"); a plain ``text`` serves
    both, and the other language is the last resort rather than nothing."""
    if not anchor:
        return ""
    other = "en" if language == "nl" else "nl"
    for key in (f"text_{language}", "text", f"text_{other}"):
        if anchor.get(key):
            return str(anchor[key])
    return ""


def validate(data: Any) -> None:
    """Raise ``CatalogueError`` with a readable location when ``data`` is not a catalogue."""
    try:
        jsonschema.validate(data, schema())
    except jsonschema.ValidationError as exc:
        raise CatalogueError(f"{_place(data, list(exc.absolute_path))}: {exc.message}") from None
    ids = [i["id"] for i in data["indicators"]]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogueError(f"indicators: duplicate ids {', '.join(duplicates)}")
    known = set(ids)
    for n, item in enumerate(data["indicators"]):
        where = f"indicators[{n}] ({item['id']})"
        if not item["id"].startswith(item["action_line"] + "-"):
            raise CatalogueError(f"{where}/action_line: {item['action_line']} does not match "
                                 f"the id {item['id']}")
        for key in ("baseline", "target"):
            anchor = item.get(key)
            if anchor is not None and not _has_texts(anchor):
                raise CatalogueError(f"{where}/{key}: give text_nl and text_en (or one text "
                                     "for both languages)")
        if item["type"] == "derived":
            sources = item.get("derived_from")
            if not sources:
                raise CatalogueError(f"{where}/derived_from: a derived indicator names the "
                                     "indicators it is calculated from")
            unknown = [s for s in sources if s not in known]
            if unknown:
                raise CatalogueError(f"{where}/derived_from: unknown indicators "
                                     f"{', '.join(unknown)}")


def load_file(path: Path = CATALOGUE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate(data)
    return data


class Catalogue:
    """Read-only view of one catalogue version's data."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.version: str = data["version"]

    @cached_property
    def indicators(self) -> dict[str, Mapping[str, Any]]:
        return {i["id"]: i for i in self.data["indicators"]}

    def get(self, indicator_id: str) -> Mapping[str, Any]:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise CatalogueError(f"unknown indicator {indicator_id!r} in catalogue "
                                 f"{self.version}") from None

    def for_action_line(self, action_line: str) -> list[Mapping[str, Any]]:
        return [i for i in self.data["indicators"] if i["action_line"] == action_line]
