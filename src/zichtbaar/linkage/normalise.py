"""Normalisation of person records before keys, encodings or matching.

Two partners only arrive at the same HMAC key or a similar Bloom filter when they write the
same person the same way, so every identifier is reduced to one canonical spelling here:
lowercase, accents folded, Dutch surname prefixes (tussenvoegsels) split off, dates in ISO
form, phone numbers in E.164 and Dutch postcodes as ``1234AB``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping

import phonenumbers

__all__ = ["COLUMNS", "FieldError", "normalise_name", "normalise_person", "split_surname"]

COLUMNS = ("id", "given_name", "surname", "date_of_birth", "sex", "phone", "email",
           "postcode", "city")

DEFAULT_REGION = "NL"
EARLIEST_BIRTH_YEAR = 1880


class FieldError(ValueError):
    """A field that cannot be normalised; ``code`` keys a sentence in ``messages``."""

    def __init__(self, field: str, code: str, value: str) -> None:
        super().__init__(f"{field}: {code} ({value!r})")
        self.field = field
        self.code = code
        self.value = value


# Letters NFKD does not decompose into a base letter plus accent.
_SPECIAL = str.maketrans({
    "ß": "ss", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae",
    "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ĳ": "ij", "Ĳ": "ij",
})
_NON_NAME = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")

# Dutch (and a few neighbouring) surname prefixes, longest first so "van der" wins over "van".
_PREFIXES = sorted({
    "van", "de", "der", "den", "het", "t", "te", "ter", "ten", "van de", "van der", "van den",
    "van het", "van t", "in", "in t", "in het", "in de", "in den", "op", "op de", "op den",
    "op t", "op het", "uit", "uit de", "uit den", "uit het", "uit t", "aan", "aan de",
    "aan den", "aan het", "bij", "bij de", "onder", "onder de", "over", "voor", "voor de",
    "tot", "von", "von der", "zu", "vom", "d", "da", "di", "del", "della", "dos", "du", "la",
    "le", "l", "lo",
}, key=lambda p: -len(p))
_PREFIX_SET = frozenset(_PREFIXES)


def fold(text: str) -> str:
    """Lowercase, strip accents and special letters, keep letters, digits and single spaces."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("'", "").replace("’", "").replace("`", "")
    return _SPACES.sub(" ", _NON_NAME.sub(" ", text)).strip()


def normalise_name(value: str | None) -> str:
    """A given name or a whole surname in folded form ("Jean-Luc" -> "jean luc")."""
    return fold(value or "")


def split_surname(value: str | None) -> tuple[str, str]:
    """Split a surname into (prefix, core): "van der Berg" -> ("van der", "berg").

    "Berg, van der" gives the same.

    The core is what Dutch registers sort and compare on; the prefix is often written
    differently (capitalised, glued on, or after a comma) and is kept apart.
    """
    raw = (value or "").strip()
    if "," in raw:  # "Berg, van der": the register's sorting form
        core_part, _, prefix_part = raw.partition(",")
        prefix, core = fold(prefix_part), fold(core_part)
        if prefix in _PREFIX_SET:
            return prefix, core
        raw = f"{prefix_part} {core_part}"
    # Whitespace separates a prefix; a hyphen does not ("Della-Verde" is one surname).
    words = [w for w in (fold(part) for part in raw.split()) if w]
    for cut in range(min(3, len(words) - 1), 0, -1):
        prefix = " ".join(words[:cut])
        if prefix in _PREFIX_SET:
            return prefix, " ".join(words[cut:])
    return "", " ".join(words)


_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
)


def normalise_date(value: str | None, *, today: dt.date | None = None) -> str:
    """ISO date from d-m-yyyy, dd/mm/yyyy, dd.mm.yyyy, yyyy-mm-dd or yyyymmdd.

    Day-first is the Dutch convention; a date that does not exist, lies in the future or
    before 1880 raises ``FieldError`` rather than being guessed.
    """
    text = (value or "").strip()
    if not text:
        return ""
    for pattern, order in _DATE_FORMATS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                date = dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise FieldError("date_of_birth", "bad_date", text) from None
            if date.year < EARLIEST_BIRTH_YEAR or date > (today or dt.date.today()):
                raise FieldError("date_of_birth", "implausible_date", text)
            return date.isoformat()
    raise FieldError("date_of_birth", "bad_date", text)


_SEX = {
    "m": "m", "man": "m", "male": "m", "mannelijk": "m", "jongen": "m", "boy": "m",
    "v": "f", "f": "f", "w": "f", "vrouw": "f", "female": "f", "vrouwelijk": "f",
    "woman": "f", "meisje": "f", "girl": "f",
    "x": "x", "o": "x", "other": "x", "anders": "x", "non binary": "x", "nonbinary": "x",
    "divers": "x",
    "u": "", "unknown": "", "onbekend": "", "?": "",
}


def normalise_sex(value: str | None) -> str:
    """``m``, ``f``, ``x`` (other) or "" (unknown); Dutch ``v`` is female."""
    raw = (value or "").strip()
    text = "?" if raw == "?" else fold(raw)
    if not text:
        return ""
    if text not in _SEX:
        raise FieldError("sex", "bad_sex", value or "")
    return _SEX[text]


def normalise_phone(value: str | None, region: str = DEFAULT_REGION) -> str:
    """E.164 ("+31612345678"); national numbers are read as Dutch unless they say otherwise."""
    text = (value or "").strip()
    if not text:
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FieldError("phone", "bad_phone", text) from None
    if not phonenumbers.is_possible_number(number):
        raise FieldError("phone", "bad_phone", text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | None) -> str:
    """Trimmed and lowercased; anything without a plausible ``local@domain.tld`` is refused."""
    text = (value or "").strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:"):]
    if not text:
        return ""
    if not _EMAIL.match(text):
        raise FieldError("email", "bad_email", text)
    return text


_NL_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([a-z]{2})$")


def normalise_postcode(value: str | None) -> str:
    """Dutch postcodes as ``1234AB``; foreign ones uppercased without spaces or punctuation."""
    text = fold(value or "")
    match = _NL_POSTCODE.match(text)
    if match:
        return (match.group(1) + match.group(2)).upper()
    return text.replace(" ", "").upper()


def normalise_person(record: Mapping[str, str | None]) -> dict[str, str]:
    """One canonical dict with every column of ``COLUMNS`` plus ``surname_prefix``.

    ``surname`` holds the core without the tussenvoegsel, so "Van der Berg", "van der berg"
    and "Berg, van der" agree. Empty or missing fields become "". Raises ``FieldError``
    (a ``ValueError``) for a date, phone, e-mail or sex that cannot be read.
    """
    prefix, surname = split_surname(record.get("surname"))
    return {
        "id": (record.get("id") or "").strip(),
        "given_name": normalise_name(record.get("given_name")),
        "surname": surname,
        "surname_prefix": prefix,
        "date_of_birth": normalise_date(record.get("date_of_birth")),
        "sex": normalise_sex(record.get("sex")),
        "phone": normalise_phone(record.get("phone")),
        "email": normalise_email(record.get("email")),
        "postcode": normalise_postcode(record.get("postcode")),
        "city": normalise_name(record.get("city")),
    }
