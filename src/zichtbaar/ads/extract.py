"""Entities in public ad text: phones (as E.164), e-mails, handles, ages, names, prices, places.

Ads are linked into networks by what they share, so identifiers must come out in one canonical
form however the advertiser disguised them ("nul zes 12 34 vijf 6 78", "O6-l2345678",
"naam [at] domein [punt] nl"). Every value keeps its character offsets so the analyst's page
can show *where* it came from. Rules only, no models: each rule can be read and argued with.

Precision matters as much as recall: a price or a date read as a phone number would join ads
that have nothing to do with each other. Phones therefore need a trunk "0", a "+"/"00" prefix,
"316..." or a wa.me link, must validate with ``phonenumbers``, and dates and times are masked
first. All patterns are bounded (no nested unbounded repeats) and the number of phone parses per
text has a budget, so a hostile 1 MB page costs linear time.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache, lru_cache
from typing import Any, Self

import phonenumbers

from zichtbaar.ads.text import fold

__all__ = ["Extraction", "Span", "extract", "normalise_phone"]

KINDS = ("phone", "email", "handle", "age", "name", "price", "place")
AGE_MIN, AGE_MAX = 14, 70
#: Upper bound on phonenumbers parses per text: the guard that keeps "0 0 0 0 ..." linear.
PARSE_BUDGET = 50_000


@dataclass(frozen=True, slots=True)
class Span:
    """One extracted value and where it sits: ``text[start:end]`` is the raw matched text."""

    kind: str
    value: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        kind, value, start, end = data["kind"], data["value"], data["start"], data["end"]
        if kind not in KINDS or not isinstance(value, str):
            raise ValueError(f"bad span kind/value: {kind!r} {value!r}")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
            raise ValueError(f"bad span offsets: {start!r} {end!r}")
        return cls(kind, value, start, end)


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything found in one text; tuples keep first-seen order and hold no duplicates.

    ``obscured_phones`` are the E.164 numbers whose raw text was disguised (number words, letters
    for digits, emoji digits or separators, digits spaced one by one): the grade-A
    "obscured phone" indicator.
    """

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    ages: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    prices: tuple[int, ...] = ()
    places: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()
    obscured_phones: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: lists of str/int and span dicts."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = [s.to_dict() for s in value] if f.name == "spans" else list(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of ``to_dict``; missing keys are empty, wrong types raise ValueError."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            items = data.get(f.name, [])
            if not isinstance(items, list | tuple):
                raise ValueError(f"{f.name} must be a list")
            if f.name == "spans":
                kwargs[f.name] = tuple(Span.from_dict(s) for s in items)
                continue
            want = int if f.name in {"ages", "prices"} else str
            if not all(isinstance(v, want) and not isinstance(v, bool) for v in items):
                raise ValueError(f"{f.name} must hold {want.__name__} values")
            kwargs[f.name] = tuple(items)
        return cls(**kwargs)


# ---------------------------------------------------------------------------------------------
# Number words ("nul zes", "twaalf", "vierendertig", "twenty") -> digits



def _words(spaced: str) -> tuple[str, ...]:
    """Word lists are written as one spaced string: easier to read and to extend."""
    return tuple(spaced.split())


_NL_UNITS = _words("nul een twee drie vier vijf zes zeven acht negen")
_EN_UNITS = _words("zero one two three four five six seven eight nine")
_NL_TEENS = _words("tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien")
_EN_TEENS = _words(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
)
_NL_TENS = _words("twintig dertig veertig vijftig zestig zeventig tachtig negentig")
_EN_TENS = _words("twenty thirty forty fifty sixty seventy eighty ninety")


