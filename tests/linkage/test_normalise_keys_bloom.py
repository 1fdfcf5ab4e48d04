"""Normalisation, HMAC keys and Bloom encodings through the public API."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from zichtbaar.linkage import (
    BloomEncoder,
    FieldError,
    InputError,
    bloom_encode,
    dice,
    find_pairs,
    linkage_keys,
    normalise_person,
)

SECRET = b"test-secret-0123456789"
JAN = {"id": "1", "given_name": "Jan", "surname": "van der Berg", "date_of_birth": "03-04-1990",
       "sex": "m", "phone": "06 12345678", "email": " Jan.Berg@Example.ORG ",
       "postcode": "1234 ab", "city": "Utrecht"}
JAN_AGAIN = {"id": "2", "given_name": "JAN", "surname": "Berg, van der",
             "date_of_birth": "1990-04-03", "sex": "M", "phone": "+31 6 1234 5678",
             "email": "jan.berg@example.org", "postcode": "1234AB", "city": "utrecht"}
FATIMA = {"id": "3", "given_name": "Fatima", "surname": "El Amrani",
          "date_of_birth": "23/11/1985", "sex": "v", "phone": "", "email": "",
          "postcode": "3011 AA", "city": "Rotterdam"}


@pytest.mark.parametrize(("surname", "prefix", "core"), [
    ("van der Berg", "van der", "berg"),
    ("Berg, van der", "van der", "berg"),
    ("Van  Den   Bosch", "van den", "bosch"),
    ("van 't Hof", "van t", "hof"),
    ("in 't Veld", "in t", "veld"),
    ("de Vries", "de", "vries"),
    ("Jansen-de Vries", "", "jansen de vries"),
    ("Van", "", "van"),
])
def test_tussenvoegsels_are_split_off(surname: str, prefix: str, core: str) -> None:
    person = normalise_person({"surname": surname})
    assert (person["surname_prefix"], person["surname"]) == (prefix, core)


def test_accents_case_and_punctuation_fold() -> None:
    person = normalise_person({"given_name": "  Jéan-Luc  ", "surname": "Ødegård",
                               "city": "'s-Hertogenbosch"})
    assert person["given_name"] == "jean luc"
    assert person["surname"] == "odegard"
    assert person["city"] == "s hertogenbosch"


@pytest.mark.parametrize("phone", ["06-12345678", "0612345678", "+31 6 1234 5678",
                                   "0031612345678", "(06) 123 456 78"])
def test_phone_formats_become_e164(phone: str) -> None:
    assert normalise_person({"phone": phone})["phone"] == "+31612345678"


def test_foreign_phone_keeps_its_country() -> None:
    assert normalise_person({"phone": "+48 512 345 678"})["phone"] == "+48512345678"


@pytest.mark.parametrize("dob", ["3-4-1990", "03-04-1990", "1990-04-03", "03/04/1990",
                                 "3.4.1990", "19900403"])
def test_date_formats_become_iso(dob: str) -> None:
    assert normalise_person({"date_of_birth": dob})["date_of_birth"] == "1990-04-03"


@pytest.mark.parametrize(("field", "value"), [
    ("date_of_birth", "31-02-1990"), ("date_of_birth", "1990-13-01"),
    ("date_of_birth", "yesterday"), ("date_of_birth", "01-01-2999"),
    ("date_of_birth", "01-01-1700"), ("phone", "12"), ("phone", "call me"),
    ("email", "not-an-address"), ("sex", "banana"),
])
def test_unreadable_fields_raise_value_error(field: str, value: str) -> None:
    with pytest.raises(ValueError) as info:
        normalise_person({field: value})
    assert isinstance(info.value, FieldError) and info.value.field == field


def test_empty_fields_become_empty_strings_and_sex_codes() -> None:
    person = normalise_person({"id": "x", "sex": "V", "postcode": "1234ab", "email": None})
    assert person["sex"] == "f" and person["postcode"] == "1234AB" and person["email"] == ""
    assert normalise_person({})["date_of_birth"] == ""


def test_keys_equal_for_same_identity_written_differently() -> None:
    a, b = linkage_keys(JAN, SECRET), linkage_keys(JAN_AGAIN, SECRET.decode())
    assert set(a) == {"name_dob", "phone", "email"}
    assert a == b
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in a.values())


def test_keys_differ_for_other_secret_or_person_and_only_present_kinds() -> None:
    assert linkage_keys(JAN, SECRET) != linkage_keys(JAN, b"another-secret")
    fatima = linkage_keys(FATIMA, SECRET)
    assert set(fatima) == {"name_dob"}
    assert fatima["name_dob"] != linkage_keys(JAN, SECRET)["name_dob"]
    assert linkage_keys({"given_name": "Jan", "surname": "Berg"}, SECRET) == {}
    with pytest.raises(ValueError):
        linkage_keys(JAN, b"")


def test_bloom_has_no_plaintext_and_separates_people() -> None:
    encoder = BloomEncoder(SECRET)
    jan, again, fatima = encoder.encode([JAN, JAN_AGAIN, FATIMA])
    raw = base64.b64decode(jan)
    for word in (b"jan", b"berg", b"1990", b"1234", b"utrecht"):
        assert word not in raw and word.decode() not in jan.lower()
    assert dice(jan, again) == pytest.approx(1.0)
    typo = bloom_encode({**JAN, "given_name": "Jna", "date_of_birth": "03-04-1991"}, SECRET)
    assert dice(jan, typo) > 0.85
    assert dice(jan, fatima) < 0.7
    assert bloom_encode(JAN, b"other-secret") != jan


def test_balancing_gives_every_encoding_the_same_weight() -> None:
    """Unhardened filters leak name length through their number of set bits."""
    people = [{"given_name": g, "surname": s, "date_of_birth": "1980-01-01"}
              for g, s in [("Al", "Li"), ("Maximiliaan", "Vandenbroucke-Schimmelpenninck"),
                           ("Eva", "Smit"), ("Jan", "de Boer")]]
    plain = BloomEncoder(SECRET, hardening="none").bits_normalised(
        [normalise_person(p) for p in people])
    balanced = BloomEncoder(SECRET).bits_normalised([normalise_person(p) for p in people])
    assert len(set(plain.sum(axis=1).tolist())) > 1
    assert set(balanced.sum(axis=1).tolist()) == {balanced.shape[1] // 2}


def test_xor_folding_flattens_per_bit_frequencies(febrl1) -> None:
    """A frequency attack aligns frequent bits with frequent q-grams; folding evens them."""
    records, _ = febrl1
    persons = [normalise_person(r) for r in records]
    plain = BloomEncoder(SECRET, hardening="none").bits_normalised(persons).mean(axis=0)
    folded = BloomEncoder(SECRET, hardening="balance+xor").bits_normalised(persons).mean(axis=0)
    # measured on FEBRL1: mean |f - 0.5| 0.268 unhardened, 0.147 balanced and folded
    assert np.abs(folded - 0.5).mean() < 0.65 * np.abs(plain - 0.5).mean()


def test_find_pairs_rejects_bad_records_with_position() -> None:
    with pytest.raises(InputError) as info:
        find_pairs([JAN, {**FATIMA, "date_of_birth": "31-02-1990"}])
    assert (info.value.index, info.value.code) == (1, "bad_date")
    with pytest.raises(InputError) as dup:
        find_pairs([JAN, {**FATIMA, "id": "1"}])
    assert dup.value.code == "duplicate_id"
    with pytest.raises(ValueError):
        find_pairs([JAN, FATIMA], bloom=True)
