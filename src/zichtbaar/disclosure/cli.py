"""``zichtbaar monitor protect MICRODATA.csv --rows COL --cols COL``: a protected count table.

Counts records per row value × column value and writes the table with its totals, primary
cells as ``<T`` and complements as ``x``. Runs without Django: ``zichtbaar.cli`` dispatches
``monitor`` here, and this module handles the ``protect`` subcommand (other ``monitor``
subcommands, which need the database, belong elsewhere). Bad input prints one line and exits
with 2; a table that cannot be protected exits with 1 and writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from .rules import DisclosureRules, InputError, ProtectionError

__all__ = ["main"]

EMPTY_LABEL = "(leeg)"
TOTAL_LABEL = "Totaal"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="zichtbaar monitor protect",
                description="Count records per row x column value and publish the table with "
                            "primary (<T) and secondary (x) suppression.")
    p.add_argument("file", help="CSV with one record per line and a header line")
    p.add_argument("--rows", required=True, metavar="COL", help="column whose values are rows")
    p.add_argument("--cols", required=True, metavar="COL",
                   help="column whose values are columns")
    p.add_argument("--threshold", metavar="T", help="counts 1..T-1 are suppressed (>= 2); "
                   "default: the disclosure class's threshold")
    p.add_argument("--class", dest="disclosure_class", default=None, metavar="NAME",
                   help="disclosure class: national (T=5), subnational, minors, "
                        "multidimensional (T=10)")
    p.add_argument("--out", metavar="TABLE.csv", help="write here instead of stdout")
    return p


def _threshold(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"\s*\d+\s*", text):
        raise InputError("bad_threshold", f"--threshold must be a whole number >= 2, "
                         f"not {text!r}.")
    value = int(text)
    if value < 2:
        raise InputError("bad_threshold", f"--threshold must be at least 2, not {value}.")
    return value


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and records of a CSV file; every way it can fail is an InputError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("missing_file", f"File not found: {path}.") from None
    except IsADirectoryError:
        raise InputError("not_a_file", f"{path} is a directory, not a CSV file.") from None
    except OSError as exc:
        raise InputError("unreadable", f"Cannot read {path}: {exc.strerror}.") from None
    if not data.strip():
        raise InputError("empty", f"{path} is empty.")
    if b"\x00" in data[:8192]:
        raise InputError("not_csv", f"{path} is not a CSV text file (it looks binary).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:   # Dutch spreadsheet exports are often Windows-1252
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError("not_csv", f"{path} is not a CSV text file "
                             "(not UTF-8 or Windows-1252 text).") from None
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        lines = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise InputError("not_csv", f"{path} is not valid CSV: {exc}.") from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise InputError("empty", f"{path} is empty.")
    header = [h.strip() for h in lines[0]]
    if len(lines) == 1:
        raise InputError("empty", f"{path} has a header but no records.")
    return header, lines[1:]


def _column(header: list[str], name: str, option: str) -> int:
    if name not in header:
        shown = ", ".join(repr(h) for h in header[:12])
        raise InputError("missing_column", f"Column {name!r} ({option}) is not in the file; "
                         f"columns: {shown}.", column=name)
    if header.count(name) > 1:
        raise InputError("duplicate_column", f"Column {name!r} occurs more than once.",
                         column=name)
    return header.index(name)


def _order(values: set[str]) -> list[str]:
    """Numbers in numeric order, then text in alphabetical order; the empty label last."""
    def key(v: str) -> tuple[int, float, str]:
        if v == EMPTY_LABEL:
            return (2, 0.0, v)
        try:
            return (0, float(v.replace(",", ".")), v)
        except ValueError:
            return (1, 0.0, v.casefold())
    return sorted(values, key=key)


def tabulate(path: Path, rows: str, cols: str
             ) -> tuple[list[list[int]], list[str], list[str]]:
    """Counts per (row value, column value) from a record-per-line CSV."""
    header, records = _read(path)
    ri, ci = _column(header, rows, "--rows"), _column(header, cols, "--cols")
    if ri == ci:
        raise InputError("same_column", "--rows and --cols name the same column.")
    counts: Counter[tuple[str, str]] = Counter()
    for n, record in enumerate(records, start=2):
        if len(record) <= max(ri, ci):
            raise InputError("short_row", f"Line {n} has {len(record)} fields; the header "
                             f"has {len(header)}.", row=n)
        r = record[ri].strip() or EMPTY_LABEL
        c = record[ci].strip() or EMPTY_LABEL
        counts[(r, c)] += 1
    row_values = _order({r for r, _ in counts})
    col_values = _order({c for _, c in counts})
    table = [[counts.get((r, c), 0) for c in col_values] for r in row_values]
    return table, row_values, col_values


def _protect(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    threshold = _threshold(args.threshold)
    rules = DisclosureRules()
    rules.for_class(args.disclosure_class)   # unknown class: InputError before any work
    table, row_values, col_values = tabulate(Path(args.file), args.rows, args.cols)
    from .secondary import protect_table

    result = protect_table(table, row_values, col_values, rules=rules,
                           disclosure_class=args.disclosure_class, threshold=threshold,
                           row_header=args.rows)
    if "marker_exact" in result.flags:
        print(f"zichtbaar monitor protect: warning: with --threshold {result.threshold} the "
              f"marker <{result.threshold} can only mean 1.", file=sys.stderr)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(result.to_rows(TOTAL_LABEL))
    if args.out:
        try:
            Path(args.out).write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise InputError("unwritable", f"Cannot write {args.out}: {exc.strerror}.") \
                from None
        print(f"Wrote {args.out}: {len(row_values)} x {len(col_values)} table, "
              f"{len(result.suppressed)} cells suppressed ({result.rule_version}, "
              f"T={result.threshold}).", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``zichtbaar monitor``; ``argv`` starts with the subcommand."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] != "protect":
            raise _UsageError("usage: zichtbaar monitor protect MICRODATA.csv --rows COL "
                              "--cols COL [--threshold T] [--class NAME] [--out TABLE.csv]")
        if argv[1:2] in (["-h"], ["--help"]):
            build_parser().print_help()
            return 0
        return _protect(argv[1:])
    except _UsageError as exc:
        print(f"zichtbaar monitor: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"zichtbaar monitor protect: {exc.message}", file=sys.stderr)
        return 2
    except ProtectionError as exc:
        print(f"zichtbaar monitor protect: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
