"""The shipped lexicon loads, round-trips, carries evidence grades, and bad data is refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from zichtbaar.ads.lexicon import LEXICON_PATH, Lexicon, LexiconError, load_lexicon


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))


def test_shipped_lexicon_loads_with_version_and_grades():
    lexicon = load_lexicon()
    assert lexicon.version
    grades = {e.grade for e in lexicon.entries}
    assert {"A", "B", "B-", "C", "L"} <= grades
    assert lexicon["trust_language"].grade == "A"
    assert lexicon["obscured_phone"].detect == "derived"
    assert lexicon["image_reuse"].grade == "L"


def test_movement_words_are_present_but_weight_zero_with_a_reason():
    entry = load_lexicon()["movement_language"]
    assert entry.grade == "C" and entry.weight == 0 and entry.movement
    assert {"nieuw in de stad", "new in town", "alleen deze week"} <= set(entry.terms)
    assert "LESS likely" in entry.note


def test_round_trip_through_dict():
    lexicon = load_lexicon()
    again = Lexicon.from_dict(lexicon.to_dict())
    assert again == lexicon
    assert again.to_dict() == lexicon.to_dict()


def test_load_from_path(tmp_path: Path, raw: dict):
    data = copy.deepcopy(raw)
    data["version"] = "test-1"
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_lexicon(path).version == "test-1"


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["indicators"][0].update(grade="Z"), "'Z' is not one of"),
    (lambda d: d["indicators"][0].pop("label_nl"), "'label_nl' is a required property"),
    (lambda d: d["indicators"][0].update(patterns=["(unclosed"]), "not a valid regular"),
    (lambda d: d["indicators"][0].update(patterns=["a*"]), "matches empty text"),
    (lambda d: d["indicators"][1].update(id=d["indicators"][0]["id"]), "appears twice"),
    (lambda d: next(e for e in d["indicators"] if e["id"] == "movement_language")
     .update(weight=2.0), "weight must be 0"),
    (lambda d: d["indicators"][0].update(terms=[], patterns=[]), "needs at least one term"),
    (lambda d: d["indicators"][0].update(weight="heavy"), "is not of type 'number'"),
    (lambda d: d.update(extra=1), "Additional properties"),
])
def test_bad_lexicon_data_is_refused_with_a_clear_message(raw: dict, change, message):
    good = copy.deepcopy(raw)
    Lexicon.from_dict(good)  # the same setup is valid before the change
    change(good)
    with pytest.raises(LexiconError, match=message) as err:
        Lexicon.from_dict(good)
    if "indicators" in str(err.value) or err.value.entry:
        assert err.value.entry


def test_error_names_the_indicator(raw: dict):
    data = copy.deepcopy(raw)
    data["indicators"][0]["patterns"] = ["(bad"]
    with pytest.raises(LexiconError) as err:
        Lexicon.from_dict(data)
    assert "trust_language" in str(err.value) and "patterns" in str(err.value)


def test_unreadable_yaml_is_a_lexicon_error(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: [unclosed", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid YAML"):
        load_lexicon(path)
