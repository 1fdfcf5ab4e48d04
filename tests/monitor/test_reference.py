"""Published Dutch series (monitor.md §3) loaded as manual values, each with its source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import selectors, services
from zichtbaar.monitor.models import IndicatorValue, IndicatorVintage, Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> services.WriteReport:
    return services.reference_values_load()


def test_registered_victims_per_year_come_with_their_publication(loaded) -> None:  # type: ignore[no-untyped-def]
    latest = selectors.value_as_published("AL1-01", 2024, source="nr")
    assert latest is not None
    assert latest.value == Decimal(944) and latest.kind == Kind.MANUAL
    assert "Annual figures human trafficking 2024" in latest.publication
    assert latest.as_of == dt.date(2025, 10, 16)
    pub_2022 = selectors.value_as_published("AL1-01", 2022, source="nr")
    assert pub_2022 is not None and pub_2022.source_url.startswith(
        "https://www.dutchrapporteur.nl/latest/news/2023/10/18/")
    series = selectors.series_as_published("AL1-01", source="nr")
    assert [v.period.start.year for v in series] == [2007, 2011, 2014, 2015, 2016, 2017, 2018,
                                                     2019, 2020, 2021, 2022, 2023, 2024]
    press = selectors.value_as_published("AL1-01", 2016, source="nr")
    assert press is not None and "bij benadering" in press.note  # §3.1 says: confirm


def test_two_publishers_of_the_same_year_are_two_series_not_a_revision(loaded) -> None:  # type: ignore[no-untyped-def]
    nr = selectors.value_as_published("AL1-01", 2019, source="nr")
    comensha = selectors.value_as_published("AL1-01", 2019, source="comensha")
    assert (nr and nr.value, comensha and comensha.value) == (Decimal(1334), Decimal(1372))
    with pytest.raises(selectors.AmbiguousSeries, match="comensha, nr"):
        selectors.value_as_published("AL1-01", 2019)


def test_estimates_keep_their_interval_and_ckm_figures_their_definition(loaded) -> None:  # type: ignore[no-untyped-def]
    mse = selectors.value_as_published("AL1-18", 2019, source="mse")
    assert mse is not None
    assert (mse.value, mse.lower, mse.upper) == (Decimal(5000), Decimal(4000), Decimal(7000))
    assert "WODC" in mse.publication
    minors = selectors.value_as_published("AL3-02", (dt.date(2014, 1, 1), dt.date(2015, 12, 31)),
                                          source="mse")
    assert minors is not None and minors.value == Decimal(1320)
    visitors = selectors.value_as_published("AL3-03", 2021, source="ckm")
    victims = selectors.value_as_published("AL3-11", 2021, {"visitor_role": "victim"},
                                           source="ckm")
    assert (visitors and visitors.value, victims and victims.value) == (314, 285)
    convictions = selectors.value_as_published("AL1-11", 2013, {"measure": "convictions"},
                                               source="rechtspraak")
    assert convictions is not None and convictions.value == 156
    population = selectors.value_as_published("AL1-00", 2019, source="cbs")
    assert population is not None and population.value == 17282163
    assert "niet gedownload" in population.note and "controleren" in population.note


def test_every_reference_value_names_a_publication_and_a_date(loaded) -> None:  # type: ignore[no-untyped-def]
    vintages = IndicatorVintage.objects.all()
    assert vintages.count() == loaded.created > 70
    assert not vintages.filter(publication="").exists()
    assert not IndicatorValue.objects.exclude(kind=Kind.MANUAL).exists()
    approximate = IndicatorVintage.objects.filter(publication__startswith="CoMensha, Het beeld "
                                                  "van 2013").first()
    assert approximate is not None and "alleen op het jaar bekend" in approximate.note
    entry = AuditEntry.objects.get(event="monitor_reference_loaded")
    assert entry.detail == {"created": loaded.created, "unchanged": 0}


def test_loading_again_adds_nothing(loaded) -> None:  # type: ignore[no-untyped-def]
    again = services.reference_values_load()
    assert (again.created, again.unchanged) == (0, loaded.created)
    assert IndicatorVintage.objects.count() == loaded.created


def test_registered_victims_2014_revised_downwards_keep_every_vintage(loaded) -> None:  # type: ignore[no-untyped-def]
    history = selectors.vintages_of("AL1-01", 2014, source="nr")
    assert [(v.number, v.value, v.as_of) for v in history] == [
        (1, Decimal(1561), dt.date(2016, 9, 30)),
        (2, Decimal(1255), dt.date(2018, 10, 18)),
        (3, Decimal(1256), dt.date(2019, 10, 18)),
    ]
    assert "Naar beneden bijgesteld" in history[1].reason
    assert history[0].reason == "eerste publicatie"

    def on(day: dt.date) -> Decimal | None:
        found = selectors.value_as_published("AL1-01", 2014, source="nr", on=day)
        return found.value if found else None

    assert on(dt.date(2016, 9, 29)) is None  # not yet published
    assert on(dt.date(2016, 9, 30)) == 1561
    assert on(dt.date(2018, 10, 17)) == 1561
    assert on(dt.date(2018, 10, 18)) == 1255
    assert on(dt.date(2025, 1, 1)) == 1256
    assert selectors.value_as_published("AL1-01", 2014, source="nr").value == 1256  # type: ignore[union-attr]


def test_a_reworded_title_is_no_new_publication(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database loaded when a title was English keeps its values; loading the Dutch
    wording again (the old one in ``former_titles``) adds nothing."""
    old = services.REFERENCE_FILE.read_text(encoding="utf-8")
    english = "Press report quoting the Nationaal Rapporteur for 2016 (origo.hu, 2017)"
    dutch = "Nieuwsbericht met cijfers van de Nationaal Rapporteur over 2016 (origo.hu, 2017)"
    assert f'title: "{dutch}"' in old and english in old
    before = tmp_path / "before.yaml"
    before.write_text(old.replace(f'title: "{dutch}"', f'title: "{english}"'), encoding="utf-8")
    first = services.reference_values_load(reference=before)
    again = services.reference_values_load()
    assert (again.created, again.unchanged) == (0, first.created)
    press = selectors.value_as_published("AL1-01", 2016, source="nr")
    assert press is not None and press.publication == english  # stored values stay as stored


def test_our_own_descriptions_in_the_data_files_are_dutch() -> None:
    """Titles keep a publication's own name; what we wrote around it reads Dutch."""
    import re

    import yaml

    data = yaml.safe_load(services.REFERENCE_FILE.read_text(encoding="utf-8"))
    # English names the publications carry themselves stay as published.
    own_names = ("US Department of State, Trafficking in Persons Report", "Annual figures")
    texts = [p["title"] for p in data["publications"].values()
             if not any(name in p["title"] for name in own_names)]
    texts += [p.get("note", "") for p in data["publications"].values()]
    texts += [v.get(k, "") for s in data["series"] for v in s["values"] for k in ("note",
                                                                                  "reason")]
    english = re.compile(r"\b(?:the|and|with|as|by|quoting|figures|data|summary|press"
                         r"|January|August|October|November)\b")
    assert [t for t in texts if english.search(t)] == []
