"""Versioned indicator lexicon with an evidence grade per indicator.

The lexicon is data (``data/lexicon.yaml``), not code, because analysts and admins change it
through the web and every score must name the lexicon version it used. Grades come from
``shared/research/online.md`` §3; C and D grades are shown but never scored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"
LEXICON_PATH = DATA / "lexicon.yaml"
SCHEMA_PATH = DATA / "lexicon.schema.json"

GRADES = ("A", "B", "B-", "C", "D", "L")
DETECTS = ("text", "derived", "linkage")
#: Grades that may never add to a score: evidence says they are not (or inversely) predictive.
UNSCORED_GRADES = frozenset({"C", "D"})
#: Default weight per grade when an entry gives none; a transparent ordering, not a fit.
GRADE_WEIGHTS: Mapping[str, float] = {"A": 3.0, "B": 1.5, "B-": 0.75, "C": 0.0, "D": 0.0,
                                      "L": 2.0}


class LexiconError(ValueError):
    """Bad lexicon data, with a message an admin can act on (entry id and field)."""

    def __init__(self, message: str, *, entry: str | None = None, field: str | None = None):
        where = " ".join(p for p in (f"indicator {entry!r}" if entry else "",
                                     f"field {field!r}" if field else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.entry = entry
        self.field = field


@dataclass(frozen=True)
class LexiconEntry:
    """One indicator: what to look for, how much it counts and why."""

    id: str
    label_nl: str
    label_en: str
    grade: str
    weight: float
    terms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    emoji: tuple[str, ...] = ()
    note: str = ""
    movement: bool = False
    detect: str = "text"
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "label_nl": self.label_nl,
                               "label_en": self.label_en, "grade": self.grade,
                               "weight": self.weight, "detect": self.detect}
        if self.movement:
            out["movement"] = True
        for name in ("sources", "terms", "patterns", "emoji"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon; build with :func:`load_lexicon` or :meth:`from_dict`."""

    version: str
    entries: tuple[LexiconEntry, ...]
    _by_id: Mapping[str, LexiconEntry] = field(default_factory=dict, repr=False, compare=False,
                                               hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def get(self, indicator: str) -> LexiconEntry | None:
        return self._by_id.get(indicator)

    def __getitem__(self, indicator: str) -> LexiconEntry:
        return self._by_id[indicator]

    def __contains__(self, indicator: object) -> bool:
        return indicator in self._by_id

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lexicon:
        """Validate (JSON schema, then meaning) and build; raises :class:`LexiconError`."""
        _check_schema(data)
        entries = []
        seen: set[str] = set()
        for raw in data["indicators"]:
            entry = _entry(raw)
            if entry.id in seen:
                raise LexiconError("appears twice; ids must be unique", entry=entry.id)
            seen.add(entry.id)
            entries.append(entry)
        return cls(version=str(data["version"]), entries=tuple(entries))

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "indicators": [e.to_dict() for e in self.entries]}

    @cached_property
    def matcher(self) -> _Matcher:
        """Compiled text matcher, built once per lexicon (used by ``indicators``)."""
        return _Matcher(self.entries)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and validate a lexicon file; the shipped ``data/lexicon.yaml`` when ``path`` is None."""
    source = Path(path) if path is not None else LEXICON_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LexiconError(f"{source.name} is not valid YAML: {exc}") from exc
    except OSError as exc:
        raise LexiconError(f"cannot read {source}: {exc.strerror}") from exc
    if not isinstance(data, Mapping):
        raise LexiconError(f"{source.name} must hold a mapping with 'version' and 'indicators'")
    return Lexicon.from_dict(data)


def _check_schema(data: Mapping[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema ships with the dev environment
        _hand_check(data)
        return
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = list(err.absolute_path)
        entry = None
        if len(path) >= 2 and path[0] == "indicators" and isinstance(path[1], int):
            raw = data["indicators"][path[1]]
            entry = raw.get("id") if isinstance(raw, Mapping) else None
            entry = entry or f"#{path[1] + 1}"
        field_name = ".".join(str(p) for p in path[2:]) or None
        raise LexiconError(err.message, entry=entry, field=field_name)


def _hand_check(data: Mapping[str, Any]) -> None:
    """The schema's essentials, for environments without jsonschema."""
    if not isinstance(data.get("version"), str) or not data["version"]:
        raise LexiconError("'version' must be a non-empty string")
    items = data.get("indicators")
    if not isinstance(items, list) or not items:
        raise LexiconError("'indicators' must be a non-empty list")
    for n, raw in enumerate(items, 1):
        if not isinstance(raw, Mapping):
            raise LexiconError("must be a mapping", entry=f"#{n}")
        for key in ("id", "label_nl", "label_en", "grade", "weight"):
            if key not in raw:
                raise LexiconError(f"'{key}' is a required property", entry=raw.get("id", f"#{n}"))
        if raw["grade"] not in GRADES:
            raise LexiconError(f"must be one of {', '.join(GRADES)}", entry=raw["id"],
                               field="grade")
        if not isinstance(raw["weight"], int | float) or isinstance(raw["weight"], bool):
            raise LexiconError("must be a number", entry=raw["id"], field="weight")
        for key in ("terms", "patterns", "emoji", "sources"):
            if key in raw and not (isinstance(raw[key], list)
                                   and all(isinstance(s, str) and s for s in raw[key])):
                raise LexiconError("must be a list of non-empty strings", entry=raw["id"],
                                   field=key)


