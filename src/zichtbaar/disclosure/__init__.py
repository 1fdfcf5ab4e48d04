"""Disclosure control for every number that leaves the platform: primary suppression (``<T``),
secondary suppression by optimisation (``x``), base-5 rounding, percentages, and an audit that
computes every suppressed cell's feasible interval from the published table alone.

A pure library: it never imports Django. Names load lazily, so ``rules`` is cheap to import
where SciPy is not needed.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_CLASS": "rules", "RULES_VERSION": "rules", "DisclosureClass": "rules",
    "DisclosureRules": "rules", "InputError": "rules", "ProtectionError": "rules",
    "SECONDARY": "audit", "Audit": "audit", "audit_table": "audit", "primary_marker": "audit",
    "ProtectedTable": "primary", "is_sensitive": "primary", "percentage": "primary",
    "suppress_primary": "primary",
    "protect_table": "secondary",
    "round_table": "rounding", "round_to_base": "rounding",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zichtbaar.disclosure' has no attribute {name!r}")
    return getattr(importlib.import_module(f"zichtbaar.disclosure.{module}"), name)
