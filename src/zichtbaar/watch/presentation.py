"""Ad text with its extractions and indicator hits marked, safe for a template."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def highlight(text: str, spans: Sequence[Mapping[str, Any]]) -> SafeString:
    """Escape the text and wrap each span in <mark>; overlapping spans keep the first."""
    parts: list[str] = []
    position = 0
    for span in sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"]))):
        start, end = int(span["start"]), int(span["end"])
        if start < position or end > len(text) or start >= end:
            continue
        parts.append(escape(text[position:start]))
        kind = str(span.get("kind", ""))
        parts.append(f'<mark class="x-{escape(kind)}" title="{escape(span.get("title", kind))}">'
                     f"{escape(text[start:end])}</mark>")
        position = end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308  # every piece above is escaped


def ad_spans(ad_extraction: Mapping[str, Any], hits: Sequence[Mapping[str, Any]],
             labels: Mapping[str, str]) -> list[dict[str, Any]]:
    spans = [{"start": s["start"], "end": s["end"], "kind": s["kind"],
              "title": f'{s["kind"]}: {s["value"]}'} for s in ad_extraction.get("spans", [])]
    spans += [{"start": h["start"], "end": h["end"], "kind": "indicator",
               "title": labels.get(h["indicator"], h["indicator"])} for h in hits]
    return spans
