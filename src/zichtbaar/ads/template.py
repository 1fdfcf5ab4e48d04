"""InfoShield-style template-and-slots summary of a cluster's texts.

The analyst should see at a glance what a cluster's ads share and what varies ("Hoi ik ben
{NAME}, {AGE} jaar, nieuw in {CITY} …"). InfoShield (Lee et al., 2021) finds this with a
multiple sequence alignment and an MDL cost; this is a re-implementation of the idea, not of
its code: align every text to one reference text token by token (``difflib``), keep reference
tokens that most texts share, and mark each run of varying tokens as a slot whose kind is
guessed from the values that fill it. At most ``max_texts`` texts are aligned, so a large
cluster costs O(max_texts · length).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_TOKEN = re.compile(r"\w+(?:[-'’./]\w+)*|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = frozenset(".,!?;:)%’'")
_NO_SPACE_AFTER = frozenset("(#@")
_PHONE = re.compile(r"^[+\d][\d\s\-./*()]{6,}$")
_CITY_CUES = frozenset({"in", "uit", "naar", "te", "from", "regio"})
_NAME_CUES = frozenset({"ben", "heet", "naam", "is", "am", "name", "dit"})


@dataclass(frozen=True)
class Template:
    """``text`` with ``{KIND}`` slots; ``slots`` in order; ``coverage`` = share of tokens shared."""

    text: str
    slots: list[dict[str, Any]] = field(default_factory=list)
    coverage: float = 0.0
    texts: int = 0
    sampled: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "slots": self.slots, "coverage": self.coverage,
                "texts": self.texts, "sampled": self.sampled}


def template_summary(texts: Sequence[str], *, max_texts: int = 50, min_share: float = 0.6,
                     known: Mapping[str, Iterable[str]] | None = None) -> Template:
    """Summarise near-duplicate texts as one template with slots.

    ``min_share``: a reference token is template text when at least this share of the texts
    align to it. ``known`` maps slot kinds to known values (e.g. ``{"NAME": names,
    "CITY": places}`` from the extraction) and beats the built-in guesses.
    """
    clean = [t for t in texts if t and t.strip()]
    if not clean:
        return Template("", [], 0.0, 0, 0)
    sample = _sample(clean, max_texts)
    tokens = [_TOKEN.findall(t) for t in sample]
    ref_n = _reference(tokens)
    ref = tokens[ref_n]
    folded_ref = [t.casefold() for t in ref]
    support = [1] * len(ref)
    alignments: list[dict[int, int]] = []
    for n, toks in enumerate(tokens):
        if n == ref_n:
            alignments.append({i: i for i in range(len(ref))})
            continue
        matcher = SequenceMatcher(None, folded_ref, [t.casefold() for t in toks],
                                  autojunk=False)
        mapping: dict[int, int] = {}
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                mapping[block.a + k] = block.b + k
        alignments.append(mapping)
        for i in mapping:
            support[i] += 1
    need = max(1, math.ceil(min_share * len(tokens) - 1e-9))
    shared = [support[i] >= need for i in range(len(ref))]
    known_values = {kind: {v.casefold() for v in values} for kind, values in (known or {}).items()}

    out: list[str] = []
    slots: list[dict[str, Any]] = []
    i = 0
    while i < len(ref):
        if shared[i]:
            out.append(ref[i])
            i += 1
            continue
        j = i
        while j < len(ref) and not shared[j]:
            j += 1
        values = _slot_values(tokens, alignments, i - 1, j, len(ref))
        kind = _slot_kind(values, ref[i - 1] if i else "", known_values)
        out.append("{" + kind + "}")
        slots.append({"kind": kind, "values": sorted(set(values))[:50]})
        i = j
    total = sum(len(t) for t in tokens)
    covered = sum(sum(1 for i, _ in a.items() if shared[i]) for a in alignments)
    return Template(_detokenise(out), slots, round(covered / total, 4) if total else 0.0,
                    len(clean), len(sample))


def _sample(texts: Sequence[str], k: int) -> list[str]:
    """Evenly spaced sample: deterministic, and it keeps early and late ads of a cluster."""
    if len(texts) <= k:
        return list(texts)
    step = len(texts) / k
    return [texts[int(n * step)] for n in range(k)]


def _reference(tokens: Sequence[Sequence[str]]) -> int:
    """The text sharing most distinct tokens with the others (a cheap medoid)."""
    sets = [{t.casefold() for t in toks} for toks in tokens]
    counts: dict[str, int] = {}
    for s in sets:
        for t in s:
            counts[t] = counts.get(t, 0) + 1
    best, best_score = 0, -1.0
    for n, s in enumerate(sets):
        if not s:
            continue
        score = sum(counts[t] for t in s) / (len(s) ** 0.5)
        if score > best_score:
            best, best_score = n, score
    return best


def _slot_values(tokens: Sequence[Sequence[str]], alignments: Sequence[Mapping[int, int]],
                 left: int, right: int, ref_len: int) -> list[str]:
    """What each text has between the shared tokens around the slot (when both aligned)."""
    values = []
    for toks, mapping in zip(tokens, alignments, strict=True):
        lo = mapping.get(left, -1) if left >= 0 else -1
        hi = mapping.get(right, len(toks)) if right < ref_len else len(toks)
        if (left >= 0 and left not in mapping) or (right < ref_len and right not in mapping):
            continue
        if hi > lo + 1:
            values.append(_detokenise(toks[lo + 1:hi]))
    return values


def _slot_kind(values: Sequence[str], before: str, known: Mapping[str, set[str]]) -> str:
    if not values:
        return "SLOT"
    folded = [v.casefold() for v in values]
    for kind, options in known.items():
        if sum(v in options for v in folded) * 2 >= len(folded):
            return kind.upper()
    if all(v.isdigit() and 12 <= int(v) <= 80 for v in values):
        return "AGE"
    if all(_PHONE.match(v) for v in values):
        return "PHONE"
    if all(v.replace(",", "").replace(".", "").isdigit() for v in values):
        return "NUMBER"
    capitalised = all(v[:1].isupper() for v in values)
    if capitalised and before.casefold() in _CITY_CUES:
        return "CITY"
    if capitalised and (before.casefold() in _NAME_CUES
                        or all(len(v.split()) <= 2 for v in values)):
        return "NAME"
    return "SLOT"


def _detokenise(tokens: Sequence[str]) -> str:
    out = ""
    for tok in tokens:
        if out and not (tok in _NO_SPACE_BEFORE or out[-1] in _NO_SPACE_AFTER):
            out += " "
        out += tok
    return out
