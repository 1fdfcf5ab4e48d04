"""``zichtbaar estimate FILE ...``: Multiple Systems Estimation from the command line.

Runs without Django (``zichtbaar.cli`` dispatches here before any setup).
Bad input never ends in a traceback: it prints one sentence in the user's
language (Dutch unless ``--lang en`` or an English ``LANG``) and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .api import CI_METHODS, METHODS, PLOT_KINDS, load_csv, plot, run, to_csv
from .histories import InputError
from .loglinear import EstimationError
from .messages import message_for

__all__ = ["main"]

T = {
    "nl": {
        "error": "Fout", "usage_error": "Ongeldige opdracht", "internal": "Interne fout",
        "method": "Methode", "interval": "interval", "lists": "Lijsten", "group": "groep",
        "observed": "geregistreerd", "estimate": "schatting", "ci": "interval",
        "hidden": "verborgen", "share": "onzichtbaar", "total": "totaal", "model": "Model",
        "main_only": "(alleen hoofdeffecten)", "warnings": "Waarschuwingen",
        "fit": "Modelfit", "seed": "seed", "insufficient": "te weinig gegevens",
        "plot_written": "Figuur geschreven naar", "none": "geen",
        "checks": "Controles naast de schatting",
    },
    "en": {
        "error": "Error", "usage_error": "Invalid command", "internal": "Internal error",
        "method": "Method", "interval": "interval", "lists": "Lists", "group": "group",
        "observed": "registered", "estimate": "estimate", "ci": "interval",
        "hidden": "hidden", "share": "invisible", "total": "total", "model": "Model",
        "main_only": "(main effects only)", "warnings": "Warnings", "fit": "Fit",
        "seed": "seed", "insufficient": "insufficient data",
        "plot_written": "Figure written to", "none": "none",
        "checks": "Checks next to the estimate",
    },
}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _lang(argv: Sequence[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return "en" if argv[i + 1].lower().startswith("en") else "nl"
        if a.startswith("--lang="):
            return "en" if a.split("=", 1)[1].lower().startswith("en") else "nl"
    env = os.environ.get("LANGUAGE") or os.environ.get("LC_ALL") or os.environ.get("LANG", "")
    return "en" if env.lower().startswith("en") else "nl"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="zichtbaar estimate",
        description="Multiple Systems Estimation: estimate how many people no list registered.",
    )
    p.add_argument("file", help="CSV: one 0/1 column per list plus a count column, "
                   "or one row per person; other columns are covariates")
    p.add_argument("--method", default="stepwise", choices=METHODS)
    p.add_argument("--ci", default="default", choices=CI_METHODS,
                   help="default: profile likelihood (credible interval for lcmcr)")
    p.add_argument("--strata", metavar="COL", help="estimate per value of this column too")
    p.add_argument("--covariates", metavar="COL,..",
                   help="log-linear model over lists x these covariates")
    p.add_argument("--count-column", metavar="COL")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--nboot", type=int, default=1000)
    p.add_argument("--pthresh", type=float, default=0.02)
    p.add_argument("--format", default="table", choices=("table", "json", "csv"))
    p.add_argument("--output", "-o", metavar="FILE", help="write the result here, not stdout")
    p.add_argument("--plot", metavar="FILE", help="write a figure (PNG, or SVG/PDF by suffix)")
    p.add_argument("--plot-kind", choices=PLOT_KINDS,
                   help="default: strata with --strata, else observed_hidden")
    p.add_argument("--lang", choices=("nl", "en"))
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return p


class _Progress:
    """Progress on stderr: a rewritten line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = -1.0
        self.t0 = time.monotonic()

    def __call__(self, fraction: float, text: str) -> None:
        pct = math.floor(100 * fraction)
        if self.tty:
            if pct != self.last:
                self.stream.write(f"\r{pct:3d}%  {text[:60]:<60}")
                self.stream.flush()
        elif pct // 10 != self.last // 10 or (pct == 100 and self.last != 100):
            self.stream.write(f"{pct:3d}%  {text} ({time.monotonic() - self.t0:.0f} s)\n")
        self.last = pct

    def close(self) -> None:
        if self.tty and self.last >= 0:
            self.stream.write("\n")


def _fmt(x: Any, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}".replace(",", " ")


