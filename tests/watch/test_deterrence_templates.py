"""The pure reply choice against the real templates file, and the file's validation."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from zichtbaar.watch.decoys import (
    TEMPLATES_PATH,
    DeterrenceTemplateError,
    DeterrenceTemplates,
    choose_reply,
    load_templates,
    templates_from_dict,
)


@pytest.fixture(scope="module")
def templates() -> DeterrenceTemplates:
    return load_templates()


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(TEMPLATES_PATH.read_text(encoding="utf-8")))


def test_real_file_loads_with_one_default_and_categories_by_priority(
        templates: DeterrenceTemplates) -> None:
    ids = [c.id for c in templates.categories]
    assert ids == ["minor", "purchase", "neutral"]
    assert templates.default.id == "neutral"
    assert templates.version


@pytest.mark.parametrize(("message", "category", "minor_age"), [
    ("Hoi schat, hoe gaat het?", "neutral", False),
    ("", "neutral", False),
    ("Ben je 16?", "minor", True),
    ("BEN   JE\npas 15", "minor", True),
    ("ik zoek een meisje van 15 jaar", "minor", True),
    ("heb je een 16jr vriendin", "minor", True),
    ("een 15-jarige", "minor", True),
    ("zijn er minderjarige meiden", "minor", True),
    ("ik wil een jong meisje", "minor", True),
    ("schoolmeisje outfit?", "minor", True),
    ("looking for a 16 yo", "minor", True),
    ("are you 15?", "minor", True),
    ("leeftijd: 14", "minor", True),
    ("wat is je prijs", "purchase", False),
    ("Hoeveel voor een uur?", "purchase", False),
    ("kunnen we afspreken morgen", "purchase", False),
    ("kan ik langskomen", "purchase", False),
    ("is 150 euro goed", "purchase", False),
    ("how much for incall", "purchase", False),
    # The strongest category wins when several match.
    ("hoeveel voor een 15 jarige", "minor", True),
    ("prijs? ben je 17", "minor", True),
])
def test_message_chooses_its_category(templates: DeterrenceTemplates, message: str,
                                      category: str, minor_age: bool) -> None:
    choice = choose_reply(message, None, templates)
    assert (choice.category, choice.minor_age) == (category, minor_age)
    assert choice.template_id == f"{templates.version}:{category}"
    assert choice.reasons


@pytest.mark.parametrize("message", [
    "ik heb 15 jaar ervaring",
    "12 jaar geleden was ik hier",
    "kom om 16 uur",
    "ben je 16 uur vrij",
    "ben je 18?",
    "ik ben 45 jaar",
    "in 2015 jaar",
])
def test_numbers_that_are_not_a_minor_age_do_not_count_as_one(
        templates: DeterrenceTemplates, message: str) -> None:
    choice = choose_reply(message, None, templates)
    assert choice.category != "minor"
    assert choice.minor_age is False


def test_minor_persona_always_gets_the_strongest_warning(templates: DeterrenceTemplates) -> None:
    for message in ("hoi", "wat is je prijs"):
        choice = choose_reply(message, 15, templates)
        assert choice.category == "minor"
        assert choice.reasons[-1] == "persona_under:18"
        # The flag counts what the message showed, not the persona.
        assert choice.minor_age is False
    assert choose_reply("hoi", 18, templates).category == "neutral"
    assert choose_reply("hoi", 24, templates).category == "neutral"


def test_minor_age_flag_is_kept_when_the_persona_already_chose_minor(
        templates: DeterrenceTemplates) -> None:
    choice = choose_reply("ben je echt 15?", 15, templates)
    assert choice.category == "minor"
    assert choice.minor_age is True


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_reply_says_it_is_no_real_profile_and_fills_its_placeholders(
        templates: DeterrenceTemplates, language: str) -> None:
    marker = {"nl": "geen echt profiel", "en": "not a real profile"}[language]
    for category in templates.categories:
        text = templates.render(category, language)
        assert marker in text
        assert "{" not in text and "}" not in text
    minor = templates.render(templates.category("minor"), language)  # type: ignore[arg-type]
    assert templates.resources["help"][language] in minor
    assert templates.resources["report"][language] in minor
    assert "18" in minor and "112" in minor


def test_unknown_language_falls_back_to_dutch(templates: DeterrenceTemplates) -> None:
    assert "geen echt profiel" in templates.render(templates.default, "de")


# --- validation: every error names the entry ------------------------------------------------

def _minor(raw: dict[str, Any]) -> dict[str, Any]:
    return raw["categories"][0]


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: _minor(r)["patterns"].append("(unclosed"),
     "categories[0] (minor).patterns[4]: invalid regular expression"),
    (lambda r: r["categories"][1].update(id="minor"), "category id 'minor' is used twice"),
    (lambda r: r["categories"][1]["reply"].update(id="minor"), "reply id 'minor' is used twice"),
    (lambda r: r["categories"][2].update(default=False, terms=["hoi"]), "exactly one category needs default: true"),
    (lambda r: _minor(r).update(default=True), "exactly one category needs default: true"),
    (lambda r: _minor(r)["reply"].update(nl="Bel {hulplijn}"), "unknown or malformed placeholder"),
    (lambda r: _minor(r)["reply"].pop("en"), "categories[0] (minor).reply.en: a non-empty text"),
    (lambda r: _minor(r)["reply"].update(de="Hallo"), "unknown language(s) ['de']"),
    (lambda r: _minor(r).update(priority="hoog"), "priority: must be a whole number"),
    (lambda r: _minor(r).update(priority=0), "two categories share a priority"),
    (lambda r: _minor(r).update(terms="minderjarig"), "terms: must be a list"),
    (lambda r: _minor(r).update(persona_under=True), "persona_under: must be an age"),
    (lambda r: _minor(r).update(colour="red"), "unknown key(s) ['colour']"),
    (lambda r: r["categories"][1].update(terms=[], patterns=[]), "matches nothing"),
    (lambda r: r["resources"].pop("help"), "resources.help: must map each language"),
    (lambda r: r.update(version=""), "version: must be a short text"),
    (lambda r: r.update(categories=[]), "categories: must be a non-empty list"),
])
def test_invalid_templates_are_refused_with_a_clear_message(raw: dict[str, Any], change: Any,
                                                            message: str) -> None:
    change(raw)
    with pytest.raises(DeterrenceTemplateError) as caught:
        templates_from_dict(raw, source="deterrence.yaml")
    assert str(caught.value).startswith("deterrence.yaml: ")
    assert message in str(caught.value)


def test_unchanged_copy_is_valid(raw: dict[str, Any]) -> None:
    assert templates_from_dict(raw).version == raw["version"]


def test_a_file_that_is_not_yaml_or_missing_names_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("categories: [unclosed", encoding="utf-8")
    with pytest.raises(DeterrenceTemplateError, match=re.escape("broken.yaml: not valid YAML")):
        load_templates(broken)
    with pytest.raises(DeterrenceTemplateError, match=re.escape("missing.yaml: cannot be read")):
        load_templates(tmp_path / "missing.yaml")
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(DeterrenceTemplateError, match=re.escape("list.yaml: top level")):
        load_templates(not_mapping)