@cache
def _number_words() -> dict[str, int]:
    """Folded number word -> value, 0..99, Dutch and English (compounds too)."""
    words: dict[str, int] = {}
    for units, teens, tens in ((_NL_UNITS, _NL_TEENS, _NL_TENS), (_EN_UNITS, _EN_TEENS, _EN_TENS)):
        for i, w in enumerate(units):
            words[w] = i
        for i, w in enumerate(teens):
            words[w] = 10 + i
        for i, w in enumerate(tens):
            words[w] = 20 + 10 * i
    for i, t in enumerate(_NL_TENS):
        for u in range(1, 10):
            words[f"{_NL_UNITS[u]}en{t}"] = 20 + 10 * i + u  # vierendertig, tweeentwintig
    for i, t in enumerate(_EN_TENS):
        for u in range(1, 10):
            words[f"{t}{_EN_UNITS[u]}"] = 20 + 10 * i + u
    return words


@cache
def _prefixes() -> frozenset[str]:
    """First three letters of every number word: a cheap filter before segmenting a word."""
    return frozenset(w[:3] for w in _number_words())


_fold = fold


@lru_cache(maxsize=4096)
def _segment_number_words(word: str) -> str | None:
    """Digits for a word made only of number words ("nulzes" -> "06"), longest words first."""
    if len(word) > 60 or word[:3] not in _prefixes():
        return None
    vocab = _number_words()
    lengths = sorted({len(w) for w in vocab}, reverse=True)

    @cache
    def from_(i: int) -> str | None:
        if i == len(word):
            return ""
        for n in lengths:
            piece = word[i : i + n]
            if len(piece) == n and piece in vocab:
                rest = from_(i + n)
                if rest is not None:
                    return str(vocab[piece]) + rest
        return None

    return from_(0)


# ---------------------------------------------------------------------------------------------
# Phones

_LOOKALIKE = {"O": "0", "o": "0", "I": "1", "l": "1"}
_GLUED = re.compile(
    r"(?i)(tel|telefoon|bel|nr|nummer|mob|mobiel|gsm|whatsapp|wa|app|call|phone)([0-9]{6,15})"
)
_IGNORABLE = frozenset("\ufe0f\ufe0e\u20e3\u200d\u200b\u200c\u2060") | frozenset(
    chr(c) for c in range(0x1F3FB, 0x1F400)
)
_GAP_CHARS = frozenset(" \t\u00a0-./()[]*~|:,'\"_•·")
_GAP_CATEGORIES = frozenset({"Pd", "So", "Sk", "Mn", "Me", "Cf", "Co", "Zs"})
_MAX_GAP = 4
_DATE_TIME = re.compile(
    r"(?<![0-9])(?:[0-9]{1,2}([-/.])[0-9]{1,2}\1(?:19|20)[0-9]{2}"  # 12-05-2026
    r"|(?:19|20)[0-9]{2}([-/.])[0-9]{1,2}\2[0-9]{1,2})(?![-/.]?[0-9])"  # 2026-05-12
    r"|(?<![0-9.])[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?![0-9])"  # 14:30, 10:00-22:00
    r"|(?<![0-9.])[0-9]{1,2}[.][0-9]{2}[ ]?(?:uur|u|h)\b"  # 14.30 uur
)
_WA_LINK = re.compile(r"(?i)(?:wa\.me/|phone=)$")
_PLAIN_PHONE = re.compile(
    r"\(?(?:\+|00)?[0-9]+\)?(?:[ ]?\(0\)[ ]?[0-9]+)?(?:(?:[ ]?[-./][ ]?|[ ]{1,2})\(?[0-9]+\)?)*"
)


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    digits: str
    kind: str  # "num", "weak" (lone O/I/l), "plus", "break"
    en_tens: bool = False
    en_unit: bool = False


def _classify(word: str, start: int, end: int) -> _Tok:
    """Read one alphanumeric run as digits, a look-alike letter, "plus", or a chain break."""
    kind, digits, offset, en_tens, en_unit = _classify_word(word)
    return _Tok(start + offset, end, digits, kind, en_tens, en_unit)


