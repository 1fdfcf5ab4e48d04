"""The indicator catalogue: seeded from the data file, complete, versioned, validated."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import catalogue as catalogue_mod
from zichtbaar.monitor import services
from zichtbaar.monitor.catalogue import CatalogueError
from zichtbaar.monitor.models import CatalogueVersion

pytestmark = pytest.mark.django_db

# monitor.md §2: the ids of every indicator per action line.
SECTION_2 = ([f"AL1-{n:02d}" for n in range(1, 18)] + [f"AL2-{n:02d}" for n in range(1, 10)]
             + [f"AL3-{n:02d}" for n in range(1, 10)] + [f"AL4-{n:02d}" for n in range(1, 8)]
             + [f"AL5-{n:02d}" for n in range(1, 7)])
FIELDS = ("id", "name_nl", "name_en", "definition", "numerator", "denominator", "unit",
          "dimensions", "source", "frequency", "type", "baseline", "target", "mapping",
          "disclosure_class", "action_line")


def _edited(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(catalogue_mod.load_file())
    data["version"] = "2026.3"
    for ident, fields in changes.items():
        item = next(i for i in data["indicators"] if i["id"] == ident.replace("_", "-"))
        item.update(fields)
    return data


def test_catalogue_is_seeded_from_the_file_with_every_section_2_indicator() -> None:
    row = services.current_catalogue()
    book = services.catalogue()
    assert row.version == "2026.2" and row.note == "seed"
    assert sorted(set(SECTION_2) - set(book.indicators)) == []
    for ident in SECTION_2:
        item = book.get(ident)
        assert all(name in item for name in FIELDS), ident
        assert item["action_line"] == ident[:3]
        assert not item.get("added"), f"{ident} is from §2, not added"
    assert len(book.for_action_line("AL1")) >= 17
    # Additions are marked, so §2's catalogue stays recognisable.
    added = {i for i, item in book.indicators.items() if item.get("added")}
    assert added == set(book.indicators) - set(SECTION_2)
    assert services.current_catalogue().pk == row.pk  # seeded once


def test_the_data_file_validates_against_its_json_schema() -> None:
    jsonschema.validate(catalogue_mod.load_file(), catalogue_mod.schema())


def test_derived_indicators_name_their_inputs() -> None:
    book = services.catalogue()
    assert book.get("AL1-02")["derived_from"] == ["AL1-01", "AL1-00"]
    assert book.get("AL1-03")["derived_from"] == ["AL1-01", "AL1-18"]
    assert book.get("AL1-02")["mapping"]["sdg"].startswith("16.2.2")


def test_an_edit_is_a_new_version_and_the_old_one_stays(admin) -> None:  # type: ignore[no-untyped-def]
    first = services.current_catalogue()
    data = _edited(AL1_06={"baseline": {"value": 120, "year": 2026, "text": "training log"}})
    second = services.catalogue_version_create(actor=admin, data=data, note="baseline AL1-06")
    assert services.current_catalogue() == second
    assert CatalogueVersion.objects.count() == 2
    first.refresh_from_db()
    assert next(i for i in first.data["indicators"]
                if i["id"] == "AL1-06")["baseline"] == {"text_nl": "geen cijfer gevonden",
                                                        "text_en": "not found"}
    assert services.catalogue().get("AL1-06")["baseline"]["value"] == 120
    entry = AuditEntry.objects.get(event="monitor_catalogue_created")
    assert entry.detail == {"version": "2026.3"} and entry.actor_id == admin.pk
    with pytest.raises(services.MonitorError) as again:
        services.catalogue_version_create(actor=admin, data=data)
    assert again.value.code == "version_exists"


@pytest.mark.parametrize(("changes", "message"), [
    ({"AL1_05": {"unit": "furlongs"}}, "indicators[5] (AL1-05)/unit: 'furlongs' is not one of"),
    ({"AL1_05": {"id": "AL1-04"}}, "duplicate ids AL1-04"),
    ({"AL1_05": {"action_line": "AL2"}}, "(AL1-05)/action_line: AL2 does not match the id"),
    ({"AL1_02": {"derived_from": ["AL9-99"]}}, "(AL1-02)/derived_from/0: 'AL9-99' does not match"),
    ({"AL1_03": {"derived_from": ["AL1-01", "AL4-99"]}},
     "(AL1-03)/derived_from: unknown indicators AL4-99"),
    ({"AL3_05": {"name_nl": ""}}, "(AL3-05)/name_nl: '' should be non-empty"),
])
def test_bad_data_is_refused_with_the_place_named(admin, changes, message) -> None:  # type: ignore[no-untyped-def]
    services.current_catalogue()
    with pytest.raises(CatalogueError) as refused:
        services.catalogue_version_create(actor=admin, data=_edited(**changes))
    assert message in str(refused.value)
    assert CatalogueVersion.objects.count() == 1  # only the seed


def test_every_baseline_and_target_of_the_file_is_bilingual() -> None:
    """Issue 14: the dashboard reads Dutch; prose numbers in Dutch notation (1.045, 7,7)."""
    for item in catalogue_mod.load_file()["indicators"]:
        for key in ("baseline", "target"):
            anchor = item[key]
            if anchor is None:
                continue
            assert anchor["text_nl"] and anchor["text_en"] and "text" not in anchor, item["id"]
    book = services.catalogue()
    assert book.get("AL1-07")["baseline"]["text_nl"] == "bijna verdubbeld tot 1.045 (2019)"
    assert "7,7 (2019)" in book.get("AL1-02")["baseline"]["text_nl"]


@pytest.mark.parametrize(("anchor", "nl", "en"), [
    ({"text_nl": "elke regio", "text_en": "every region"}, "elke regio", "every region"),
    ({"text": "trainingslog"}, "trainingslog", "trainingslog"),  # hand-edited: one text
    ({"text_nl": "elke regio", "text": "every region"}, "elke regio", "every region"),
    ({"value": 3}, "", ""),
    (None, "", ""),
])
def test_an_anchor_text_is_picked_for_the_language(anchor, nl, en) -> None:  # type: ignore[no-untyped-def]
    assert catalogue_mod.anchor_text(anchor, "nl") == nl
    assert catalogue_mod.anchor_text(anchor, "en") == en


def test_a_plain_text_is_accepted_but_one_language_alone_is_not(admin) -> None:  # type: ignore[no-untyped-def]
    services.current_catalogue()
    plain = _edited(AL1_06={"baseline": {"value": 120, "year": 2026, "text": "trainingslog"}})
    assert services.catalogue_version_create(actor=admin, data=plain).version == "2026.3"
    half = _edited(AL1_06={"baseline": {"value": 120, "text_nl": "trainingslog"}})
    half["version"] = "2026.4"
    with pytest.raises(CatalogueError, match=r"indicators\[6\] \(AL1-06\)/baseline: give "
                       r"text_nl and text_en \(or one text for both languages\)"):
        services.catalogue_version_create(actor=admin, data=half)


def test_a_derived_indicator_without_inputs_is_refused() -> None:
    data = _edited()
    item = next(i for i in data["indicators"] if i["id"] == "AL1-02")
    del item["derived_from"]
    with pytest.raises(CatalogueError, match=r"\(AL1-02\)/derived_from: a derived indicator"):
        catalogue_mod.validate(data)


def test_only_an_administrator_edits_the_catalogue(researcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(services.MonitorError) as refused:
        services.catalogue_version_create(actor=researcher, data=_edited())
    assert refused.value.code == "forbidden"