def format_table(result: Mapping[str, Any], lang: str = "nl") -> str:
    """A plain-text report for the terminal."""
    t = T[lang]
    lines = []
    level = result.get("level")
    ci_label = f"{t['ci']} {round(100 * level)}%" if level else t["ci"]
    lines.append(f"{t['method']}: {result['method']}; {t['interval']}: "
                 f"{result.get('ci_method') or t['none']}; {t['seed']} {result.get('seed')}; "
                 f"zichtbaar {result.get('version')}")
    lines.append(f"{t['lists']}: {', '.join(result.get('lists', []))}")
    head = (f"{'':<22}{t['observed']:>14}{t['estimate']:>12}{ci_label:>24}"
            f"{t['hidden']:>12}{t['share']:>13}")
    lines += ["", head]

    def row(label: str, r: Mapping[str, Any]) -> str:
        if r.get("estimate") is None:
            return f"{label[:21]:<22}{_fmt(r.get('observed')):>14}  {t['insufficient']}"
        lo, hi = r.get("ci") or [None, None]
        share = r.get("share_invisible")
        return (f"{label[:21]:<22}{_fmt(r['observed']):>14}{_fmt(r['estimate']):>12}"
                f"{_fmt(lo) + ' - ' + _fmt(hi):>24}{_fmt(r.get('hidden')):>12}"
                f"{'-' if share is None else f'{100 * share:.0f}%':>13}")

    lines.append(row(t["total"], result))
    col = result.get("stratum_column")
    for s in result.get("strata") or []:
        lines.append(row(f"{col}={s['stratum']}", s))
    model = result.get("model") or []
    if result.get("rcapture_model"):
        lines += ["", f"{t['model']}: {result['rcapture_model']}"]
    elif result.get("method") != "lcmcr":
        lines += ["", f"{t['model']}: {', '.join(model) if model else t['main_only']}"]
    fit = result.get("fit") or {}
    if fit.get("deviance") is not None:
        lines.append(f"{t['fit']}: deviance {fit['deviance']:.3f}, df {fit['df']}, "
                     f"AIC {fit['aic']:.3f}, BIC {fit['bic']:.3f}")
    diag = result.get("diagnostics")
    if diag:
        from .diagnostics import summary_lines

        lines += ["", f"{t['checks']}:", *(f"  {line}" for line in summary_lines(diag, lang))]
    warns = list(result.get("warnings") or [])
    for s in result.get("strata") or []:
        warns += s.get("warnings") or []
    if warns:
        lines += ["", f"{t['warnings']}:"]
        seen = set()
        for w in warns:
            msg = w.get(f"message_{lang}") or w.get("message_en") or w.get("code")
            if msg not in seen:
                seen.add(msg)
                lines.append(f"- {msg}")
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace, lang: str, stderr: TextIO, stdout: TextIO) -> int:
    if not Path(args.file).is_file():
        raise InputError("file_not_found", "file not found", path=args.file)
    covs = [c.strip() for c in args.covariates.split(",") if c.strip()] if args.covariates \
        else None
    forced = [*(covs or []), *([args.strata] if args.strata else [])]
    histories = load_csv(Path(args.file), count_column=args.count_column,
                         covariates=forced or None)
    long_run = args.ci == "bootstrap" or args.method == "lcmcr" or bool(args.strata) or covs
    progress = _Progress(stderr) if long_run and not args.quiet else None
    try:
        result = run(histories, method=args.method, ci=args.ci, strata=args.strata,
                     seed=args.seed, level=args.level, n_boot=args.nboot,
                     pthresh=args.pthresh, covariates=covs, progress=progress)
    finally:
        if progress:
            progress.close()
    if args.format == "json":
        text = json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    elif args.format == "csv":
        text = to_csv(result)
    else:
        text = format_table(result, lang)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        stdout.write(text)
    if args.plot:
        kind = args.plot_kind or ("strata" if args.strata else "observed_hidden")
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("png", "svg", "pdf") else "png"
        plot(result, kind, Path(args.plot), histories=histories, fmt=fmt, lang=lang)
        stderr.write(f"{T[lang]['plot_written']} {args.plot}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input or no estimate, 1 bug)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang(argv)
    stderr, stdout = sys.stderr, sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        stderr.write(parser.format_usage())
        stderr.write(f"{T[lang]['usage_error']}: {exc}\n")
        return 2
    if args.lang:
        lang = args.lang
    try:
        return _run(args, lang, stderr, stdout)
    except (InputError, EstimationError) as exc:
        stderr.write(f"{T[lang]['error']}: {message_for(exc, lang)}\n")
        return 2
    except OSError as exc:
        stderr.write(f"{T[lang]['error']}: {exc.strerror or exc}: {exc.filename or ''}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        stderr.write(f"{T[lang]['internal']}: {type(exc).__name__}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
