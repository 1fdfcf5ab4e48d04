"""Online ads: extraction, graded risk indicators, linking into networks, template summaries
and synthetic ads. A pure library: it never imports Django.

Names are loaded lazily, so importing one part (say, extraction in a crawler process) does not
load the linking stack (numpy, datasketch).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Extraction": "extract", "Span": "extract", "extract": "extract",
    "normalise_phone": "extract",
    "canonical_place": "places", "find_places": "places",
    "hash_distance": "images", "image_hash": "images",
    "Lexicon": "lexicon", "LexiconEntry": "lexicon", "LexiconError": "lexicon",
    "load_lexicon": "lexicon",
    "ClusterScore": "indicators", "Hit": "indicators", "ScoredAd": "indicators",
    "indicator_hits": "indicators", "indicator_performance": "indicators",
    "score_cluster": "indicators",
    "AdRecord": "linking", "LinkSettings": "linking", "LinkUpdate": "linking",
    "Linker": "linking", "timeline": "linking",
    "Template": "template", "template_summary": "template",
    "SynthAd": "synth", "generate": "synth", "image_png": "synth",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zichtbaar.ads' has no attribute {name!r}")
    return getattr(importlib.import_module(f"zichtbaar.ads.{module}"), name)
