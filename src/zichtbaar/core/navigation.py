"""The navigation registry: each app registers its entries with the capability they need."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    capability: str
    order: int = 100
    # Organisation types the entry is for (None: every type). A capability is per role; some
    # parts only exist for one kind of organisation (a helpline's console for a care NGO).
    organisation_types: frozenset[str] | None = None

    def shown_to(self, organisation_type: str | None) -> bool:
        return self.organisation_types is None or organisation_type in self.organisation_types


_ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    if all(existing.url_name != item.url_name for existing in _ITEMS):
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: (i.order, i.url_name))


def items() -> tuple[NavItem, ...]:
    return tuple(_ITEMS)
