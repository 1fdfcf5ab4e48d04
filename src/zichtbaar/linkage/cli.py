"""``zichtbaar link``: deduplicate one CSV of persons or link two, without Django.

Analysts receive lists from partners in all states; a bad row is reported with its file and
line and skipped, a file that cannot be read stops the run with exit code 2, and nothing
prints a traceback. Messages are Dutch unless ``--lang en`` or ``LANG=en*``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from zichtbaar.linkage.normalise import COLUMNS, FieldError, normalise_person

__all__ = ["main"]

MAX_BYTES = 512 * 1024 * 1024

MESSAGES: dict[str, dict[str, str]] = {
    "not_found": {"nl": "{file}: bestand niet gevonden.", "en": "{file}: file not found."},
    "unreadable": {"nl": "{file}: bestand kan niet worden gelezen ({detail}).",
                   "en": "{file}: file cannot be read ({detail})."},
    "too_large": {"nl": "{file}: bestand is groter dan 512 MB.",
                  "en": "{file}: file is larger than 512 MB."},
    "empty": {"nl": "{file}: het bestand is leeg.", "en": "{file}: the file is empty."},
    "binary": {"nl": "{file}: dit is geen tekstbestand (CSV).",
               "en": "{file}: this is not a text (CSV) file."},
    "no_header": {
        "nl": "{file}: de eerste regel moet een kopregel zijn met de kolommen {columns}.",
        "en": "{file}: the first line must be a header with the columns {columns}."},
    "no_id_column": {"nl": "{file}: de kopregel mist de kolom 'id'.",
                     "en": "{file}: the header lacks the column 'id'."},
    "extra_columns": {"nl": "{file}: kolommen genegeerd: {columns}.",
                      "en": "{file}: columns ignored: {columns}."},
    "no_rows": {"nl": "{file}: geen bruikbare regels.", "en": "{file}: no usable rows."},
    "bad_encoding": {"nl": "{file}, regel {line}: geen geldige UTF-8-tekst; regel overgeslagen.",
                     "en": "{file}, line {line}: not valid UTF-8 text; row skipped."},
    "column_count": {
        "nl": "{file}, regel {line}: {found} kolommen in plaats van {expected}; "
              "regel overgeslagen.",
        "en": "{file}, line {line}: {found} columns instead of {expected}; row skipped."},
    "missing_id": {"nl": "{file}, regel {line}: 'id' is leeg; regel overgeslagen.",
                   "en": "{file}, line {line}: 'id' is empty; row skipped."},
    "duplicate_id": {
        "nl": "{file}, regel {line}: id '{value}' kwam al voor op regel {first}; "
              "regel overgeslagen.",
        "en": "{file}, line {line}: id '{value}' already appeared on line {first}; row skipped."},
    "bad_date": {"nl": "{file}, regel {line}: geboortedatum '{value}' is geen geldige datum; "
                       "regel overgeslagen.",
                 "en": "{file}, line {line}: date of birth '{value}' is not a valid date; "
                       "row skipped."},
    "implausible_date": {"nl": "{file}, regel {line}: geboortedatum '{value}' ligt in de "
                               "toekomst of voor 1880; regel overgeslagen.",
                         "en": "{file}, line {line}: date of birth '{value}' lies in the "
                               "future or before 1880; row skipped."},
    "bad_phone": {"nl": "{file}, regel {line}: telefoonnummer '{value}' is onleesbaar; "
                        "regel overgeslagen.",
                  "en": "{file}, line {line}: phone number '{value}' cannot be read; "
                        "row skipped."},
    "bad_email": {"nl": "{file}, regel {line}: e-mailadres '{value}' is ongeldig; "
                        "regel overgeslagen.",
                  "en": "{file}, line {line}: e-mail address '{value}' is invalid; "
                        "row skipped."},
    "bad_sex": {"nl": "{file}, regel {line}: geslacht '{value}' is onbekend (gebruik m, v of x); "
                      "regel overgeslagen.",
                "en": "{file}, line {line}: sex '{value}' is not recognised (use m, f or x); "
                      "row skipped."},
    "no_secret": {
        "nl": "--bloom heeft de gedeelde sleutel nodig in de omgevingsvariabele {env}; "
              "die is niet gezet.",
        "en": "--bloom needs the shared secret in the environment variable {env}; "
              "it is not set."},
    "bad_threshold": {"nl": "--threshold moet tussen 0 en 1 liggen.",
                      "en": "--threshold must lie between 0 and 1."},
    "cannot_write": {"nl": "{file}: kan niet schrijven ({detail}).",
                     "en": "{file}: cannot write ({detail})."},
    "skipped": {"nl": "{file}: {count} regel(s) overgeslagen, {kept} gebruikt.",
                "en": "{file}: {count} row(s) skipped, {kept} used."},
    "done": {"nl": "{count} paren geschreven naar {file}.",
             "en": "{count} pairs written to {file}."},
    "stage_normalise": {"nl": "normaliseren", "en": "normalising"},
    "stage_train": {"nl": "model trainen", "en": "training model"},
    "stage_predict": {"nl": "paren zoeken", "en": "finding pairs"},
    "stage_encode": {"nl": "coderen", "en": "encoding"},
    "stage_block": {"nl": "kandidaten", "en": "candidates"},
    "stage_compare": {"nl": "vergelijken", "en": "comparing"},
}


class Stop(Exception):
    """A problem that ends the run with exit code 2."""

    def __init__(self, code: str, **fields: object) -> None:
        super().__init__(code)
        self.code = code
        self.fields = fields


@dataclass
class Loaded:
    records: list[dict[str, str]] = field(default_factory=list)
    problems: list[tuple[str, dict[str, object]]] = field(default_factory=list)


def _language(requested: str | None) -> str:
    if requested in {"nl", "en"}:
        return requested
    return "en" if os.environ.get("LANG", "").lower().startswith("en") else "nl"


def _say(lang: str, code: str, stream: TextIO = sys.stderr, **fields: object) -> None:
    print(MESSAGES[code][lang].format(**fields), file=stream, flush=True)


def _read_lines(path: Path, name: str) -> tuple[list[str], list[int]]:
    """Decoded lines (bad ones blanked) and the numbers of lines that were not UTF-8."""
    if not path.is_file():
        raise Stop("not_found", file=name)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise Stop("too_large", file=name)
        data = path.read_bytes()
    except OSError as exc:
        raise Stop("unreadable", file=name, detail=exc.strerror or type(exc).__name__) from None
    if not data.strip():
        raise Stop("empty", file=name)
    if b"\x00" in data[:65536]:
        raise Stop("binary", file=name)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines: list[str] = []
    bad: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError:
            lines.append("")
            bad.append(number)
    if bad and bad[0] == 1:
        raise Stop("binary", file=name)
    if len(bad) > max(10, len(lines) // 2):
        raise Stop("binary", file=name)
    return lines, bad


def load(path: Path, name: str) -> Loaded:
    """Rows of one CSV file as raw records, with every skipped row explained."""
    lines, bad_lines = _read_lines(path, name)
    loaded = Loaded()
    for line in bad_lines:
        loaded.problems.append(("bad_encoding", {"file": name, "line": line}))
    reader = csv.reader(io.StringIO("\n".join(lines)))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise Stop("no_header", file=name, columns=", ".join(COLUMNS)) from None
    known = [h for h in header if h in COLUMNS]
    if len(known) < 2:
        raise Stop("no_header", file=name, columns=", ".join(COLUMNS))
    if "id" not in header:
        raise Stop("no_id_column", file=name)
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        loaded.problems.append(("extra_columns", {"file": name, "columns": ", ".join(extra)}))
    first_line: dict[str, int] = {}
    bad_set = set(bad_lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            loaded.problems.append(("column_count", {"file": name, "line": reader.line_num,
                                                     "found": "?", "expected": len(header)}))
            continue
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line (or a line already reported as not UTF-8)
        if line in bad_set:
            continue
        if len(row) != len(header):
            loaded.problems.append(("column_count", {"file": name, "line": line,
                                                     "found": len(row), "expected": len(header)}))
            continue
        record = {h: v for h, v in zip(header, row, strict=True) if h in COLUMNS}
        record_id = record.get("id", "").strip()
        if not record_id:
            loaded.problems.append(("missing_id", {"file": name, "line": line}))
            continue
        if record_id in first_line:
            loaded.problems.append(("duplicate_id", {"file": name, "line": line,
                                                     "value": record_id,
                                                     "first": first_line[record_id]}))
            continue
        try:
            normalise_person(record)
        except FieldError as exc:
            loaded.problems.append((exc.code, {"file": name, "line": line, "value": exc.value}))
            continue
        first_line[record_id] = line
        loaded.records.append(record)
    return loaded


class ProgressBar:
    """A one-line bar on stderr; plain lines when stderr is not a terminal."""

    def __init__(self, lang: str, stream: TextIO = sys.stderr) -> None:
        self.lang = lang
        self.stream = stream
        self.tty = stream.isatty()
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        label = MESSAGES.get(f"stage_{stage}", {}).get(self.lang, stage)
        percent = round(100 * max(0.0, min(1.0, fraction)))
        if self.last == (label, percent):
            return
        self.last = (label, percent)
        filled = percent // 5
        bar = f"[{'#' * filled}{'.' * (20 - filled)}] {percent:3d}% {label}"
        if self.tty:
            self.stream.write("\r" + bar.ljust(60))
            if percent == 100:
                self.stream.write("\n")
        elif percent in (0, 100):
            self.stream.write(bar + "\n")
        self.stream.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zichtbaar link",
        description="Deduplicate one CSV of persons or link two; writes id_a,id_b,probability.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="one or two CSV files")
    parser.add_argument("--out", required=True, metavar="PAIRS.csv")
    parser.add_argument("--threshold", type=float, default=0.9,
                        help="minimum match probability (default 0.9)")
    parser.add_argument("--bloom", action="store_true",
                        help="match on hardened Bloom-filter encodings only")
    parser.add_argument("--secret-env", default="ZICHTBAAR_LINKAGE_KEY", metavar="NAME",
                        help="environment variable with the shared secret (for --bloom)")
    parser.add_argument("--lang", choices=["nl", "en"], default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    lang = _language(args.lang)
    if len(args.files) > 2:
        build_parser().error("at most two files")
    try:
        return _run(args, lang)
    except Stop as stop:
        _say(lang, stop.code, **stop.fields)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, lang: str) -> int:
    if not 0.0 < args.threshold <= 1.0:
        raise Stop("bad_threshold")
    secret = None
    if args.bloom:
        secret = os.environ.get(args.secret_env, "")
        if not secret:
            raise Stop("no_secret", env=args.secret_env)
    sides: list[list[dict[str, str]]] = []
    for name in args.files:
        loaded = load(Path(name), name)
        for code, fields in loaded.problems:
            _say(lang, code, **fields)
        skipped = sum(1 for code, _ in loaded.problems if code != "extra_columns")
        if skipped:
            _say(lang, "skipped", file=name, count=skipped, kept=len(loaded.records))
        if not loaded.records:
            raise Stop("no_rows", file=name)
        sides.append(loaded.records)
    from zichtbaar.linkage.matching import find_pairs

    bar = ProgressBar(lang)
    pairs = find_pairs(sides[0], sides[1] if len(sides) == 2 else None,
                       threshold=args.threshold, bloom=args.bloom, secret=secret, progress=bar)
    _write(Path(args.out), args.out, [(p.id_a, p.id_b, p.probability) for p in pairs])
    _say(lang, "done", count=len(pairs), file=args.out)
    return 0


def _write(path: Path, name: str, rows: Sequence[tuple[str, str, float]]) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id_a", "id_b", "probability"])
            for id_a, id_b, probability in rows:
                writer.writerow([id_a, id_b, f"{probability:.6f}"])
    except OSError as exc:
        raise Stop("cannot_write", file=name,
                   detail=exc.strerror or type(exc).__name__) from None


