"""Dutch place names in ad text: municipalities (CBS list) and the residences ads name instead.

Places feed the "same phone in several cities" linkage signal, so a name must map to one
canonical spelling whatever the ad wrote ("Den Bosch", "s-Hertogenbosch" -> "'s-Hertogenbosch").
Matching is whole words, case- and diacritic-insensitive, longest name first, on a word index
rather than one giant regex so a 1 MB page stays linear. Names that are also common words
("Buren", "Huizen", "Best") carry a flag in ``data/places.txt`` that asks for a capital letter
and, for the worst ones, a place cue before them ("in Best", "regio Goes").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from zichtbaar.ads.extract import Span
from zichtbaar.ads.text import fold

DATA = Path(__file__).with_name("data") / "places.txt"

_WORD = re.compile(r"[^\W_]+")
# What may stand between two words of one place name: spaces, hyphens, "a/d", apostrophes.
_GAP = re.compile(r"[ \t\-/'’.]{1,3}")
_APOSTROPHES = "'’‘`"
_CUES = frozenset(
    ("in", "te", "uit", "regio", "omgeving", "bij", "nabij", "near", "from", "around", "city",
     "stad", "plaats", "woonplaats", "locatie", "location")
)


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer row: a municipality, or a residence with the municipality it lies in."""

    name: str
    kind: str  # "M" municipality, "R" residence
    municipality: str
    flag: str  # "", "!" capital letter needed, "?" capital letter and a cue word needed


_fold = fold


def _key(name: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_fold(name)))


@cache
def _gazetteer() -> tuple[dict[tuple[str, ...], Place], dict[str, Place], int]:
    """Parse data/places.txt once: word-tuple index, name index and the longest name in words."""
    index: dict[tuple[str, ...], Place] = {}
    by_name: dict[str, Place] = {}
    for lineno, raw in enumerate(DATA.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 5 or fields[0] not in {"M", "R"}:
            raise ValueError(f"{DATA.name}:{lineno}: expected kind|name|municipality|aliases|flags")
        kind, name, municipality, aliases, flag = fields
        place = Place(name, kind, municipality or name, flag)
        for spelling in [name, *filter(None, (a.strip() for a in aliases.split(";")))]:
            key = _key(spelling)
            if key in index and index[key].name != name:
                raise ValueError(f"{DATA.name}:{lineno}: {spelling!r} already means {index[key]}")
            index[key] = place
            by_name[" ".join(key)] = place
    for place in list(index.values()):
        if place.kind == "R" and " ".join(_key(place.municipality)) not in by_name:
            raise ValueError(f"{DATA.name}: residence {place.name} in unknown {place.municipality}")
    longest = max(len(k) for k in index)
    return index, by_name, longest


def municipalities() -> tuple[str, ...]:
    """All municipality names as CBS writes them (342 for 2025)."""
    index, _, _ = _gazetteer()
    return tuple(sorted({p.name for p in index.values() if p.kind == "M"}))


def canonical_place(name: str) -> str | None:
    """The canonical spelling of a place name or alias ("den bosch" -> "'s-Hertogenbosch")."""
    place = _lookup(name)
    return place.name if place else None


def municipality_of(name: str) -> str | None:
    """The municipality a place lies in ("Hoofddorp" -> "Haarlemmermeer"), for coarser grouping."""
    place = _lookup(name)
    return place.municipality if place else None


def _lookup(name: str) -> Place | None:
    if not isinstance(name, str):
        raise TypeError(f"name must be str, not {type(name).__name__}")
    _, by_name, _ = _gazetteer()
    return by_name.get(" ".join(_key(name)))


@cache
def _prefixes() -> tuple[frozenset[str], frozenset[tuple[str, ...]]]:
    """First words of all names, and every word-prefix of a name: most words of an ad start
    no name, and a prefix that no name extends ends the search early."""
    index, _, _ = _gazetteer()
    return (frozenset(k[0] for k in index),
            frozenset(k[:n] for k in index for n in range(1, len(k) + 1)))


def find_places(text: str, *, folded: str | None = None) -> list[Span]:
    """Place mentions as spans (value = canonical name), longest name first, no overlaps.

    ``folded`` is ``fold(text)`` when the caller has it already.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    index, _, longest = _gazetteer()
    firsts, _ = _prefixes()
    if folded is None:
        folded = _fold(text)
    words = [m.span() for m in _WORD.finditer(folded)]
    # Only words that begin some name can start a match: one set lookup per word.
    starts = [i for i, w in enumerate(_WORD.findall(folded)) if w in firsts]
    spans: list[Span] = []
    i = 0
    for i_start in starts:
        if i_start < i:
            continue  # inside the previous match
        i = i_start
        hit = _match_at(text, folded, words, i, index, longest)
        if hit is None:
            i += 1
            continue
        place, n = hit
        start, end = words[i][0], words[i + n - 1][1]
        if start > 0 and text[start - 1] in _APOSTROPHES and folded[start : words[i][1]] == "s":
            start -= 1  # keep the apostrophe of "'s-Gravenhage" inside the highlighted span
        spans.append(Span("place", place.name, start, end))
        i += n
    return spans


def _match_at(
    text: str,
    folded: str,
    words: list[tuple[int, int]],
    i: int,
    index: dict[tuple[str, ...], Place],
    longest: int,
) -> tuple[Place, int] | None:
    """The longest gazetteer name starting at word i whose words are joined by a name gap."""
    _, prefixes = _prefixes()
    key: list[str] = []
    candidates: list[tuple[Place, int]] = []
    for j in range(i, min(i + longest, len(words))):
        if j > i and not _GAP.fullmatch(folded, words[j - 1][1], words[j][0]):
            break
        key.append(folded[words[j][0] : words[j][1]])
        words_so_far = tuple(key)
        if words_so_far not in prefixes:
            break  # no name continues this way
        place = index.get(words_so_far)
        if place is not None:
            candidates.append((place, j - i + 1))
    for place, n in reversed(candidates):
        if _allowed(text, folded, words, i, place):
            return place, n
    return None


def _allowed(
    text: str, folded: str, words: list[tuple[int, int]], i: int, place: Place
) -> bool:
    """Apply the common-word flags: a capital letter, and for "?" also a cue word before it."""
    if not place.flag:
        return True
    if not text[words[i][0]].isupper():
        return False
    if place.flag == "?":
        return i > 0 and folded[words[i - 1][0] : words[i - 1][1]] in _CUES
    return True
