"""Indicator suggestions from free text: codebook terms matched in a signal's own words.

Pure Python (no Django): plain text and a lexicon (code -> terms) in, suggestions with the
exact character spans out, so a page can quote and highlight the words that matched.

A term is a phrase of words. Each word matches a token of the text when

* both reduce to the same crude stem (case and accents ignored; Dutch and English plural
  and inflection endings such as -en, -s, -e, -ed dropped, a final double consonant
  undoubled): ``paspoort`` matches ``Paspoorten``, ``schuld`` matches ``schulden``;
* or the word ends in ``*`` and the token starts with the rest: ``ingenom*`` matches
  ``ingenomen``. Irregular forms (``innemen``/``ingenomen``) are listed as separate terms.

The words of a phrase may come in any order, within one sentence, with up to ``GAP``
other words between them (little words such as "de", "het", "the" not counted), because
Dutch moves its verbs about ("het paspoort werd door de baas ingenomen").
A term that starts with ``re:`` is a regular expression over the normalised text (lower
case, accents removed); it is for patterns such as ages ("16 jaar", "(15)").

Negation is not understood. A match right after a negation word ("geen paspoort
ingenomen") is still returned, with ``negated`` set so the page can say so: a suggestion
is only ever a suggestion, and a person decides.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["GAP", "Match", "Suggestion", "excerpt", "find", "normalise", "stem"]

GAP = 3  # other (non-stop) words allowed between the words of one term
NEGATION_WINDOW = 3  # words before a match that are searched for a negation
NEGATIONS = frozenset({"geen", "niet", "nooit", "zonder", "no", "not", "never", "without"})
STOPWORDS = frozenset({
    "de", "het", "een", "en", "of", "van", "te", "tot", "bij", "op", "met", "voor", "aan",
    "uit", "is", "the", "a", "an", "and", "or", "to", "for", "at", "by", "with", "own",
})
_SUFFIXES = ("en", "es", "ed", "s", "e")
_TOKEN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?;\n]")
_VOWELS = frozenset("aeiou")


@dataclass(frozen=True)
class Match:
    term: str
    spans: tuple[tuple[int, int], ...]  # character offsets in the original text
    negated: bool = False

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass(frozen=True)
class Suggestion:
    code: str
    matches: tuple[Match, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.term for m in self.matches))

    @property
    def negated(self) -> bool:
        """Every match follows a negation word: worth a closer look, still not dropped."""
        return all(m.negated for m in self.matches)


def normalise(text: str) -> str:
    """Lower case without accents, one character for one character (offsets stay valid)."""
    out = []
    for char in text:
        plain = "".join(c for c in unicodedata.normalize("NFKD", char.lower())
                        if not unicodedata.combining(c))
        out.append(plain if len(plain) == 1 else char.lower()[:1] or char)
    return "".join(out)


def stem(word: str) -> str:
    """A crude stem shared by Dutch and English inflections; only ever compared to another."""
    w = normalise(word)
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in _VOWELS:
        w = w[:-1]
    return w


@dataclass(frozen=True)
class _Word:
    stem: str
    prefix: bool


def _compile(term: str) -> tuple[_Word, ...] | re.Pattern[str]:
    if term.startswith("re:"):
        return re.compile(term[3:])
    raw = [w for w in re.findall(r"[\w*]+", normalise(term))]
    kept = [w for w in raw if w.rstrip("*") not in STOPWORDS] or raw
    return tuple(_Word(w.rstrip("*"), True) if w.endswith("*") else _Word(stem(w), False)
                 for w in kept if w.rstrip("*"))


Token = tuple[str, int, int, int]  # normalised text, start, end, sentence number


def _negated(tokens: Sequence[Token], first: int, used: set[int]) -> bool:
    """A negation word among the few words before ``first``, in the same sentence."""
    if first >= len(tokens):
        return False
    before = range(max(0, first - NEGATION_WINDOW), first)
    return any(tokens[i][0] in NEGATIONS and tokens[i][3] == tokens[first][3]
               for i in before if i not in used)


class _Text:
    """The text's tokens once, with the look-ups every term needs (one pass per text)."""

    def __init__(self, text: str) -> None:
        self.norm = normalise(text)
        ends = [m.start() for m in _SENTENCE_END.finditer(self.norm)]
        self.tokens: list[Token] = [(m.group(), m.start(), m.end(),
                                     bisect.bisect(ends, m.start()))
                                    for m in _TOKEN.finditer(self.norm)]
        # Stop words in the text are skipped, not counted, in the distance between words.
        self.content = [k for k, t in enumerate(self.tokens) if t[0] not in STOPWORDS]
        self.rank = {k: r for r, k in enumerate(self.content)}
        self.by_stem: dict[str, list[int]] = {}
        self.by_token: dict[str, list[int]] = {}
        for k in self.content:
            self.by_stem.setdefault(stem(self.tokens[k][0]), []).append(k)
            self.by_token.setdefault(self.tokens[k][0], []).append(k)
        self.sorted_tokens = sorted(self.by_token)

    def positions(self, word: _Word) -> set[int]:
        if not word.prefix:
            return set(self.by_stem.get(word.stem, ()))
        found: set[int] = set()
        at = bisect.bisect_left(self.sorted_tokens, word.stem)
        while at < len(self.sorted_tokens) and self.sorted_tokens[at].startswith(word.stem):
            found.update(self.by_token[self.sorted_tokens[at]])
            at += 1
        return found