@lru_cache(maxsize=65536)
def _classify_word(word: str) -> tuple[str, str, int, bool, bool]:
    """(kind, digits, start offset, English tens, English unit) of one run; words repeat
    across ads (site boilerplate, templates), so each is read once."""
    if all(ch.isdecimal() for ch in word):
        return "num", "".join(str(unicodedata.decimal(ch)) for ch in word), 0, False, False
    lookalike = all(ch.isdecimal() or ch in _LOOKALIKE for ch in word)
    if lookalike and any(ch.isdecimal() for ch in word):
        digits = "".join(_LOOKALIKE.get(ch) or str(unicodedata.decimal(ch)) for ch in word)
        return "num", digits, 0, False, False
    if len(word) == 1 and word in _LOOKALIKE:
        return "weak", _LOOKALIKE[word], 0, False, False
    folded = _fold(word)
    if folded == "plus":
        return "plus", "", 0, False, False
    digits = _segment_number_words(folded)
    if digits is not None:
        return "num", digits, 0, folded in _EN_TENS, folded in _EN_UNITS[1:]
    glued = _GLUED.fullmatch(word)
    if glued:
        return "num", glued.group(2), glued.start(2), False, False
    return "break", "", 0, False, False


@cache
def _candidates() -> re.Pattern[str]:
    """Runs of the *folded* text that ``_classify`` may read as anything but a chain break.

    A run that holds no decimal digit, is no lone o/i/l and does not start like a number
    word or "plus" is always a break, so only candidates are looked at one by one. Folding
    keeps every character's alphanumeric, "+", "_" and decimal status (tested), so the
    folded runs are the text's runs.
    """
    starts = "|".join(sorted({*_prefixes(), "plu"}))
    return re.compile(
        rf"\+|(?<![^\W_])(?=[^\W_]*\d|(?:{starts})|[oil](?![^\W_]))[^\W_]+"
    )


_ALNUM = re.compile(r"[^\W_]")


def _gap_ok(gap: str) -> bool:
    """Whether the characters between two digit groups may sit inside one phone number."""
    if len(gap) > 16:
        return False
    visible = 0
    for ch in gap:
        if ch in _IGNORABLE:
            continue
        if ch in _GAP_CHARS or unicodedata.category(ch) in _GAP_CATEGORIES:
            visible += 1
        else:
            return False
    return visible <= _MAX_GAP


def _chains(text: str, folded: str | None = None) -> list[list[_Tok]]:
    """Split text into runs of digit-ish tokens joined by small separator gaps.

    Only candidate runs (see ``_candidates``) are classified; any other alphanumeric run
    between two candidates is a chain break, and otherwise the text between them is the one
    separator gap.
    """
    masked = [(m.start(), m.end()) for m in _DATE_TIME.finditer(text)]
    mask_i = 0
    chains: list[list[_Tok]] = []
    current: list[_Tok] = []
    prev_end = -1
    for m in _candidates().finditer(_fold(text) if folded is None else folded):
        start, end = m.span()
        gap_ok = True
        if prev_end >= 0 and start > prev_end:
            if _ALNUM.search(text, prev_end, start):  # a non-candidate run: a break
                if current:
                    chains.append(current)
                current = []
            else:
                gap_ok = _gap_ok(text[prev_end:start])
        prev_end = end
        piece = text[start:end]
        if piece == "+":
            tok = _Tok(start, end, "", "plus")
        else:
            while mask_i < len(masked) and masked[mask_i][1] <= start:
                mask_i += 1
            in_mask = mask_i < len(masked) and masked[mask_i][0] <= start
            tok = _Tok(start, end, "", "break") if in_mask else _classify(piece, start, end)
        if tok.kind == "break":
            if current:
                chains.append(current)
            current = []
            continue
        if tok.kind == "plus" or not gap_ok:
            if current:
                chains.append(current)
            current = []
        current.append(tok)
    if current:
        chains.append(current)
    return [_tidy(c) for c in chains]


