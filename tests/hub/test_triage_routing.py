"""The real codebook and routing files against fixture facts, with explanations asserted."""

from __future__ import annotations

import copy

import pytest

from zichtbaar.hub import codebook, routing, triage


@pytest.fixture(scope="module")
def book() -> codebook.Codebook:
    return codebook.Codebook(codebook.load_file())


@pytest.fixture(scope="module")
def rules() -> list:
    return routing.load_file()["rules"]


def decide(rules, indicators=(), forms=(), minor=None):  # type: ignore[no-untyped-def]
    return {d.partner_type: d.rules for d in
            routing.decide(triage.facts_from(indicators, forms, minor), rules)}


def test_codebook_file_is_valid_and_covers_every_dimension(book) -> None:  # type: ignore[no-untyped-def]
    groups = {g["code"] for g in book.data["groups"]}
    assert {"urgency", "ilo", "nl_signals", "criminal_minors", "vulnerability"} <= groups
    assert {"sexual", "labour", "criminal", "other"} == set(book.forms)
    assert len([i for i in book.indicators if i.startswith("FL")]) == 11
    assert book.data["recruitment_methods"] and book.data["recruiter_relations"]
    for indicator in book.indicators.values():
        assert indicator.label["nl"] and indicator.label["en"]
        if indicator.question:
            assert indicator.question["nl"].endswith("?")


def test_invalid_codebook_is_refused_with_the_place(book) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(book.data)
    data["groups"][1]["indicators"][0]["weight"] = "huge"
    with pytest.raises(codebook.CodebookError, match="groups/1/indicators/0/weight"):
        codebook.validate(data)
    data = copy.deepcopy(book.data)
    data["groups"][0]["indicators"].append(dict(data["groups"][1]["indicators"][0]))
    with pytest.raises(codebook.CodebookError, match="duplicate"):
        codebook.validate(data)


def test_score_explains_which_indicators_produced_it(book) -> None:  # type: ignore[no-untyped-def]
    result = triage.score(triage.facts_from(["FL07", "FL11", "NS06"]), book)
    assert result.score == 3 + 1 + 2
    assert [(c.code, c.weight, c.points) for c in result.contributions] == [
        ("FL07", "strong", 3), ("NS06", "medium", 2), ("FL11", "weak", 1)]
    assert result.band == "elevated" and not result.urgent
    assert result.implied_forms == {"labour"}
    assert result.explanation()["contributions"][0] == {"code": "FL07", "weight": "strong",
                                                         "points": 3}


def test_any_single_weak_indicator_still_scores_and_is_never_dropped(book) -> None:  # type: ignore[no-untyped-def]
    result = triage.score(triage.facts_from(["VU02"]), book)
    assert result.score == 1 and result.band == "normal"
    assert result.target_hours == book.triage["target_hours"]["normal"]


@pytest.mark.parametrize(("facts", "reasons"), [
    ({"indicators": ["UR01"]}, ("UR01",)),
    ({"indicators": ["UR02", "FL03"]}, ("UR02",)),
    ({"indicators": ["VU01"], "minor": True}, ("minor",)),
])
def test_urgency_rules(book, facts, reasons) -> None:  # type: ignore[no-untyped-def]
    result = triage.score(triage.facts_from(**facts), book)
    assert result.urgent and result.urgency_reasons == reasons
    assert result.band == "urgent" and result.target_hours == 4


def test_minor_in_sexual_exploitation_routes_to_police_and_veilig_thuis(rules) -> None:  # type: ignore[no-untyped-def]
    decided = decide(rules, forms=["sexual"], minor=True)
    assert set(decided) == {"police", "veilig_thuis"}
    assert decided["veilig_thuis"] == ("minor-sexual",)
    assert "veilig_thuis" not in decide(rules, forms=["sexual"], minor=False)


def test_labour_exploitation_routes_to_the_labour_inspectorate(rules) -> None:  # type: ignore[no-untyped-def]
    assert decide(rules, forms=["labour"], minor=False) == {"labour_inspectorate": ("labour",)}


def test_care_need_of_an_adult_goes_to_the_care_coordinator(rules) -> None:  # type: ignore[no-untyped-def]
    assert "municipality" in decide(rules, indicators=["VU06"], minor=False)
    assert decide(rules, indicators=["FL11"], minor=False) == {}


def test_invalid_routing_rules_are_refused(rules) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(routing.RoutingRulesError, match="rules/0/to/0"):
        routing.validate({"version": "x", "rules": [{**rules[0], "to": ["nobody"]}]})