def _match_words(words: tuple[_Word, ...], term: str, text: _Text) -> list[Match]:
    """Each match: one token per word, all in one sentence and within ``len(words) + GAP``
    content tokens, in any order."""
    hits = [text.positions(w) for w in words]
    if not all(hits):
        return []
    tokens, content = text.tokens, text.content
    found: list[Match] = []
    width = len(words) + GAP
    after = -1
    for first in sorted(set().union(*hits)):
        if first <= after:
            continue
        rank = text.rank[first]
        window = [k for k in content[rank:rank + width] if tokens[k][3] == tokens[first][3]]
        used: list[int] = []
        for word_hits in hits:
            pick = next((k for k in window if k not in used and k in word_hits), None)
            if pick is None:
                break
            used.append(pick)
        else:
            used.sort()
            found.append(Match(term=term, spans=tuple((tokens[k][1], tokens[k][2]) for k in used),
                               negated=_negated(tokens, used[0], set(used))))
            after = used[-1]
    return found


@functools.lru_cache(maxsize=4096)
def _compiled(term: str) -> tuple[_Word, ...] | re.Pattern[str]:
    return _compile(term)


def find(text: str, lexicon: Mapping[str, Iterable[str]], *,
         exclude: Iterable[str] = ()) -> list[Suggestion]:
    """Codes whose terms occur in ``text``, in lexicon order; codes in ``exclude`` skipped."""
    if not text or not text.strip():
        return []
    prepared = _Text(text)
    skip = set(exclude)
    result = []
    for code, terms in lexicon.items():
        if code in skip:
            continue
        matches: list[Match] = []
        for term in dict.fromkeys(terms):
            compiled = _compiled(term)
            if isinstance(compiled, re.Pattern):
                for hit in compiled.finditer(prepared.norm):
                    if hit.end() > hit.start():
                        first = next((k for k, t in enumerate(prepared.tokens)
                                      if t[2] > hit.start()), len(prepared.tokens))
                        matches.append(Match(term=term, spans=((hit.start(), hit.end()),),
                                             negated=_negated(prepared.tokens, first, set())))
            elif compiled:
                matches.extend(_match_words(compiled, term, prepared))
        if matches:
            matches.sort(key=lambda m: (m.start, m.end))
            result.append(Suggestion(code=code, matches=tuple(matches)))
    return result


def excerpt(text: str, spans: Sequence[tuple[int, int]], *, context: int = 50
            ) -> list[tuple[str, bool]]:
    """The words around ``spans`` as (piece, highlighted) pairs, for a quote with marks."""
    if not spans:
        return []
    start = max(0, spans[0][0] - context)
    end = min(len(text), spans[-1][1] + context)
    if start > 0:  # do not cut a word in half
        space = text.find(" ", start, spans[0][0])
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", spans[-1][1], end)
        end = space if space != -1 else end
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for a, b in sorted(spans):
        if a < at:
            continue
        if a > at:
            pieces.append((text[at:a], False))
        pieces.append((text[a:b], True))
        at = b
    if end > at:
        pieces.append((text[at:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