def _tidy(chain: list[_Tok]) -> list[_Tok]:
    """Merge "thirty four" into 34; keep a lone O/I/l only next to real digits."""
    merged: list[_Tok] = []
    for tok in chain:
        prev = merged[-1] if merged else None
        if prev is not None and prev.en_tens and tok.en_unit:
            prev.digits = str(int(prev.digits) + int(tok.digits))
            prev.end, prev.en_tens = tok.end, False
            continue
        merged.append(tok)
    out: list[_Tok] = []
    for i, tok in enumerate(merged):
        if tok.kind == "weak":
            near = [t for t in (merged[i - 1] if i else None, merged[i + 1] if i + 1 < len(merged)
                                else None) if t is not None]
            if not any(t.kind == "num" for t in near):
                continue
            tok.kind = "num"
        out.append(tok)
    return out


@lru_cache(maxsize=65536)
def _validate(digits: str, plus: bool, region: str, strict: bool) -> str | None:
    """E.164 for a digit string, or None. Cheap string checks run before phonenumbers."""
    if plus or digits.startswith("00"):
        intl = digits if plus else digits[2:]
        if not (7 <= len(intl) <= 15) or intl[0] == "0":
            return None
        e164 = _parse("+" + intl, region)
        if e164 is None:
            for cc_len in (1, 2, 3):  # "+31 (0)6...": drop the trunk 0 after the country code
                if len(intl) > cc_len and intl[cc_len] == "0" and \
                        int(intl[:cc_len]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                    e164 = _parse("+" + intl[:cc_len] + intl[cc_len + 1 :], region)
                    if e164:
                        break
        return e164
    if digits.startswith("0"):
        if len(digits) < 8 or len(digits) > 12 or digits[1] == "0":
            return None
        return _parse(digits, region)
    if region == "NL" and len(digits) == 11 and digits.startswith("316"):
        return _parse("+" + digits, region)
    if not strict and 7 <= len(digits) <= 15:
        return _parse(digits, region)
    return None


def _parse(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(slots=True)
class _Budget:
    left: int


def _may_start(tok: _Tok, text: str) -> tuple[bool, bool]:
    """(may a phone start at this token, does it count as "+"-prefixed)."""
    if tok.kind == "plus":
        return True, True
    if _WA_LINK.search(text, max(0, tok.start - 20), tok.start):
        return True, True
    return tok.digits[:1] in {"0", "3"}, False


def _find_phones(
    text: str, region: str = "NL", strict: bool = True, budget: _Budget | None = None,
    folded: str | None = None,
) -> list[tuple[Span, bool]]:
    """Phone spans with their obscured flag, longest valid number from each start token."""
    budget = budget or _Budget(PARSE_BUDGET)
    found: list[tuple[Span, bool]] = []
    for chain in _chains(text, folded):
        s = 0
        while s < len(chain):
            ok, plus = _may_start(chain[s], text)
            if not ok and strict:
                s += 1
                continue
            first = s + 1 if chain[s].kind == "plus" else s
            digits, best = "", None
            for e in range(first, len(chain)):
                if chain[e].kind == "plus":
                    break
                digits += chain[e].digits
                if len(digits) > 17:
                    break
                if len(digits) < 7:
                    continue
                if budget.left <= 0:
                    return found
                budget.left -= 1
                e164 = _validate(digits, plus, region, strict)
                if e164:
                    best = (e, e164)
            if best is None:
                s += 1
                continue
            e, e164 = best
            start, end = chain[s].start, chain[e].end
            found.append((Span("phone", e164, start, end), _obscured(text[start:end])))
            s = e + 1
    return found


def _obscured(raw: str) -> bool:
    """Disguised unless it is ASCII digits in a usual layout; digits spaced one by one count."""
    if not _PLAIN_PHONE.fullmatch(raw):
        return True
    groups = re.findall(r"[0-9]+", raw)
    return sum(len(g) == 1 for g in groups) >= 3


def normalise_phone(raw: str, region: str = "NL") -> str | None:
    """One phone number from a field or a snippet as E.164, or None when none validates.

    More lenient than ``extract``: a number without trunk prefix ("612345678") is accepted,
    because the caller says this string is meant to be a phone number.
    """
    if not isinstance(raw, str):
        raise TypeError(f"raw must be str, not {type(raw).__name__}")
    if not isinstance(region, str) or len(region) != 2:
        raise ValueError(f"region must be a two-letter code, not {region!r}")
    for strict in (True, False):
        found = _find_phones(raw, region.upper(), strict=strict)
        if found:
            return found[0][0].value
    return None


# ---------------------------------------------------------------------------------------------
# E-mail addresses

_AT = (
    r"(?:[ \t]{0,3}@[ \t]{0,3}"
    r"|[ \t]{0,3}[\[({<][ \t]{0,2}(?:at|@|apenstaartje)[ \t]{0,2}[\])}>][ \t]{0,3}"
    r"|[ \t]{1,3}(?P<bare_at>at|apenstaartje)[ \t]{1,3})"
)
_DOT = (
    r"(?:[ \t]{0,2}\.[ \t]{0,2}"
    r"|[ \t]{0,3}[\[({<][ \t]{0,2}(?:dot|punt|\.)[ \t]{0,2}[\])}>][ \t]{0,3}"
    r"|[ \t]{1,3}(?:dot|punt)[ \t]{1,3})"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<local>[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}[A-Za-z0-9_])?)"
    + _AT
    + rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}){_DOT}(?P<tld>[A-Za-z]{{2,24}})(?![\w@])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
