"""Demo: the catalogue, the published Dutch series with their sources, derived indicators, and
the platform's own figures for this year from the other parts' demo data.

So that a coordinator sees trends rather than one year, the demo also writes **synthetic**
history: the figures the platform would have computed in 2019 … last year (through
``services.values_store``, as the platform), and series for indicators that have no public
figures yet, entered under the source ``demo`` with a publication that says they are not real.
Everything comes from one seeded generator, so every demo run gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Mapping, Sequence

from django.utils import timezone

from . import services
from .compute import Row
from .dashboard_forms import REGIONS
from .models import IndicatorValue

SEED = 2026
FIRST_YEAR = 2019
DEMO_SOURCE = "demo"
DEMO_PUBLICATION = "Synthetische demoreeks – geen echte cijfers (synthetic demo series)"
HELPLINE, DESK, RESEARCH = "Hulplijn Demo", "Meldpunt Demo", "Onderzoek Demo"
PARTNERS = {"Politie AVIM Demo": 0.45, "Arbeidsinspectie Demo": 0.2,
            "Veilig Thuis Demo": 0.15, "Gemeente Zorgcoördinatie Demo": 0.2}
CHANNELS = {"public_form": 0.22, "professional": 0.3, "api": 0.18, "helpline": 0.2,
            "online": 0.1}
OUTCOMES = {"case_opened": 0.3, "victim_in_care": 0.25, "referred_on": 0.2,
            "no_action": 0.12, "other": 0.05, "pending": 0.08}
# Registered victims by form: sexual falls, labour and criminal exploitation rise (NR trend).
FORM_SHARES = {2019: (0.56, 0.27, 0.1, 0.07), 2025: (0.44, 0.31, 0.19, 0.06)}
# Share of the population (and roughly of registrations) per police unit.
REGION_SHARES = (0.10, 0.17, 0.12, 0.07, 0.06, 0.11, 0.13, 0.07, 0.09, 0.08)


def load(progress: Callable[[str], None]) -> list[dict[str, str]]:
    services.current_catalogue()
    loaded = services.reference_values_load()
    progress(f"monitor: {loaded.created} reference values ({loaded.unchanged} already there)")
    history = platform_history_load(progress)
    synthetic = synthetic_series_load()
    computed = services.values_compute(timezone.localdate().year)
    derived = services.values_derive()
    progress(f"monitor: {history} synthetic platform values for {FIRST_YEAR}–last year, "
             f"{synthetic} synthetic demo-series values")
    progress(f"monitor: {computed.created} computed, {derived.created} derived values")
    return []


def _organisations() -> dict[str, int]:
    from zichtbaar.accounts.models import Organisation

    names = [HELPLINE, DESK, RESEARCH, *PARTNERS]
    return dict(Organisation.objects.filter(name__in=names).values_list("name", "pk"))


def _organisation_type(pk: int) -> str:
    from zichtbaar.accounts.models import Organisation

    return str(Organisation.objects.get(pk=pk).type)


def _years() -> range:
    return range(FIRST_YEAR, timezone.localdate().year)


def _not_after_today(day: dt.date) -> dt.date:
    return min(day, timezone.localdate())


def _split(total: int, shares: Mapping[str, float], rng: random.Random) -> dict[str, int]:
    """Whole numbers per category that add up to ``total``, with a little noise."""
    weights = {k: max(w * rng.uniform(0.85, 1.15), 0.0) for k, w in shares.items()}
    scale = total / (sum(weights.values()) or 1)
    out = {k: int(w * scale) for k, w in weights.items()}
    first = next(iter(out))
    out[first] += total - sum(out.values())
    return out


def _trend(rng: random.Random, start: float, growth: float, noise: float,
           years: Sequence[int]) -> Iterator[tuple[int, float]]:
    value = start
    for year in years:
        yield year, value * rng.uniform(1 - noise, 1 + noise)
        value *= 1 + growth


def platform_rows(year: int, orgs: Mapping[str, int], rng: random.Random) -> list[Row]:
    """What ``compute.all_rows`` would have returned for a year of a busier platform."""
    t = year - FIRST_YEAR
    rows: list[Row] = []
    helpline = orgs.get(HELPLINE)
    if helpline is not None:
        visitors = round(2300 * 1.06 ** t * rng.uniform(0.95, 1.05))
        asking = round(300 * 1.035 ** t * rng.uniform(0.92, 1.08))
        rows += [Row("AL3-10", {}, visitors, helpline, "helpline"),
                 Row("AL3-03", {}, asking, helpline, "helpline")]
        roles = _split(asking, {"victim": 0.86, "reporter": 0.11, "unknown": 0.03}, rng)
        rows += [Row("AL3-11", {"visitor_role": r}, n, helpline, "helpline")
                 for r, n in roles.items()]
        victims = roles["victim"]

        def share(indicator: str, dims: Mapping[str, str], pct: float) -> Row:
            part = round(victims * min(max(pct * rng.uniform(0.93, 1.07), 0), 100) / 100)
            return Row(indicator, dims, round(100 * part / victims, 6), helpline, "helpline",
                       numerator=part, denominator=victims)

        rows += [share("AL3-04", {}, 14 + 0.4 * t), share("AL3-05", {}, 66 - 0.8 * t),
                 share("AL3-06", {"duration": "1y_plus"}, 52),
                 share("AL3-06", {"duration": "5y_plus"}, 23),
                 share("AL3-12", {"form": "sexual"}, 91 - 1.6 * t),
                 share("AL3-12", {"form": "criminal"}, 4 + 1.3 * t),
                 share("AL3-12", {"form": "labour"}, 3 + 0.3 * t),
                 share("AL3-13", {}, 64 - 0.5 * t), share("AL3-13", {"age_band": "<=15"}, 22)]
    desk = orgs.get(DESK)
    if desk is not None:
        signals = round(850 * 1.14 ** t * rng.uniform(0.94, 1.06))
        rows += [Row("AL1-19", {"channel": c}, n, desk, "hub")
                 for c, n in _split(signals, CHANNELS, rng).items()]
        handed = round(signals * rng.uniform(0.62, 0.7))
        rows.append(Row("AL1-22", {}, round(46 * 0.9 ** t * rng.uniform(0.9, 1.1), 1), desk,
                        "hub", denominator=handed, note="synthetische demogeschiedenis"))
        for name, n in _split(handed, PARTNERS, rng).items():
            partner = orgs.get(name)
            if partner is None:
                continue
            kind = _organisation_type(partner)
            rows.append(Row("AL1-20", {"partner_type": kind}, n, partner, "hub"))
            rows += [Row("AL1-21", {"outcome": o}, k, partner, "hub")
                     for o, k in _split(n, OUTCOMES, rng).items()]
        contacts = round(40 * 1.2 ** t * rng.uniform(0.9, 1.1))
        rows += [Row("AL3-14", {"measure": "contacts"}, contacts, desk, "watch"),
                 Row("AL3-14", {"measure": "returning"}, round(contacts * 0.3), desk, "watch"),
                 Row("AL3-14", {"measure": "minor_age"}, round(contacts * 0.12), desk,
                     "watch")]
    research = orgs.get(RESEARCH)
    if research is not None:
        value = round(5000 * 1.02 ** t * rng.uniform(0.94, 1.06))
        rows.append(Row("AL1-18", {}, value, research, "estimate", lower=round(value * 0.8),
                        upper=round(value * 1.4), note="synthetische demogeschiedenis"))
    return rows


def platform_history_load(progress: Callable[[str], None]) -> int:
    """Synthetic platform figures for the years before this one (once)."""
    orgs = _organisations()
    if not orgs:
        progress("monitor: accounts demo missing, no platform history")
        return 0
    if IndicatorValue.objects.filter(source="platform",
                                     period_start=dt.date(FIRST_YEAR, 1, 1)).exists():
        return 0
    rng = random.Random(SEED)
    created = 0
    for year in _years():
        # Computed shortly after the year ended, as the scheduled job would have.
        report = services.values_store(platform_rows(year, orgs, rng), year,
                                       as_of=_not_after_today(dt.date(year + 1, 1, 15)))
        created += report.created
    return created


def _demo_values(rng: random.Random) -> Iterator[tuple[str, int, dict[str, str], float]]:
    """(indicator, year, dims, value) of the synthetic demo series."""
    years = list(_years())
    registered = dict(_trend(rng, 1330, -0.03, 0.06, years))
    span = max(len(years) - 1, 1)
    for n, (year, total) in enumerate(registered.items()):
        a, b = FORM_SHARES[2019], FORM_SHARES[2025]
        shares = {f: a[i] + (b[i] - a[i]) * n / span
                  for i, f in enumerate(("sexual", "labour", "criminal", "other"))}
        for form, count in _split(round(total), shares, rng).items():
            yield "AL1-01", year, {"form": form}, count
        regional = _split(round(total), dict(zip([r for r, _l in REGIONS], REGION_SHARES,
                                                 strict=True)), rng)
        for region, count in regional.items():
            yield "AL1-01", year, {"region": region}, count
        for (region, _label), weight in zip(REGIONS, REGION_SHARES, strict=True):
            yield "AL1-00", year, {"region": region}, round(17_400_000 * 1.006 ** n * weight)
    for year, value in _trend(rng, 470, 0.045, 0.05, years):
        yield "AL2-01", year, {}, round(value)
    for year, value in _trend(rng, 104, 0.07, 0.06, years):
        yield "AL2-03", year, {}, round(value)
    for n, year in enumerate(years):
        yield "AL4-01", year, {}, round(min(97.0, 35 + 60 * (1 - 0.72 ** n)), 1)
        yield "AL4-03", year, {}, min(35, 30 + n)
        yield "AL5-01", year, {}, round(rng.uniform(9.0, 10.5), 1)
        for measure, start in (("age", 6.0), ("nationality", 11.0), ("form", 4.0)):
            yield "AL5-02", year, {"measure": measure}, round(start * 0.9 ** n
                                                              * rng.uniform(0.9, 1.1), 1)


def synthetic_series_load() -> int:
    """Series the demo needs but no public source has: clearly labelled as synthetic."""
    if IndicatorValue.objects.filter(source=DEMO_SOURCE).exists():
        return 0
    rng = random.Random(SEED + 1)
    count = 0
    for indicator, year, dims, value in _demo_values(rng):
        services.value_enter(
            actor=None, indicator_id=indicator, period=year, dims=dims, value=value,
            source=DEMO_SOURCE, provenance=services.Provenance(
                publication=DEMO_PUBLICATION,
                as_of=_not_after_today(dt.date(year + 1, 10, 1)),
                note="Synthetisch: gemaakt door zichtbaar.monitor.demo, alleen voor de demo."))
        count += 1
    return count
