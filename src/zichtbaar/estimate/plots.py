"""Figures for an estimate: intervals per stratum, observed vs hidden, list overlaps.

Drawn with matplotlib's object API (``Figure`` + Agg canvas, no ``pyplot``) so
that the web worker can draw from any thread without global state.
Labels are Dutch by default, English with ``lang="en"``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import numpy as np

from .histories import CaptureHistories

__all__ = ["draw"]

TEXT = {
    "nl": {
        "total": "totaal", "estimate": "Schatting (met interval)", "observed": "geregistreerd",
        "hidden": "niet geregistreerd (geschat)", "people": "aantal personen",
        "insufficient": "te weinig gegevens", "intersection": "aantal personen",
        "list_size": "op lijst", "title_strata": "Geschatte aantallen per groep",
        "title_oh": "Geregistreerd en verborgen", "title_overlap": "Overlap tussen lijsten",
    },
    "en": {
        "total": "total", "estimate": "Estimate (with interval)", "observed": "registered",
        "hidden": "not registered (estimated)", "people": "number of people",
        "insufficient": "insufficient data", "intersection": "number of people",
        "list_size": "on list", "title_strata": "Estimated numbers per group",
        "title_oh": "Registered and hidden", "title_overlap": "Overlap between lists",
    },
}
DARK, LIGHT, GREY = "#1f4e79", "#9dc3e6", "#7f7f7f"


def _rows(result: Mapping[str, Any], t: Mapping[str, str]) -> list[tuple[str, Mapping[str, Any]]]:
    rows: list[tuple[str, Mapping[str, Any]]] = [(t["total"], result)]
    col = result.get("stratum_column")
    for s in result.get("strata") or []:
        rows.append((f"{col}={s['stratum']}" if col else str(s["stratum"]), s))
    return rows


def _save(fig: Any, out: BinaryIO | pathlib.Path, fmt: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.savefig(out, format=fmt, dpi=120, bbox_inches="tight")


def draw(result: Mapping[str, Any], kind: str, out: BinaryIO | pathlib.Path, *,
         histories: CaptureHistories | None = None, fmt: str = "png",
         lang: str = "nl") -> None:
    """Draw one figure into ``out`` (a path or a binary stream)."""
    from matplotlib.figure import Figure

    t = TEXT.get(lang, TEXT["nl"])
    if kind == "overlap":
        assert histories is not None
        fig = _overlap(Figure(figsize=(8, 5)), histories, t)
    else:
        rows = _rows(result, t)
        fig = Figure(figsize=(7, 1.2 + 0.45 * len(rows)))
        ax = fig.add_subplot(1, 1, 1)
        if kind == "strata":
            _strata(ax, rows, t)
        else:
            _observed_hidden(ax, rows, t)
    _save(fig, out, fmt)


def _strata(ax: Any, rows: Sequence[tuple[str, Mapping[str, Any]]],
            t: Mapping[str, str]) -> None:
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows, strict=True):
        if r.get("estimate") is None:
            ax.plot([r.get("observed") or 0], [yi], marker="x", color=GREY)
            ax.annotate(t["insufficient"], (r.get("observed") or 0, yi),
                        xytext=(8, -4), textcoords="offset points", color=GREY)
            continue
        lo, hi = r.get("ci") or [None, None]
        est = r["estimate"]
        if lo is not None and hi is not None:
            ax.errorbar([est], [yi], xerr=[[est - lo], [hi - est]], fmt="o", color=DARK,
                        capsize=4)
        else:
            ax.plot([est], [yi], "o", color=DARK)
        ax.plot([r["observed"]], [yi], marker="|", markersize=14, color=GREY)
    ax.set_yticks(y, [label for label, _ in rows])
    ax.set_xlabel(f"{t['people']} (| = {t['observed']})")
    ax.set_title(t["title_strata"])
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)


def _observed_hidden(ax: Any, rows: Sequence[tuple[str, Mapping[str, Any]]],
                     t: Mapping[str, str]) -> None:
    y = np.arange(len(rows))[::-1]
    obs = np.array([float(r.get("observed") or 0) for _, r in rows])
    hid = np.array([float(r["hidden"]) if r.get("hidden") is not None else 0.0
                    for _, r in rows])
    ax.barh(y, obs, color=DARK, label=t["observed"])
    ax.barh(y, hid, left=obs, color=LIGHT, label=t["hidden"])
    for yi, (_, r) in zip(y, rows, strict=True):
        if r.get("estimate") is None:
            ax.annotate(t["insufficient"], (float(r.get("observed") or 0), yi),
                        xytext=(6, -4), textcoords="offset points", color=GREY)
        elif r.get("share_invisible") is not None:
            ax.annotate(f"{100 * r['share_invisible']:.0f}%",
                        (float(r["observed"]) + float(r["hidden"]), yi),
                        xytext=(6, -4), textcoords="offset points")
    ax.set_yticks(y, [label for label, _ in rows])
    ax.set_xlabel(t["people"])
    ax.set_title(t["title_oh"])
    ax.legend(loc="lower right")


def _overlap(fig: Any, h: CaptureHistories, t: Mapping[str, str], top: int = 20) -> Any:
    """UpSet-style chart: the largest list combinations, dots for their lists."""
    cells = h.cell_counts()
    k = h.n_lists
    codes = np.arange(1, 2**k)
    order = [int(i) for i in np.argsort(-cells, kind="stable") if cells[i] > 0][:top]
    pats = ((codes[order][:, None] >> np.arange(k)) & 1).astype(bool)
    sizes = (h.patterns.astype(np.int64) * h.counts[:, None]).sum(axis=0)
    gs = fig.add_gridspec(2, 2, width_ratios=(1, 4), height_ratios=(3, 2), wspace=0.05,
                          hspace=0.05)
    ax_bar = fig.add_subplot(gs[0, 1])
    ax_dot = fig.add_subplot(gs[1, 1], sharex=ax_bar)
    ax_size = fig.add_subplot(gs[1, 0], sharey=ax_dot)
    x = np.arange(len(order))
    ax_bar.bar(x, cells[order], color=DARK)
    for xi, v in zip(x, cells[order], strict=True):
        ax_bar.annotate(str(int(v)), (xi, v), ha="center", va="bottom", fontsize=7)
    ax_bar.set_ylabel(t["intersection"])
    ax_bar.set_title(t["title_overlap"])
    ax_bar.tick_params(labelbottom=False)
    yy = np.arange(k)
    for xi, p in zip(x, pats, strict=True):
        ax_dot.scatter(np.full(k, xi), yy, s=30, color=np.where(p, DARK, "#dddddd"))
        on = yy[p]
        if on.size > 1:
            ax_dot.plot([xi, xi], [on.min(), on.max()], color=DARK)
    ax_dot.set_yticks(yy, list(h.lists))
    ax_dot.tick_params(labelleft=False, labelbottom=False)
    ax_size.barh(yy, sizes, color=GREY)
    ax_size.invert_xaxis()
    ax_size.set_yticks(yy, list(h.lists))
    ax_size.set_xlabel(t["list_size"])
    return fig
