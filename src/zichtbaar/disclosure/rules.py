"""Disclosure rules as data: thresholds per disclosure class, with a version on every result.

Defaults follow ``research/monitor.md`` §6.2: counts 1..4 are shown as ``<5`` in national
tables; sub-national tables, tables with three or more dimensions and anything about minors
use 10. Percentages need a denominator of at least 20 (30 for sub-groups of minors). The protection
width is how wide a suppressed cell's feasible interval must stay (see ``audit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULT_CLASS", "RULES_VERSION", "DisclosureClass", "DisclosureRules",
           "InputError", "ProtectionError"]

RULES_VERSION = "disclosure-2026-1"
DEFAULT_CLASS = "national"


class InputError(ValueError):
    """Input the caller has to fix; ``row`` (1-based) and ``column`` point at it when known."""

    def __init__(self, code: str, message: str, *, row: int | None = None,
                 column: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row
        self.column = column
        self.details = dict(details)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "row": self.row,
                "column": self.column, **self.details}


class ProtectionError(RuntimeError):
    """No suppression pattern protects the table; nothing may be published.

    ``cell`` is (row, column) in the table with totals (the last index is the total)."""

    def __init__(self, message: str, cell: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.cell = cell


@dataclass(frozen=True)
class DisclosureClass:
    """One kind of table and how strictly it is protected."""

    name: str
    threshold: int
    min_denominator: int = 20
    description: str = ""
    protection_width: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) \
                or self.threshold < 2:
            raise InputError("bad_threshold",
                             f"Threshold of class {self.name!r} must be a whole number >= 2, "
                             f"not {self.threshold!r}.")
        if isinstance(self.protection_width, bool) or not isinstance(self.protection_width, int) \
                or self.protection_width < 1:
            raise InputError("bad_protection",
                             f"Protection width of class {self.name!r} must be a whole "
                             "number >= 1.")
        if self.min_denominator < 1:
            raise InputError("bad_denominator",
                             f"Minimum denominator of class {self.name!r} must be >= 1.")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold,
                "min_denominator": self.min_denominator, "description": self.description,
                "protection_width": self.protection_width}


def _default_classes() -> dict[str, DisclosureClass]:
    return {c.name: c for c in (
        DisclosureClass("national", 5, 20, "National tables (public release level)."),
        DisclosureClass("subnational", 10, 20,
                        "Police units, KMar districts, regions, municipalities."),
        DisclosureClass("minors", 10, 30, "Any cell about minors."),
        DisclosureClass("multidimensional", 10, 20, "Tables with three or more dimensions."),
    )}


@dataclass(frozen=True)
class DisclosureRules:
    """The rule set in force; ``version`` is stored on every protected table it produced."""

    version: str = RULES_VERSION
    classes: Mapping[str, DisclosureClass] = field(default_factory=_default_classes)
    default_class: str = DEFAULT_CLASS

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", MappingProxyType(dict(self.classes)))
        if self.default_class not in self.classes:
            raise InputError("unknown_class",
                             f"Default class {self.default_class!r} is not among the classes.")

    def for_class(self, name: str | None = None) -> DisclosureClass:
        """The class ``name`` (the default class when None); unknown names are an error,
        never a silent fallback to a laxer threshold."""
        key = self.default_class if name is None else name
        try:
            return self.classes[key]
        except KeyError:
            known = ", ".join(sorted(self.classes))
            raise InputError("unknown_class",
                             f"Unknown disclosure class {key!r}; known: {known}.") from None

    def threshold(self, name: str | None = None) -> int:
        return self.for_class(name).threshold

    def with_threshold(self, name: str | None, threshold: int) -> DisclosureRules:
        """A copy where class ``name`` uses ``threshold``; the version says so when it differs,
        so a table made with an analyst's own threshold is never mistaken for the standard."""
        cls = self.for_class(name)
        if threshold == cls.threshold:
            return self
        new = DisclosureClass(cls.name, threshold, cls.min_denominator, cls.description,
                              cls.protection_width)
        classes = {**self.classes, cls.name: new}
        return DisclosureRules(f"{self.version}+{cls.name}.T{threshold}", classes,
                               self.default_class)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "default_class": self.default_class,
                "classes": [c.to_dict() for c in self.classes.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DisclosureRules:
        try:
            classes = {c["name"]: DisclosureClass(
                str(c["name"]), c["threshold"], int(c.get("min_denominator", 20)),
                str(c.get("description", "")), int(c.get("protection_width", 1)))
                for c in data["classes"]}
            return cls(str(data["version"]), classes,
                       str(data.get("default_class", DEFAULT_CLASS)))
        except (KeyError, TypeError) as exc:
            raise InputError("bad_rules", f"Disclosure rules are incomplete: {exc}.") from None
