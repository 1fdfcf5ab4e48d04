"""Derived indicators: plain arithmetic on published values, so they are never typed by hand."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

PLACES = Decimal("0.000001")  # the precision of the value columns


def quantize(value: Decimal | int | float | str) -> Decimal:
    return Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def per_100k(count: Decimal, population: Decimal) -> Decimal:
    """SDG 16.2.2 shape: count / population × 100,000."""
    if population <= 0:
        raise ValueError("population must be positive")
    return quantize(count * 100_000 / population)


def visibility(registered: Decimal, estimate: Decimal, lower: Decimal | None,
               upper: Decimal | None) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """Registered / estimated; the interval turns over: registered/upper .. registered/lower."""
    if estimate <= 0:
        raise ValueError("estimate must be positive")
    low = quantize(registered / upper) if upper else None
    high = quantize(registered / lower) if lower else None
    return quantize(registered / estimate), low, high


def revision_size(revised: Decimal, original: Decimal) -> Decimal:
    """Percentage change from the first publisher's count to the cleaned count (AL5-04)."""
    if original <= 0:
        raise ValueError("original count must be positive")
    return quantize((revised - original) * 100 / original)
