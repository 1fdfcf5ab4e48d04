"""Extraction through the public API: phones, e-mails, handles, ages, names, prices, places."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from zichtbaar.ads.extract import Extraction, Span, extract, normalise_phone
from zichtbaar.ads.places import canonical_place, find_places, municipalities, municipality_of

CORPUS = Path(__file__).with_name("data") / "phone_corpus.csv"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def load_corpus() -> list[tuple[str, set[str]]]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        return [(r["text"], set(filter(None, r["expected"].split(";")))) for r in csv.DictReader(fh)]


# -- the corpus: precision and recall ---------------------------------------------------------


def test_corpus_is_large_varied_and_synthetic() -> None:
    rows = load_corpus()
    positives = [r for r in rows if r[1]]
    negatives = [r for r in rows if not r[1]]
    assert len(positives) >= 300 and len(negatives) >= 60
    assert all(E164.fullmatch(p) for _, exp in positives for p in exp)
    dutch = [p for _, exp in positives for p in exp if p.startswith("+31")]
    assert all(p[3:5] in {"61", "62"} for p in dutch), "only 06-1/06-2 mobile ranges"
    assert {p[:3] for _, exp in positives for p in exp} >= {"+31", "+40", "+35", "+36", "+48"}


def test_phone_precision_and_recall_on_corpus() -> None:
    tp = fp = fn = 0
    misses = []
    for text, expected in load_corpus():
        found = set(extract(text).phones)
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
        if found != expected:
            misses.append((text, sorted(expected), sorted(found)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"\nphone corpus: precision {precision:.3f} recall {recall:.3f} "
          f"(tp {tp}, fp {fp}, fn {fn})")
    assert precision >= 0.95, misses[:10]
    assert recall >= 0.95, misses[:10]


# -- phones, one disguise at a time -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bel 0612345678", "+31612345678"),
        ("06-12345678", "+31612345678"),
        ("06 12 34 56 78", "+31612345678"),
        ("06.12.34.56.78", "+31612345678"),
        ("06/12345678", "+31612345678"),
        ("0 6 1 2 3 4 5 6 7 8", "+31612345678"),
        ("O6-l2345678", "+31612345678"),
        ("o6 I2 34 56 78", "+31612345678"),
        ("nul zes een twee drie vier vijf zes zeven acht", "+31612345678"),
        ("nul zes 12 34 vijf 6 78", "+31612345678"),
        ("NUL-ZES-één-2-drie-4-5-6-7-8", "+31612345678"),
        ("nul zes twaalf vierendertig zesenvijftig achtenzeventig", "+31612345678"),
        ("zero six one two three four five six seven eight", "+31612345678"),
        ("zero 6 one 2 34 five 678", "+31612345678"),
        ("0️⃣6️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", "+31612345678"),
        ("𝟎𝟔𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "+31612345678"),
        ("０６１２３４５６７８", "+31612345678"),
        ("06💋12💋34💋56💋78", "+31612345678"),
        ("+31612345678", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("+31 (0)6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("0031 6 1234 5678", "+31612345678"),
        ("plus drie een zes een twee drie vier vijf zes zeven acht", "+31612345678"),
        ("wa.me/31612345678", "+31612345678"),
        ("tel0612345678", "+31612345678"),
        ("+40 712 345 678", "+40712345678"),
        ("+359 88 123 4567", "+359881234567"),
        ("+36 20 123 4567", "+36201234567"),
        ("+48 512 345 678", "+48512345678"),
        ("00 40 712 345 678", "+40712345678"),
    ],
)
def test_disguised_phone_is_normalised(text: str, expected: str) -> None:
    result = extract(f"Hoi 💕 {text} 🌹 kus")
    assert result.phones == (expected,)


@pytest.mark.parametrize(
    "text",
    [
        "€150 per uur", "150,- p/u", "EUR 200", "datum 12-05-2026", "05-12-2026 10:30",
        "2026-05-12", "open 10:00-22:00", "1012 AB Amsterdam", "ik ben 19 jaar",
        "Ordernummer 2026-004512-77", "KvK 12345678", "IBAN NL91 ABNA 0417 1643 00",
        "06 12 34 5", "06-nummer op aanvraag", "0 0 0 0 0 0 0 0 0 0 0 0", "Bus 06 en tram 12",
    ],
)
def test_numbers_that_are_not_phones_stay_out(text: str) -> None:
    assert extract(text).phones == ()


def test_two_numbers_keep_order_and_offsets() -> None:
    text = "Bel 06-12345678 of app nul zes 2 3 4 5 6 7 8 9!"
    result = extract(text)
    assert result.phones == ("+31612345678", "+31623456789")
    phone_spans = [s for s in result.spans if s.kind == "phone"]
    assert [text[s.start : s.end] for s in phone_spans] == [
        "06-12345678", "nul zes 2 3 4 5 6 7 8 9"]


@pytest.mark.parametrize(
    ("text", "obscured"),
    [
        ("06-12345678", False),
        ("06 12 34 56 78", False),
        ("+31 (0)6 12345678", False),
        ("+31612345678", False),
        ("0 6 1 2 3 4 5 6 7 8", True),
        ("O6-l2345678", True),
        ("nul zes 12 34 vijf 6 78", True),
        ("0️⃣6️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", True),
        ("06💋12💋34💋56💋78", True),
    ],
)
def test_obscured_phone_is_flagged_only_when_disguised(text: str, obscured: bool) -> None:
    result = extract(f"bel {text} nu")
    assert result.phones == ("+31612345678",)
    assert result.obscured_phones == (("+31612345678",) if obscured else ())


def test_normalise_phone() -> None:
    assert normalise_phone("06-1234 5678") == "+31612345678"
    assert normalise_phone("nul zes 12345678") == "+31612345678"
    assert normalise_phone("612345678") == "+31612345678"  # a phone field may drop the 0
    assert normalise_phone("0612") is None
    assert normalise_phone("") is None
    assert normalise_phone("0712 345 678", region="RO") == "+40712345678"
    with pytest.raises(TypeError):
        normalise_phone(612345678)  # type: ignore[arg-type]  # the error is what is tested


# -- e-mail, handles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "mail Anna.XO@Hotmail.com.",
        "anna.xo [at] hotmail [punt] com",
        "anna.xo (at) hotmail dot com",
        "anna.xo @ hotmail . com",
        "anna.xo at hotmail dot com",
        "anna.xo{at}hotmail(dot)com",
    ],
)
def test_email_variants(text: str) -> None:
    result = extract(text)
    assert result.emails == ("anna.xo@hotmail.com",)
    span = next(s for s in result.spans if s.kind == "email")
    assert text[span.start : span.end].lower().startswith("anna.xo")


def test_email_needs_real_shape() -> None:
    assert extract("meet me at hotel.nl at ten").emails == ()
    assert extract("a@b").emails == ()
    assert extract("prijs 150@uur").emails == ()


def test_handles() -> None:
    text = ("Bel 06-12345678 of WhatsApp +31 6 87654321. Telegram: @sweet_anna99, "
            "snapchat: anna.xo, Insta: anna_official")
    result = extract(text)
    assert result.handles == (
        "whatsapp:+31687654321", "telegram:@sweet_anna99", "snapchat:anna.xo",
        "instagram:anna_official",
    )
    assert "whatsapp:+31612345678" not in result.handles  # the mention belongs to the next number


def test_handle_stop_words_are_not_handles() -> None:
    assert extract("telegram alleen, snapchat only, insta me").handles == ()


# -- ages, names, prices ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("Anna 19jr", 19), ("19 jr", 19), ("19 jaar", 19), ("19j", 19), ("19yo", 19),
        ("19 years old", 19), ("leeftijd: 19", 19), ("Age 19", 19), ("ik ben 19", 19),
        ("Anna (19)", 19), ("ik ben negentien", 19), ("achttien jaar", 18),
        ("twintig jaar", 20), ("tweeëntwintig jaar", 22), ("nineteen years", 19),
        ("twenty-one years", 21), ("70 jaar", 70), ("14 jaar", 14),
    ],
)
def test_age_forms(text: str, age: int) -> None:
    assert extract(text).ages == (age,)


@pytest.mark.parametrize(
    "text",
    [
        "13 jaar", "71 jaar", "(19)", "kamer (19)", "20 jaar ervaring", "ik ben 24/7 online",
        "twintig euro", "ik ben 70 kg", "150 jaar", "€19 jaar",
    ],
)
def test_not_an_age(text: str) -> None:
    assert extract(text).ages == ()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hoi, ik ben Anna!", "Anna"), ("Mijn naam is Mia.", "Mia"), ("Ik heet Lola", "Lola"),
        ("I am Sara", "Sara"), ("my name is Nina", "Nina"), ("call me Roxy", "Roxy"),
        ("Naam: Eva-Lotte", "Eva-Lotte"),
    ],
)
def test_names(text: str, name: str) -> None:
    assert extract(text).names == (name,)


@pytest.mark.parametrize(
    "text", ["ik ben Nieuw hier", "ik ben Roemeense", "I am Available", "I am Amsterdam",
             "ik ben anna", "call me 0612345678"],
)
def test_not_a_name(text: str) -> None:
    assert extract(text).names == ()


@pytest.mark.parametrize(
    ("text", "prices"),
    [
        ("€150 per uur", (150,)), ("150 euro half uur", (150,)), ("150,- p/u", (150,)),
        ("EUR 150", (150,)), ("€ 1.000 hele nacht", (1000,)), ("30 min €80, 60 min 150€", (80, 150)),
        ("€150,- per uur", (150,)),
    ],
)
def test_prices(text: str, prices: tuple[int, ...]) -> None:
    result = extract(text)
    assert result.prices == prices
    assert all(s.value.isdigit() for s in result.spans if s.kind == "price")


def test_price_is_not_taken_from_a_phone() -> None:
    assert extract("06 12345678").prices == ()


# -- places -----------------------------------------------------------------------------------


def test_gazetteer_holds_all_342_municipalities() -> None:
    names = municipalities()
    assert len(names) == 342
    assert {"'s-Gravenhage", "'s-Hertogenbosch", "Súdwest-Fryslân", "Voorne aan Zee",
            "Dijk en Waard", "Land van Cuijk", "Maashorst", "Bergen (NH.)", "Bergen (L.)"} <= set(names)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("nieuw in Den Haag", "'s-Gravenhage"), ("DEN HAAG centrum", "'s-Gravenhage"),
        ("in den bosch", "'s-Hertogenbosch"), ("’s-Hertogenbosch", "'s-Hertogenbosch"),
        ("s-Hertogenbosch", "'s-Hertogenbosch"), ("Bergen op Zoom", "Bergen op Zoom"),
        ("Alphen a/d Rijn", "Alphen aan den Rijn"), ("Sudwest Fryslan", "Súdwest-Fryslân"),
        ("Hoofddorp", "Hoofddorp"), ("Scheveningen strand", "Scheveningen"),
        ("regio Best", "Best"), ("Ik woon in Buren", "Buren"),
    ],
)
def test_place_matching(text: str, place: str) -> None:
    spans = find_places(text)
    assert [s.value for s in spans] == [place]
    assert extract(text).places == (place,)


@pytest.mark.parametrize(
    "text", ["de beste service", "Best service!", "geen buren", "huizen kopen", "Bijlmer",
             "Amsterdamse grachten", "100% echt"],
)
def test_common_words_are_not_places(text: str) -> None:
    assert find_places(text) == []


def test_place_offsets_and_canonical_names() -> None:
    text = "Anna in 's-Hertogenbosch en Den Haag"
    spans = find_places(text)
    assert [text[s.start : s.end] for s in spans] == ["'s-Hertogenbosch", "Den Haag"]
    assert canonical_place("den bosch") == "'s-Hertogenbosch"
    assert canonical_place("The Hague") == "'s-Gravenhage"
    assert canonical_place("Atlantis") is None
    assert municipality_of("Hoofddorp") == "Haarlemmermeer"
    assert municipality_of("Amsterdam") == "Amsterdam"


def test_place_inside_an_email_is_not_a_place() -> None:
    assert extract("anna@amsterdam.nl").places == ()


# -- the result object ------------------------------------------------------------------------


def full_ad() -> str:
    return ("Hoi ik ben Anna (19) uit Den Haag 💋 bel nul zes 12 34 vijf 6 78 of whatsapp "
            "+31 (0)6 2345 6789. €150 per uur. Mail anna.xo [at] hotmail [punt] com, "
            "snapchat: anna_xo")


def test_every_span_points_into_the_text() -> None:
    text = full_ad()
    result = extract(text)
    assert {s.kind for s in result.spans} == {
        "phone", "email", "handle", "age", "name", "price", "place"}
    for span in result.spans:
        raw = text[span.start : span.end]
        assert raw, span
        if span.kind in {"name", "age"} and span.value.isalpha():
            assert raw == span.value
    assert [s.start for s in result.spans] == sorted(s.start for s in result.spans)


def test_to_dict_is_json_safe_and_round_trips() -> None:
    result = extract(full_ad())
    data = json.loads(json.dumps(result.to_dict()))
    assert Extraction.from_dict(data) == result
    assert data["obscured_phones"] == ["+31612345678"]
    assert data["spans"][0] == result.spans[0].to_dict()


def test_from_dict_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        Extraction.from_dict({"ages": ["19"]})
    with pytest.raises(ValueError):
        Extraction.from_dict({"spans": [{"kind": "weapon", "value": "x", "start": 0, "end": 1}]})
    with pytest.raises(ValueError):
        Extraction.from_dict({"phones": "+31612345678"})


def test_result_is_frozen_and_empty_text_is_empty() -> None:
    result = extract("")
    assert result == Extraction()
    with pytest.raises(AttributeError):
        result.phones = ("+31612345678",)  # type: ignore[misc]  # frozen is what is tested
    assert Span("phone", "+31612345678", 0, 3).to_dict()["end"] == 3


# -- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, b"0612345678", 612345678, ["06"]])
def test_non_str_input_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        extract(bad)  # type: ignore[arg-type]  # the error is what is tested
    with pytest.raises(TypeError):
        find_places(bad)  # type: ignore[arg-type]  # the error is what is tested


@pytest.mark.parametrize(
    "text",
    [
        "0 " * 100_000,
        "a@" * 100_000,
        "a." * 100_000,
        "a" * 200_000,
        "[at] " * 40_000,
        "nul " * 50_000,
        "0💋" * 100_000,
        "06 " * 70_000,
        "ik ben " * 30_000,
        "€" * 200_000,
        "(19)" * 50_000,
    ],
    ids=["zeros", "at", "dots", "letters", "brackets", "nul", "emoji", "06", "ikben", "euro",
         "parens"],
)
def test_adversarial_200kb_finishes_with_nothing_found(text: str) -> None:
    result = extract(text)
    assert result.phones == () and result.emails == ()


def test_one_megabyte_of_ads_finishes_and_still_finds_numbers() -> None:
    ad = "Anna 22jr in Utrecht, bel 06-12345678, €150 p/u. "
    text = (ad * (1_000_000 // len(ad) + 1))[:1_000_000]
    result = extract(text)
    assert result.phones == ("+31612345678",)
    assert result.places == ("Utrecht",)
