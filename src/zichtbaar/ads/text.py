"""Character folding shared by extraction and the place gazetteer."""

from __future__ import annotations

import re
import unicodedata

_FOLDED: dict[str, str] = {}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_char(ch: str) -> str:
    low = unicodedata.normalize("NFD", ch)[0].lower()
    folded = low if len(low) == 1 else ch
    _FOLDED[ch] = folded
    return folded


def fold(text: str) -> str:
    """Lower-case and drop diacritics one character at a time, so offsets stay valid."""
    if text.isascii():
        return text.lower()  # one character for one: the common case, done in C
    # Ads are ASCII with a few emoji or accented letters: lower the ASCII stretches in C and
    # fold only the other characters one by one.
    parts: list[str] = []
    pos = 0
    for m in _NON_ASCII.finditer(text):
        parts.append(text[pos:m.start()].lower())
        parts.append("".join(_FOLDED.get(ch) or _fold_char(ch) for ch in m.group()))
        pos = m.end()
    parts.append(text[pos:].lower())
    return "".join(parts)