_SPELLED_DOT = re.compile(r"(?i)(?<![a-z])(?:dot|punt)(?![a-z])|[\[({<]")
_KNOWN_TLDS = frozenset(
    _words(
        "nl be de com net org eu info biz fr uk co io me ro bg hu pl cz sk ru ua es it pt at"
        " ch dk se no fi ie lt lv ee gr tr br co cn th ph vn xyz online email live club site"
    )
)


# Every form of _AT has "@", or "at"/"apenstaartje" between spaces or brackets: a text
# without any of them cannot hold an address, and the address pattern is costly to scan.
_AT_HINT = re.compile(r"(?i)[ \t\[({<](?:at|apenstaartje)[ \t\])}>]")


def _find_emails(text: str) -> list[Span]:
    if "@" not in text and not _AT_HINT.search(text):
        return []
    spans = []
    for m in _EMAIL.finditer(text):
        tld = m.group("tld").lower()
        if m.group("bare_at") and (tld not in _KNOWN_TLDS or not _SPELLED_DOT.search(m.group())):
            continue  # "meet me at hotel.nl" must not become an address
        labels = [p.strip().lower() for p in _DOT_SPLIT.split(m.group("domain"))]
        value = f"{m.group('local').lower()}@{'.'.join([*labels, tld])}"
        spans.append(Span("email", value, m.start(), m.end()))
    return spans


# ---------------------------------------------------------------------------------------------
# Handles

_HANDLE_STOP = frozenset(
    _words(
        "alleen only contact bericht berichten message messages voor please graag beschikbaar"
        " available ook also app whatsapp snapchat instagram telegram bellen call text sms dm"
        " pm add toevoegen volg follow mij me mijn my naam name en and of or via op on is in"
        " de het the een nummer number account profiel profile link hier here"
    )
)
_HANDLE_RES = (
    (
        "telegram",
        re.compile(
            r"(?i)(?<![\w.])(?:telegram(?:\.me/)?|t\.me/|tg[ \t]*:)[ \t]{0,3}[:\-]?[ \t]{0,3}@?"
            r"(?P<name>[A-Za-z][A-Za-z0-9_]{4,31})(?![\w@])"
        ),
    ),
    (
        "snapchat",
        re.compile(
            r"(?i)(?<![\w.])(?:snapchat|snap(?!chat)|sc[ \t]*:|👻)[ \t]{0,3}[:\-]?[ \t]{0,3}@?"
            r"(?P<name>[A-Za-z][A-Za-z0-9._\-]{2,14})(?![\w@])"
        ),
    ),
    (
        "instagram",
        re.compile(
            r"(?i)(?<![\w.])(?:instagram(?:\.com/)?|insta(?!gram)|ig[ \t]*:)"
            r"[ \t]{0,3}[:\-]?[ \t]{0,3}@?"
            r"(?P<name>[A-Za-z0-9_][A-Za-z0-9._]{1,29})(?![\w@])"
        ),
    ),
)
_WHATSAPP = re.compile(r"(?i)(?<![\w.])(?:whats[ \t]?app|whatsap|wa\.me|app(?:en|je)?)(?!\w)")
_TELEGRAM_WORD = re.compile(r"(?i)(?<![\w.])telegram(?!\w)")
_NEAR_BEFORE, _NEAR_AFTER = 40, 20


