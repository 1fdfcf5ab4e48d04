"""Static SVG charts of published monitor tables (matplotlib, no script, no third-party assets).

Every function takes a ``publish.Table`` — never raw values — so a chart can only show what
the table may show: a suppressed or missing cell is a gap in the line or an absent bar
segment with its marker printed above the bar, never a zero. Charts are served as their own
URL (``<img src=…svg>``): the site's CSP allows no inline script or style in pages.

Dashboards and the annual report share these functions; they take optional extras
(baseline, target, interval band) and return SVG bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from .publish import Cell, Table

# Colour-blind safe (Okabe–Ito), in the order categories appear.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#882255")
INK = "#1d2733"
MUTED = "#6b7580"
SIZE = (7.0, 3.4)


@dataclass(frozen=True)
class Anchor:
    """A reference value from the catalogue: a baseline (with its year) or a target."""

    value: float
    label: str
    year: str | None = None


Band = Sequence[tuple[float | None, float | None]]


def _figure(size: tuple[float, float] = SIZE) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8, colors=INK)
    axes.grid(axis="y", color="#e3e6ea", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _svg(figure: Figure, axes: Axes, *, title: str, mark: str = "",
         ylabel: str = "") -> bytes:
    axes.set_title(title, fontsize=9, loc="left", color=INK, parse_math=False)
    if ylabel:
        axes.set_ylabel(ylabel, fontsize=8, color=MUTED)
    if mark:
        # Internal figures carry their mark in the image too: a screenshot keeps it.
        figure.text(0.99, 0.01, mark, ha="right", va="bottom", fontsize=8, color="#a00000",
                    fontweight="bold")
    # Text stays text (not glyph outlines): smaller files, and readable by search and tests.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "zichtbaar"}):
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def cell_band(table: Table, column: int = 0) -> list[tuple[float | None, float | None]]:
    """The interval of each shown cell of one column (None where the table shows none)."""
    return [(c.lower, c.upper) if c.shown else (None, None)
            for c in (line[column] for line in table.cells)]


def _draw_band(axes: Axes, xs: Sequence[int], band: Band, colour: str, label: str) -> None:
    lows = [_nan(low) for low, _high in band]
    highs = [_nan(high) for _low, high in band]
    if all(math.isnan(v) for v in lows + highs):
        return
    axes.fill_between(xs, lows, highs, color=colour, alpha=0.18, linewidth=0,
                      label=label)
    # A lone year with an interval is no area: show it as an error bar.
    for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
        alone = all(j < 0 or j >= len(xs) or math.isnan(lows[j]) for j in (i - 1, i + 1))
        if alone and not math.isnan(low) and not math.isnan(high):
            axes.vlines(xs[i], low, high, color=colour, alpha=0.5, linewidth=6)


def _anchors(axes: Axes, rows: Sequence[str], baseline: Anchor | None,
             target: Anchor | None) -> None:
    if baseline is not None:
        axes.axhline(baseline.value, color=MUTED, linestyle="--", linewidth=0.9,
                     label=baseline.label)
        if baseline.year in rows:
            axes.plot([rows.index(baseline.year)], [baseline.value], marker="D",
                      color=MUTED, markersize=5, linestyle="none")
    if target is not None:
        axes.axhline(target.value, color="#007a3d", linestyle=":", linewidth=1.4,
                     label=target.label)


def _xticks(axes: Axes, rows: Sequence[str]) -> None:
    axes.set_xticks(range(len(rows)), rows)
    if len(rows) > 8:
        for label in axes.get_xticklabels():
            label.set_rotation(45)
            label.set_ha("right")
    if rows:
        axes.set_xlim(-0.5, len(rows) - 0.5)


def _legend(axes: Axes) -> None:
    handles, _labels = axes.get_legend_handles_labels()
    if handles:
        axes.legend(fontsize=7, frameon=False, loc="upper left",
                    bbox_to_anchor=(1.0, 1.0))


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, color=MUTED,
              transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def line_chart(table: Table, *, title: str | None = None, baseline: Anchor | None = None,
               target: Anchor | None = None, band: Band | None = None, mark: str = "",
               empty: str = "—") -> bytes:
    """One line per column over the table's rows (periods); gaps where a cell is not shown.

    ``band`` is an interval per row for the first column (``cell_band`` reads it from the
    table's cells); ``baseline`` and ``target`` come from the catalogue.
    """
    figure, axes = _figure()
    rows = list(table.row_labels)
    xs = list(range(len(rows)))
    if not rows:
        _empty(axes, empty)
    for j, name in enumerate(table.col_labels):
        ys = [_nan(v) for v in table.column(j)]
        colour = PALETTE[j % len(PALETTE)]
        axes.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.6, color=colour,
                  label=name if len(table.col_labels) > 1 else None)
        if j == 0 and band is not None:
            _draw_band(axes, xs, band, colour, _band_label(table))
    _anchors(axes, rows, baseline, target)
    if rows:
        _xticks(axes, rows)
        values = [v for j in range(len(table.col_labels)) for v in table.column(j)
                  if v is not None]
        if values and min(values) >= 0:
            axes.set_ylim(bottom=0)  # counts and shares from zero: no exaggerated trends
    _legend(axes)
    return _svg(figure, axes, title=title or table.title, mark=mark,
                ylabel=table.col_labels[0] if len(table.col_labels) == 1 else "")


def _band_label(table: Table) -> str:
    from django.utils.translation import gettext as _

    return _("Interval")


def stacked_bars(table: Table, *, title: str | None = None, columns: Sequence[int] | None = None,
                 mark: str = "", empty: str = "—") -> bytes:
    """Bars per row, stacked by column. A suppressed cell is left out of its bar (not drawn
    as zero) and its marker is printed above the bar, so the bar reads as incomplete."""
    figure, axes = _figure()
    rows = list(table.row_labels)
    picked = list(columns) if columns is not None else list(range(len(table.col_labels)))
    bottoms = [0.0] * len(rows)
    if not rows:
        _empty(axes, empty)
    for n, j in enumerate(picked):
        heights = [c.value if c.shown and c.value is not None else 0.0
                   for c in (line[j] for line in table.cells)]
        shown = [line[j].shown for line in table.cells]
        xs = [i for i in range(len(rows)) if shown[i]]
        axes.bar(xs, [heights[i] for i in xs], bottom=[bottoms[i] for i in xs],
                 color=PALETTE[n % len(PALETTE)], width=0.7, label=table.col_labels[j])
        for i in xs:
            bottoms[i] += heights[i]
    for i, line in enumerate(table.cells):
        hidden = sorted({line[j].text for j in picked if not line[j].shown})
        if hidden:
            axes.annotate(" ".join(hidden), (i, bottoms[i]), xytext=(0, 3),
                          textcoords="offset points", ha="center", fontsize=7, color=MUTED)
    if rows:
        _xticks(axes, rows)
        axes.set_ylim(0, max([*bottoms, 1.0]) * 1.12)
    _legend(axes)
    return _svg(figure, axes, title=title or table.title, mark=mark,
                ylabel=table.unit and _unit(table))


def _unit(table: Table) -> str:
    from . import labels

    return labels.unit_label(table.unit)


def band_chart(observed: Table, estimated: Table, *, title: str, observed_label: str,
               estimated_label: str, mark: str = "", empty: str = "—") -> bytes:
    """Registered against estimated: the registered line, the estimate with its interval
    band, over the union of both tables' periods (first column of each)."""
    figure, axes = _figure()
    rows = sorted(set(observed.row_keys) | set(estimated.row_keys))
    xs = list(range(len(rows)))
    if not rows:
        _empty(axes, empty)

    def by_row(table: Table) -> Mapping[str, Cell]:
        return {key: line[0] for key, line in zip(table.row_keys, table.cells, strict=True)}

    seen, est = by_row(observed), by_row(estimated)
    obs_y = [_nan(getattr(seen.get(r), "value", None)) for r in rows]
    est_y = [_nan(getattr(est.get(r), "value", None)) for r in rows]
    band = [(getattr(est.get(r), "lower", None), getattr(est.get(r), "upper", None))
            if getattr(est.get(r), "shown", False) else (None, None) for r in rows]
    _draw_band(axes, xs, band, PALETTE[1], _band_label(estimated))
    axes.plot(xs, est_y, marker="s", markersize=4, linewidth=1.4, color=PALETTE[1],
              linestyle="--", label=estimated_label)
    axes.plot(xs, obs_y, marker="o", markersize=3.5, linewidth=1.8, color=PALETTE[0],
              label=observed_label)
    if rows:
        _xticks(axes, rows)
        axes.set_ylim(bottom=0)
    _legend(axes)
    return _svg(figure, axes, title=title, mark=mark, ylabel=_unit(observed))


def chain_bars(table: Table, *, title: str, note: str, mark: str = "",
               empty: str = "—") -> bytes:
    """Signal → handover → outcome as stepped bars per year: each column a step, side by
    side and shaded darker along the chain. Yearly volumes, not a cohort: ``note`` says so
    under the title, because a handover this year may belong to a signal of last year."""
    figure, axes = _figure()
    rows = list(table.row_labels)
    steps = list(table.col_labels)
    width = 0.8 / max(len(steps), 1)
    if not rows:
        _empty(axes, empty)
    for j, step in enumerate(steps):
        cells = [line[j] for line in table.cells]
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(rows))]
        shown = [(x, c.value) for x, c in zip(xs, cells, strict=True)
                 if c.shown and c.value is not None]
        axes.bar([x for x, _v in shown], [v for _x, v in shown], width=width * 0.95,
                 color=("#9ecae1", "#4292c6", "#08519c", "#08306b")[j % 4],
                 label=f"{j + 1}. {step}")
        for x, c in zip(xs, cells, strict=True):
            if not c.shown:
                axes.annotate(c.text, (x, 0), xytext=(0, 3), textcoords="offset points",
                              ha="center", fontsize=7, color=MUTED)
    if rows:
        _xticks(axes, rows)
    _legend(axes)
    figure.text(0.01, 0.01, note, ha="left", va="bottom", fontsize=7, color=MUTED,
                style="italic")
    return _svg(figure, axes, title=title, mark=mark, ylabel=_unit(table))
