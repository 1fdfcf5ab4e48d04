"""The free-text matcher on its own (no Django) and with the real codebook keyword lists."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zichtbaar.hub import codebook, suggest

LEXICON = {
    "FL07": ["paspoort ingenom*", "paspoort innem*", "neemt paspoort in", "passport taken"],
    "FL09": ["schuld groeit"],
    "minor": [r"re:\b(1[0-7]) ?jaar\b"],
}


@pytest.fixture(scope="module")
def lexicon() -> dict[str, list[str]]:
    return codebook.Codebook(codebook.load_file()).lexicon()


def codes(text: str, lex: dict[str, list[str]]) -> list[str]:
    return [s.code for s in suggest.find(text, lex)]


def marked(text: str, lex: dict[str, list[str]], code: str) -> list[str]:
    item = next(s for s in suggest.find(text, lex) if s.code == code)
    return [text[a:b] for m in item.matches for a, b in m.spans]


@pytest.mark.parametrize("text", [
    "paspoorten ingenomen",
    "Zij hebben hun PASPOORTEN ingenomen.",
    "Het paspoort werd door de baas ingenomen.",
    "Ingenomen: paspoörten!",
    "De baas neemt het paspoort in.",
    "passports taken by the agency",
])
def test_plural_inflection_case_accents_and_word_order_match(text: str) -> None:
    assert codes(text, LEXICON) == ["FL07"]


def test_matched_words_are_returned_as_spans_of_the_original_text() -> None:
    assert marked("Zij hebben hun Paspoorten ingenomen.", LEXICON, "FL07") == [
        "Paspoorten", "ingenomen"]


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "Paspoortcontrole op Schiphol, niets bijzonders.",   # a longer word is not the word
    "Het paspoort is verlopen.",                          # only one word of the phrase
    "Paspoort gecontroleerd, daarna bij de apotheek medicijnen opgehaald en ingenomen.",
    "Paspoort kwijt. Later koffie ingenomen.",            # never across a sentence
    "Zij is 25 jaar.",                                    # an adult age
    "De schuld is helemaal afbetaald, zegt hij, en intussen groeit zijn loon.",  # too far
])
def test_texts_without_the_phrase_give_no_suggestion(text: str) -> None:
    assert codes(text, LEXICON) == []


def test_a_negation_is_not_understood_but_flagged_and_still_suggested() -> None:
    [item] = suggest.find("Er is geen paspoort ingenomen.", LEXICON)
    assert item.code == "FL07" and item.negated
    [plain] = suggest.find("Hun paspoort is ingenomen.", LEXICON)
    assert not plain.negated
    # A negation in an earlier sentence does not count.
    [later] = suggest.find("Geen loon. Paspoort ingenomen.", LEXICON)
    assert not later.negated


def test_regular_expression_terms_and_excluded_codes() -> None:
    assert marked("Meisje van 16 jaar, schuld groeit.", LEXICON, "minor") == ["16 jaar"]
    assert codes("Meisje van 16 jaar, schuld groeit.", LEXICON) == ["FL09", "minor"]
    found = suggest.find("Meisje van 16 jaar", LEXICON, exclude=["minor"])
    assert found == []


def test_stem_and_normalise() -> None:
    assert suggest.stem("Paspoorten") == suggest.stem("paspoort")
    assert suggest.stem("schulden") == suggest.stem("schuld")
    assert suggest.stem("telefoons") == suggest.stem("telefoon")
    assert suggest.stem("minderjarigen") == suggest.stem("minderjarige")
    assert suggest.stem("is") == "is"  # short words are left alone
    text = "Geïsoleerd in Zwolle"
    assert suggest.normalise(text) == "geisoleerd in zwolle"
    assert len(suggest.normalise("ﬁ ß É")) == len("ﬁ ß É")  # offsets stay valid


def test_excerpt_quotes_around_the_match_with_marks() -> None:
    text = "Begin van een lang verhaal. " * 5 + "Zij hebben hun paspoorten ingenomen." \
        + " En nog veel meer tekst daarna." * 5
    [item] = suggest.find(text, LEXICON)
    pieces = suggest.excerpt(text, item.matches[0].spans, context=20)
    assert pieces[0] == ("…", False) and pieces[-1] == ("…", False)
    assert [p for p, hit in pieces if hit] == ["paspoorten", "ingenomen"]
    assert "".join(p for p, _ in pieces[1:-1]) in text


@pytest.mark.parametrize(("text", "expected"), [
    ("paspoorten ingenomen", "FL07"),
    ("Synthetisch: arbeiders slapen in de kas en geven hun paspoort af.", "FL07"),
    ("They took her passport and she has no pay for months.", "FL07"),
    ("They took her passport and she has no pay for months.", "FL08"),
    ("Hij zit opgesloten in de woning.", "FL03"),
    ("She is locked in at night.", "FL03"),
    ("Haar telefoon wordt steeds gecontroleerd.", "FL04"),
    ("De schuld bij het uitzendbureau groeit steeds.", "FL09"),
    ("Zij wordt steeds naar een andere stad gebracht.", "UR02"),
    ("Zij is 15 jaar.", "minor"),
    ("a 16 year old girl", "minor"),
    ("Het meisje is minderjarig.", "minor"),
])
def test_codebook_keywords_suggest_the_expected_indicator(text: str, expected: str,
                                                          lexicon: dict[str, list[str]]) -> None:
    assert expected in codes(text, lexicon)


@pytest.mark.parametrize("text", [
    "Synthetisch: vage zorg over de buren.",
    "Hij woont al twintig jaar in Zwolle en werkt bij de bakker.",
    "Paspoort vernieuwd bij de gemeente.",
])
def test_ordinary_text_gives_no_suggestion_from_the_codebook(text: str,
                                                             lexicon: dict[str, list[str]]) -> None:
    assert codes(text, lexicon) == []


def test_codebook_versions_keep_their_data_and_keywords_are_optional() -> None:
    new = codebook.Codebook(codebook.load_file())
    old = codebook.Codebook(codebook.load_file("2026.1"))
    assert new.version == "2026.2" and new.has_keywords and not old.has_keywords
    assert set(new.indicators) == set(old.indicators)
    for code, indicator in old.indicators.items():
        assert new.indicators[code].label == indicator.label
        assert new.indicators[code].weight == indicator.weight
    # Only labels without keyword lists; borrowed keywords for the same codes.
    assert old.lexicon()["FL07"] == list(old.indicators["FL07"].label.values())
    assert "paspoort ingenom*" in old.lexicon(keywords_from=new)["FL07"]
    bad = codebook.load_file()
    bad["groups"][0]["indicators"][0]["keywords"] = {"de": ["x y"]}
    with pytest.raises(codebook.CodebookError, match="keywords"):
        codebook.validate(bad)


def test_the_matcher_imports_without_django() -> None:
    code = ("import sys; sys.modules['django'] = None\n"
            "from zichtbaar.hub import suggest\n"
            "assert suggest.find('paspoorten ingenomen', {'FL07': ['paspoort ingenom*']})")
    subprocess.run([sys.executable, "-c", code], check=True)