# What each of _HANDLE_RES needs before the name: one scan instead of three.
_HANDLE_HINT = re.compile(r"(?i)telegram|t\.me/|tg[ \t]*:|snap|sc[ \t]*:|👻|insta|ig[ \t]*:")


def _find_handles(text: str, phones: list[Span]) -> list[Span]:
    spans = []
    for service, pattern in (_HANDLE_RES if _HANDLE_HINT.search(text) else ()):
        for m in pattern.finditer(text):
            name = m.group("name").rstrip("._-").lower()
            if name in _HANDLE_STOP or len(name) < 2:
                continue
            value = f"telegram:@{name}" if service == "telegram" else f"{service}:{name}"
            spans.append(Span("handle", value, m.start(), m.start("name") + len(name)))
    starts = [p.start for p in phones]
    named_at = {s.start for s in spans}  # "Telegram: @name" names its account, not a phone
    for service, pattern in (("whatsapp", _WHATSAPP), ("telegram", _TELEGRAM_WORD)):
        for m in pattern.finditer(text):
            if m.start() in named_at:
                continue
            phone = _nearest_phone(m.start(), m.end(), phones, starts)
            if phone is not None:
                spans.append(Span("handle", f"{service}:{phone.value}", m.start(), m.end()))
    return spans


def _nearest_phone(start: int, end: int, phones: list[Span], starts: list[int]) -> Span | None:
    """The phone a WhatsApp/Telegram mention is about: inside it, the next one, else the last.

    "bel 06... of whatsapp +31..." gives WhatsApp to the second number only. ``phones`` are
    sorted by start and do not overlap, so two bisections find the candidates.
    """
    i = bisect.bisect_right(starts, start) - 1  # last phone starting at or before the mention
    if i >= 0 and end <= phones[i].end:
        return phones[i]
    j = bisect.bisect_left(starts, end)  # first phone starting after the mention
    if j < len(phones) and phones[j].start - end <= _NEAR_BEFORE:
        return phones[j]
    if i >= 0 and 0 <= start - phones[i].end <= _NEAR_AFTER:
        return phones[i]
    return None


# ---------------------------------------------------------------------------------------------
# Ages, names, prices

_AGE = r"(?P<age>1[4-9]|[2-6][0-9]|70)"
_AGE_RES = (
    # 19jr, 19 jaar, 19j, 19yo, 19 y/o, 19 years (old), but not "20 jaar ervaring"
    re.compile(
        r"(?i)(?<![0-9€$.,/:])" + _AGE + r"[ \t]?(?:jr|jaar|j|yo|y\.o|y/o|yrs|yr|years?)(?!\w)"
        r"(?![ \t]*(?:ervaring|experience|geleden|ago|in het vak))"
    ),
    # leeftijd: 19, age 19, lft 19
    re.compile(rf"(?i)(?<!\w)(?:leeftijd|leeft|lft|age)[ \t]*[:=]?[ \t]*{_AGE}(?![0-9])"),
    # ik ben 19, i am 19, i'm 19 (not "ik ben 24/7", "ik ben 70 kg")
    re.compile(
        r"(?i)(?<!\w)(?:ik ben|ben|i am|i'm|im)[ \t]+"
        r"(?:net[ \t]+|pas[ \t]+|just[ \t]+|only[ \t]+)?"
        + _AGE
        + r"(?![0-9]|[/:.,][0-9]|[ \t]*(?:cm|kg|euro|eur|€|min|uur|keer|x|%)(?!\w))"
    ),
    # "(19)" only straight after a capitalised word, i.e. a name: "Anna (19)"
    re.compile(r"(?<!\w)[A-ZÀ-Ý][a-zà-ÿ]{1,20}[ \t]?\(" + _AGE + r"\)"),
)
# Only words ending like an age word (teens, tens, Dutch compounds, "twentyone") are looked
# up: every word of 14..70 and every English tens word ends so, and the rest cannot give an
# age, so the lookahead drops them in C instead of one dictionary lookup per word.
_AGE_WORD = re.compile(
    r"(?<!\w)(?P<word>(?=[a-z]*(?:tien|tig|teen|ty(?:one|two|three|four|five|six|seven|eight"
    r"|nine)?)(?![a-z]))[a-z]{4,16})"
    r"(?:[- ](?P<unit>one|two|three|four|five|six|seven|eight|nine))?(?!\w)"
)
_AGE_WORD_BEFORE = re.compile(
    r"(?i)(?:ik ben|ben|i am|i'm|im|leeftijd|age)[ \t]*:?[ \t]*(?:(?:net|pas|just|only)[ \t]+)?$"
)
_AGE_WORD_AFTER = re.compile(r"(?i)[ \t]?(?:jaar|jr|years?|yo)(?!\w)")

