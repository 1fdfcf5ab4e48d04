"""Character folding shared by extraction and the place gazetteer."""

from __future__ import annotations

import unicodedata

_FOLDED: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    low = unicodedata.normalize("NFD", ch)[0].lower()
    folded = low if len(low) == 1 else ch
    _FOLDED[ch] = folded
    return folded


def fold(text: str) -> str:
    """Lower-case and drop diacritics one character at a time, so offsets stay valid."""
    if text.isascii():
        return text.lower()  # one character for one: the common case, done in C
    return "".join(_FOLDED.get(ch) or _fold_char(ch) for ch in text)