def _entry(raw: Mapping[str, Any]) -> LexiconEntry:
    ident = raw["id"]
    grade = raw["grade"]
    weight = float(raw["weight"])
    detect = raw.get("detect", "text")
    if grade in UNSCORED_GRADES and weight != 0:
        raise LexiconError(f"grade {grade} is not predictive, so its weight must be 0 "
                           f"(got {weight:g})", entry=ident, field="weight")
    if (grade == "L") != (detect == "linkage"):
        raise LexiconError("grade L and detect 'linkage' go together", entry=ident,
                           field="detect")
    terms = tuple(" ".join(t.split()) for t in raw.get("terms", ()))
    patterns = tuple(raw.get("patterns", ()))
    emoji = tuple(raw.get("emoji", ()))
    if detect == "text" and not (terms or patterns or emoji):
        raise LexiconError("a text indicator needs at least one term, pattern or emoji",
                           entry=ident)
    if detect != "text" and (terms or patterns or emoji):
        raise LexiconError(f"a {detect} indicator is computed, it cannot list terms",
                           entry=ident)
    for pattern in patterns:
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise LexiconError(f"pattern {pattern!r} is not a valid regular expression: {exc}",
                               entry=ident, field="patterns") from exc
        if compiled.match(""):
            raise LexiconError(f"pattern {pattern!r} matches empty text", entry=ident,
                               field="patterns")
    return LexiconEntry(id=ident, label_nl=raw["label_nl"], label_en=raw["label_en"],
                        grade=grade, weight=weight, terms=terms, patterns=patterns, emoji=emoji,
                        note=" ".join(str(raw.get("note", "")).split()),
                        movement=bool(raw.get("movement", False)), detect=detect,
                        sources=tuple(raw.get("sources", ())))


class _Matcher:
    """One alternation for all terms (longest first), plus patterns and emoji."""

    def __init__(self, entries: Sequence[LexiconEntry]) -> None:
        self.term_owner: dict[str, str] = {}
        for entry in entries:
            for term in entry.terms:
                self.term_owner.setdefault(_fold(term), entry.id)
        # A trie-shaped alternation: the regex engine tries one branch per character instead
        # of every term at every word start (≈10x faster on ad-length texts).
        trie: dict[str, Any] = {}
        for term in self.term_owner:
            node = trie
            for char in term:
                node = node.setdefault(char, {})
            node[""] = {}
        body = _trie_regex(trie)
        # Word boundaries that also work next to "%", "/" and apostrophes inside terms.
        self.terms = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE) if trie else None
        self.patterns = [(e.id, re.compile(p, re.IGNORECASE))
                         for e in entries for p in e.patterns]
        self.emoji: dict[str, str] = {}
        for entry in entries:
            for emo in entry.emoji:
                self.emoji.setdefault(emo.replace("\ufe0f", ""), entry.id)
        self.emoji_re = (re.compile("|".join(re.escape(e) for e in
                                             sorted(self.emoji, key=len, reverse=True)))
                         if self.emoji else None)


def _trie_regex(node: Mapping[str, Any]) -> str:
    """Regex for the words stored in a character trie; longer continuations are tried first."""
    branches = []
    for char in sorted((c for c in node if c), reverse=True):
        if char == " ":
            head = r"\s+"
        elif char in "'’":
            head = "['’]"
        else:
            head = re.escape(char)
        branches.append(head + _trie_regex(node[char]))
    if not branches:
        return ""
    optional = "" in node
    if len(branches) == 1 and not optional:
        return branches[0]
    return "(?:" + "|".join(branches) + ")" + ("?" if optional else "")


def _fold(term: str) -> str:
    return " ".join(term.casefold().replace("’", "'").split())