_NAME = re.compile(
    r"(?<!\w)(?:(?i:ik[ \t]+ben|ik[ \t]+heet|mijn[ \t]+naam[ \t]+is|my[ \t]+name[ \t]+is"
    r"|i[ \t]+am|i'm|call[ \t]+me|noem[ \t]+me)[ \t]+|(?i:naam|name)[ \t]*:[ \t]*)"
    r"(?P<name>[A-ZÀ-Ý][a-zà-ÿ]{1,20}(?:-[A-ZÀ-Ý][a-zà-ÿ]{1,20})?)(?![\w-])"
)
_NAME_STOP = frozenset(
    _words(
        "nieuw new jong young hier here een the echt real beschikbaar available discreet"
        " discrete lief sweet hot sexy geil horny open terug back weer vandaag today alleen"
        " alone student studente nu now in op bij de het your jouw je uw ready klaar thuis"
        " home on at not niet erg zeer very so zo super mooi beautiful pretty wild heel graag"
        " also ook waiting wachten benieuwd curious hele your looking op zoek er there een"
        " single vrij free naughty ondeugend stout lekker nice cute schattig blond blonde"
        " brunette petite slank slim tenger klein small tall groot roemeense bulgaarse"
        " hongaarse poolse nederlandse russische spaanse latina aziatische thaise braziliaanse"
        " colombiaanse oekraiense oekraïense turkse marokkaanse duitse belgische oost-europese"
        " afrikaanse italiaanse franse engelse romanian bulgarian hungarian polish dutch"
        " russian spanish asian thai brazilian colombian ukrainian turkish german italian"
        " french english african european latin"
    )
)

_AMOUNT = r"(?P<amount>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,5})"
_PRICE_RES = (
    re.compile(
        rf"(?i)(?:€|\beuro?\b)[ \t]?{_AMOUNT}(?:,-|\.-|,00|[.,][0-9]{{2}})?(?![0-9])"
    ),
    re.compile(
        rf"(?i)(?<![0-9.,€]){_AMOUNT}[ \t]?(?:,-|,00)?[ \t]?(?:€|euro|eur)(?!\w)"
    ),
    re.compile(rf"(?<![0-9.,€]){_AMOUNT},-(?![0-9])"),
)


def _find_ages(text: str, folded: str) -> list[Span]:
    spans = []
    for pattern in _AGE_RES:
        for m in pattern.finditer(text):
            spans.append(Span("age", str(int(m.group("age"))), m.start("age"), m.end("age")))
    words = _number_words()
    for m in _AGE_WORD.finditer(folded):
        value = words.get(m.group("word"))
        if value is not None and m.group("unit"):
            if m.group("word") not in _EN_TENS:
                continue
            value += words[m.group("unit")]
        if value is None or not AGE_MIN <= value <= AGE_MAX:
            continue
        if _AGE_WORD_AFTER.match(folded, m.end()) or _AGE_WORD_BEFORE.search(
            folded, max(0, m.start() - 24), m.start()
        ):
            spans.append(Span("age", str(value), m.start(), m.end()))
    return spans


