"""The ads export (CSV) and the movement timeline plot (SVG, no third-party assets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import IO, Any

from zichtbaar.core.exports import csv_cell

from .models import Ad

EXPORT_COLUMNS = ["url", "phones", "emails", "city", "age", "cluster", "score", "indicators",
                  "cluster_score", "source", "first_seen", "last_seen"]


def write_ads_csv(stream: IO[str]) -> int:
    """One row per ad. Phones are E.164 (only "+" and digits, so they are written as they are,
    not formula-escaped); every free-text cell is escaped against spreadsheet formulas."""
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    ads = Ad.objects.select_related("cluster", "source").order_by("id")
    for ad in ads.iterator(chunk_size=2000):
        extraction = ad.extraction()
        indicators = sorted({h["indicator"] for h in ad.hits})
        writer.writerow([
            csv_cell(ad.url), ";".join(extraction.get("phones", [])),
            csv_cell(";".join(extraction.get("emails", []))), csv_cell(ad.city),
            "" if ad.age is None else ad.age,
            ad.cluster.reference if ad.cluster_id else "", f"{ad.score:.2f}",
            ";".join(indicators),
            f"{ad.cluster.score:.2f}" if ad.cluster_id else "", csv_cell(ad.source.name),
            ad.first_seen.isoformat(), ad.last_seen.isoformat(),
        ])
        count += 1
    return count


def timeline_svg(rows: Sequence[Any], *, title: str) -> str:
    """Cities × dates as dots: where a number or a network advertised, and when."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    cities = sorted({row.city for row in rows})
    figure = Figure(figsize=(7, max(1.6, 0.35 * len(cities) + 1)))
    FigureCanvasSVG(figure)
    axes = figure.add_subplot(1, 1, 1)
    if rows:
        axes.scatter([row.date for row in rows], [cities.index(row.city) for row in rows],
                     s=[20 + 15 * row.ads for row in rows], color="#1f5f8b")
        axes.plot([row.date for row in rows], [cities.index(row.city) for row in rows],
                  color="#1f5f8b", alpha=0.3)
    axes.set_yticks(range(len(cities)), cities)
    axes.set_title(title, fontsize=9, parse_math=False)
    axes.tick_params(labelsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.StringIO()
    figure.savefig(out, format="svg")
    return out.getvalue()