def _find_names(text: str) -> list[Span]:
    from zichtbaar.ads.places import canonical_place

    spans = []
    for m in _NAME.finditer(text):
        name = m.group("name")
        if _fold(name) in _NAME_STOP or name.lower() in _NAME_STOP or canonical_place(name):
            continue
        spans.append(Span("name", name, m.start("name"), m.end("name")))
    return spans


def _find_prices(text: str) -> list[Span]:
    # Each price pattern needs "€", "eur" (any case) or ",-".
    if "€" not in text and ",-" not in text and "eur" not in text.lower():
        return []
    spans = []
    for pattern in _PRICE_RES:
        for m in pattern.finditer(text):
            amount = int(m.group("amount").replace(".", ""))
            if 1 <= amount <= 99_999:
                spans.append(Span("price", str(amount), m.start(), m.end()))
    return spans


# ---------------------------------------------------------------------------------------------


class _Intervals:
    """Answers "does this span overlap any of these?" in O(log n), for 1 MB pages."""

    def __init__(self, spans: Iterable[Span]) -> None:
        ordered = sorted(spans, key=lambda s: s.start)
        self._starts = [s.start for s in ordered]
        self._max_end: list[int] = []
        for s in ordered:
            self._max_end.append(max(s.end, self._max_end[-1] if self._max_end else 0))

    def hit(self, span: Span) -> bool:
        i = bisect.bisect_left(self._starts, span.end) - 1  # others starting before span ends
        return i >= 0 and self._max_end[i] > span.start


def _without(spans: Iterable[Span], others: Iterable[Span]) -> list[Span]:
    taken = _Intervals(others)
    return [s for s in spans if not taken.hit(s)]


def _first_fit(spans: list[Span]) -> list[Span]:
    """Drop spans that overlap an earlier (or, at one start, a longer) span of the same kind."""
    kept: list[Span] = []
    reach: dict[str, int] = {}
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if span.start >= reach.get(span.kind, 0):
            kept.append(span)
            reach[span.kind] = span.end
    return kept


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))


def extract(text: str) -> Extraction:
    """All entities in one ad text, with offsets into ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    from zichtbaar.ads.places import find_places

    folded = _fold(text)  # one fold shared by phones, ages and places
    phone_hits = _find_phones(text, folded=folded)
    phones = [s for s, _ in phone_hits]
    emails = _first_fit(_find_emails(text))
    handles = _without(_find_handles(text, phones), emails)
    linked = [h for h in handles if h.value.startswith(("whatsapp:+", "telegram:+"))]
    named = _without([h for h in handles if not h.value.startswith(("whatsapp:+", "telegram:+"))],
                     phones)
    handles = linked + named
    taken = phones + emails
    ages = _without(_first_fit(_find_ages(text, folded)), taken)
    names = _first_fit(_find_names(text))
    prices = _without(_first_fit(_find_prices(text)), taken)
    places = _without(find_places(text, folded=folded), taken + named)
    spans = sorted(
        [*phones, *emails, *handles, *ages, *names, *prices, *places],
        key=lambda s: (s.start, s.end, KINDS.index(s.kind), s.value),
    )
    by_start = sorted(spans, key=lambda s: s.start)
    return Extraction(
        phones=_unique(s.value for s in phones),
        emails=_unique(s.value for s in emails),
        handles=_unique(s.value for s in by_start if s.kind == "handle"),
        ages=_unique(int(s.value) for s in ages),
        names=_unique(s.value for s in names),
        prices=_unique(int(s.value) for s in prices),
        places=_unique(s.value for s in places),
        spans=tuple(spans),
        obscured_phones=_unique(s.value for s, obscured in phone_hits if obscured),
    )
