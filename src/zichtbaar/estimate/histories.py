"""Capture histories: the validated input of every estimate.

A capture history says on which lists (registrations) a person appears. The
data arrive either aggregated (one 0/1 column per list plus a ``count``
column) or one row per person (0/1 columns only). Validation happens here,
once, so the fitting code can trust its input; every problem becomes an
:class:`InputError` that names the line and column, so the CLI and the web
page can tell a user exactly what to fix in their spreadsheet.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CaptureHistories", "InputError", "InputWarning"]

COUNT_NAMES = ("count", "counts", "freq", "frequency", "n", "aantal")


class InputError(Exception):
    """A problem in the input that the user has to fix.

    ``row`` is the 1-based line number in the file (the header is line 1);
    ``column`` the column name. Both may be ``None`` when the problem is not
    tied to one cell.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        **details: object,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row
        self.column = column
        self.details = dict(details)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "row": self.row,
            "column": self.column,
            **self.details,
        }


@dataclass(frozen=True)
class InputWarning:
    """Something the user should know that does not stop the estimate."""

    code: str
    message: str
    column: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "column": self.column,
                **dict(self.details)}


def history_arrays(
    patterns: Any, counts: Any, lists: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Patterns (rows × lists) and counts as float arrays of matching shape, or InputError.

    Shared by the array entry points (Rcapture models, LCMCR) that take histories without a
    :class:`CaptureHistories`.
    """
    try:
        pat = np.asarray(patterns, dtype=float)
        cnt = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            "bad_shape", "Capture histories must be numbers: 0/1 per list and a count."
        ) from None
    if pat.ndim != 2 or pat.shape[0] == 0:
        raise InputError("empty", "There are no capture histories (one row per history).")
    m, k = pat.shape
    if cnt.shape != (m,):
        raise InputError("bad_shape", f"There are {m} capture histories but {cnt.size} counts.")
    if len(lists) != k:
        raise InputError("bad_shape", f"There are {len(lists)} list names for {k} list columns.")
    return pat, cnt


def _bits(patterns: np.ndarray) -> np.ndarray:
    """Integer code of each 0/1 pattern (list j contributes 2**j)."""
    k = patterns.shape[1]
    return patterns.astype(np.int64) @ (1 << np.arange(k, dtype=np.int64))


@dataclass(frozen=True, eq=False)
class CaptureHistories:
    """Observed capture histories, aggregated.

    ``patterns`` (m x k, int8) never contains the all-zero history;
    ``counts`` (m,) are positive integers. ``covariates`` maps a covariate
    name to one string value per row (rows with the same pattern but
    different covariate values stay separate). ``structural_zeros`` lists
    histories that cannot occur (0/1 tuples); the models leave them out.
    """

    lists: tuple[str, ...]
    patterns: np.ndarray
    counts: np.ndarray
    covariates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    structural_zeros: tuple[tuple[int, ...], ...] = ()
    warnings: tuple[InputWarning, ...] = ()

    def __post_init__(self) -> None:
        pat = np.asarray(self.patterns, dtype=np.int8)
        cnt = np.asarray(self.counts, dtype=np.int64)
        if pat.ndim != 2 or pat.shape[1] != len(self.lists) or cnt.shape != (pat.shape[0],):
            raise ValueError("patterns must be m x k with k = len(lists) and counts of length m")
        if len(self.lists) < 2:
            raise InputError("too_few_lists", "At least two lists are needed.")
        if len(set(self.lists)) != len(self.lists):
            raise InputError("duplicate_column", "List names must be unique.")
        if np.any((pat != 0) & (pat != 1)):
            raise InputError("not_binary", "Patterns must be 0/1.")
        if np.any(cnt < 0):
            raise InputError("negative_count", "Counts must not be negative.")
        keep = cnt > 0
        if np.any(pat[keep].sum(axis=1) == 0):
            raise InputError("all_zero_history", "The all-zero history cannot be observed.")
        pat.setflags(write=False)
        cnt.setflags(write=False)
        object.__setattr__(self, "patterns", pat)
        object.__setattr__(self, "counts", cnt)
        object.__setattr__(self, "covariates", {k: tuple(v) for k, v in self.covariates.items()})

    # ------------------------------------------------------------------ basics
    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def cell_counts(self) -> np.ndarray:
        """Counts of all 2**k - 1 observable cells, indexed by pattern code - 1.

        Cell c (1 <= c < 2**k) has list j present iff bit j of c is set.
        Covariates are summed over.
        """
        k = self.n_lists
        full = np.zeros(2**k, dtype=np.int64)
        np.add.at(full, _bits(self.patterns), self.counts)
        return full[1:]

    def pair_overlaps(self) -> dict[tuple[int, int], int]:
        """Number of people on both lists i and j (on any other lists too)."""
        out = {}
        for i, j in combinations(range(self.n_lists), 2):
            both = (self.patterns[:, i] == 1) & (self.patterns[:, j] == 1)
            out[(i, j)] = int(self.counts[both].sum())
        return out

    def non_overlapping_pairs(self) -> list[str]:
        """Pairs of lists with no person in common, as ``"A:B"``."""
        return [
            f"{self.lists[i]}:{self.lists[j]}" for (i, j), n in self.pair_overlaps().items()
            if n == 0
        ]

    def with_cell_counts(self, cells: np.ndarray) -> CaptureHistories:
        """A copy with new counts for the 2**k - 1 cells (used by the bootstrap)."""
        k = self.n_lists
        codes = np.arange(1, 2**k)
        pat = ((codes[:, None] >> np.arange(k)) & 1).astype(np.int8)
        cells = np.asarray(cells, dtype=np.int64)
        keep = cells > 0
        return CaptureHistories(self.lists, pat[keep], cells[keep],
                                structural_zeros=self.structural_zeros)

    def drop_covariates(self) -> CaptureHistories:
        """Aggregate over covariates."""
        return self.with_cell_counts(self.cell_counts())

    def stratify(self, column: str) -> dict[str, CaptureHistories]:
        """One :class:`CaptureHistories` per value of a covariate, in sorted order."""
        if column not in self.covariates:
            raise InputError(
                "missing_column", f"Column {column!r} is not a covariate of this data.",
                column=column,
            )
        values = np.asarray(self.covariates[column], dtype=object)
        out: dict[str, CaptureHistories] = {}
        for value in sorted(set(values.tolist())):
            sel = values == value
            part = {k: tuple(np.asarray(v, dtype=object)[sel]) for k, v in self.covariates.items()
                    if k != column}
            out[value] = CaptureHistories(self.lists, self.patterns[sel], self.counts[sel],
                                          covariates=part,
                                          structural_zeros=self.structural_zeros)
        return out

    def to_rows(self) -> list[dict[str, int | str]]:
        rows: list[dict[str, int | str]] = []
        for r in range(len(self.counts)):
            row: dict[str, int | str] = {name: int(self.patterns[r, j])
                                         for j, name in enumerate(self.lists)}
            for cov, vals in self.covariates.items():
                row[cov] = vals[r]
            row["count"] = int(self.counts[r])
            rows.append(row)
        return rows

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_csv(
        cls,
        source: str | bytes | Path,
        *,
        lists: Sequence[str] | None = None,
        count_column: str | None = None,
        covariates: Sequence[str] | str = "auto",
        ignore: Sequence[str] = (),
    ) -> CaptureHistories:
        """Read a CSV file (path), CSV text or the raw bytes of an upload.

        A string containing a newline is taken as CSV text, anything else as a
        path. The delimiter (``,``, ``;`` or tab) is detected from the header.
        ``covariates="auto"`` makes every column whose values are mostly not
        0/1 (age band, year, ...) a covariate; the rest, apart from the count
        column and ``ignore``, are lists. Name covariates explicitly when a
        covariate is itself coded 0/1.
        """
        text = read_text(source)
        header, rows = parse_csv_text(text)
        return cls._from_table(header, rows, lists=lists, count_column=count_column,
                               covariates=covariates, ignore=ignore)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Mapping[str, object] | Sequence[object]],
        *,
        columns: Sequence[str] | None = None,
        lists: Sequence[str] | None = None,
        count_column: str | None = None,
        covariates: Sequence[str] | str = "auto",
        ignore: Sequence[str] = (),
    ) -> CaptureHistories:
        """Build from Python rows: mappings, or sequences with ``columns``.

        Aggregated rows carry a count column; rows without one are one row
        per person. Row numbers in errors are 1-based positions in ``rows``.
        """
        rows = list(rows)
        if not rows:
            raise InputError("empty", "There are no rows.")
        if columns is None:
            first = rows[0]
            if not isinstance(first, Mapping):
                raise ValueError("columns are required when rows are sequences")
            columns = list(first.keys())
        header = [str(c) for c in columns]
        table: list[tuple[int, list[str]]] = []
        for i, r in enumerate(rows, start=1):
            if isinstance(r, Mapping):
                vals = ["" if r.get(c) is None else str(r.get(c)) for c in header]
            else:
                vals = ["" if v is None else str(v) for v in r]
            table.append((i, vals))
        return cls._from_table(header, table, lists=lists, count_column=count_column,
                               covariates=covariates, ignore=ignore)

    @classmethod
    def _from_table(
        cls,
        header: list[str],
        rows: list[tuple[int, list[str]]],
        *,
        lists: Sequence[str] | None,
        count_column: str | None,
        covariates: Sequence[str] | str,
        ignore: Sequence[str],
    ) -> CaptureHistories:
        seen: set[str] = set()
        for name in header:
            if name == "":
                raise InputError("missing_column", "A column has no name.", row=1, column=name)
            if name in seen:
                raise InputError("duplicate_column", f"Column {name!r} appears twice.",
                                 row=1, column=name)
            seen.add(name)
        if count_column is None:
            count_column = next((h for h in header if h.lower() in COUNT_NAMES), None)
        elif count_column not in header:
            raise InputError("missing_column", f"Count column {count_column!r} is missing.",
                             row=1, column=count_column)
        if isinstance(covariates, str):
            if covariates != "auto":
                raise ValueError("covariates must be a list of column names or 'auto'")
            covariates = [] if lists is not None else _detect_covariates(
                header, rows, skip={count_column, *ignore})
        covariates = list(covariates)
        for name in [*covariates, *(lists or [])]:
            if name not in header:
                raise InputError("missing_column", f"Column {name!r} is missing.", row=1,
                                 column=name)
        if lists is None:
            skip = {count_column, *covariates, *ignore}
            lists = [h for h in header if h not in skip]
        lists = list(lists)
        if len(lists) < 2:
            raise InputError("too_few_lists",
                             f"At least two lists are needed; found {len(lists)}.",
                             column=lists[0] if lists else None, n_lists=len(lists))
        if not rows:
            raise InputError("empty", "The file has a header but no data rows.", row=1)
        pos = {h: i for i, h in enumerate(header)}
        li = [pos[name] for name in lists]
        ci = pos[count_column] if count_column is not None else None
        cov_idx = {c: pos[c] for c in covariates}
        pats = np.zeros((len(rows), len(lists)), dtype=np.int8)
        cnts = np.zeros(len(rows), dtype=np.int64)
        covs: dict[str, list[str]] = {c: [] for c in covariates}
        for r, (line, vals) in enumerate(rows):
            if len(vals) > len(header) and any(v != "" for v in vals[len(header):]):
                raise InputError(
                    "too_many_fields",
                    f"Line {line} has {len(vals)} values but the header has {len(header)} "
                    "columns.", row=line, n_values=len(vals), n_columns=len(header),
                )
            if len(vals) < len(header):
                vals = vals + [""] * (len(header) - len(vals))
            for j, idx in enumerate(li):
                v = vals[idx]
                if v in ("0", "1"):
                    pats[r, j] = int(v)
                elif v in ("0.0", "1.0"):
                    pats[r, j] = int(float(v))
                else:
                    raise InputError(
                        "not_binary",
                        f"Line {line}, column {lists[j]!r}: list values must be 0 or 1, "
                        f"found {v!r}.", row=line, column=lists[j], value=v,
                    )
            if ci is not None:
                cnts[r] = _parse_count(vals[ci], line, header[ci])
            else:
                cnts[r] = 1
            if cnts[r] > 0 and pats[r].sum() == 0:
                raise InputError(
                    "all_zero_history",
                    f"Line {line}: this history is on no list (all zeros); the people nobody "
                    "registered cannot be in the data.", row=line, column=lists[0],
                )
            for c, idx in cov_idx.items():
                covs[c].append(vals[idx])
        keep = cnts > 0
        pats, cnts = pats[keep], cnts[keep]
        covs = {c: [v for v, k in zip(vals, keep, strict=True) if k] for c, vals in covs.items()}
        if cnts.size == 0:
            raise InputError("empty", "All counts are zero; there is nothing to estimate.")
        # aggregate identical (pattern, covariates) rows
        keys: dict[tuple, int] = {}
        agg_p: list[np.ndarray] = []
        agg_c: list[int] = []
        agg_cov: dict[str, list[str]] = {c: [] for c in covariates}
        for r in range(len(cnts)):
            key = (pats[r].tobytes(), *(covs[c][r] for c in covariates))
            if key in keys:
                agg_c[keys[key]] += int(cnts[r])
            else:
                keys[key] = len(agg_c)
                agg_p.append(pats[r])
                agg_c.append(int(cnts[r]))
                for c in covariates:
                    agg_cov[c].append(covs[c][r])
        order = sorted(range(len(agg_c)), key=lambda i: (int(agg_p[i].sum()),
                                                         tuple(-agg_p[i])))
        pat_arr = np.array([agg_p[i] for i in order], dtype=np.int8)
        cnt_arr = np.array([agg_c[i] for i in order], dtype=np.int64)
        cov_t = {c: tuple(agg_cov[c][i] for i in order) for c in covariates}
        hist = cls(tuple(lists), pat_arr, cnt_arr, covariates=cov_t)
        return cls(hist.lists, hist.patterns, hist.counts, covariates=hist.covariates,
                   warnings=tuple(overlap_warnings(hist)))


_BINARY = frozenset({"0", "1", "0.0", "1.0"})


def read_text(source: str | bytes | Path) -> str:
    """Text of a CSV given as a path, CSV text or raw bytes (UTF-8, else Windows-1252)."""
    if isinstance(source, bytes | bytearray):
        raw = bytes(source)
    elif isinstance(source, Path) or "\n" not in str(source):
        try:
            raw = Path(source).read_bytes()
        except (OSError, ValueError) as exc:
            raise InputError("file_not_found", f"File {str(source)!r} cannot be read.",
                             path=str(source)) from exc
    else:
        return str(source).lstrip("\ufeff")
    if b"\x00" in raw[:4096]:
        raise InputError("not_csv", "This is not a text (CSV) file.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_csv_text(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, values) rows; blank lines are skipped."""
    lines = text.splitlines()
    header_idx = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if header_idx is None:
        raise InputError("empty", "The file is empty.")
    head = lines[header_idx]
    delim = max([",", ";", "\t"], key=head.count)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for rec in reader:
            line = reader.line_num
            if not any(c.strip() for c in rec):
                continue
            if header is None:
                header = [c.strip() for c in rec]
                continue
            rows.append((line, [c.strip() for c in rec]))
    except csv.Error as exc:
        raise InputError("not_csv", f"The file cannot be read as CSV: {exc}.",
                         row=reader.line_num) from exc
    if header is None:
        raise InputError("empty", "The file is empty.")
    return header, rows


def _detect_covariates(header: Sequence[str], rows: Sequence[tuple[int, list[str]]],
                       skip: set[str | None]) -> list[str]:
    """Columns that are not lists: fewer than half of their values are 0/1.

    A list column with the odd typo stays a list (and the typo becomes an
    error naming its line); a column of years or age bands is a covariate.
    """
    out = []
    for j, name in enumerate(header):
        if name in skip or name == "":
            continue
        vals = [r[j] for _, r in rows if j < len(r) and r[j] != ""]
        if vals and sum(v in _BINARY for v in vals) < 0.5 * len(vals):
            out.append(name)
    return out


def _parse_count(v: str, line: int, column: str) -> int:
    try:
        x = float(v.replace(",", ".")) if v != "" else math.nan
    except ValueError:
        x = math.nan
    if math.isnan(x) or math.isinf(x):
        raise InputError("bad_count", f"Line {line}, column {column!r}: {v!r} is not a number.",
                         row=line, column=column, value=v)
    if x < 0:
        raise InputError("negative_count",
                         f"Line {line}, column {column!r}: a count cannot be negative ({v}).",
                         row=line, column=column, value=v)
    if x != int(x):
        raise InputError("fractional_count",
                         f"Line {line}, column {column!r}: a count must be a whole number ({v}).",
                         row=line, column=column, value=v)
    return int(x)


def overlap_warnings(hist: CaptureHistories) -> list[InputWarning]:
    """Warn about lists that share no one with another list.

    Non-overlapping pairs are handled by the models (interaction at minus
    infinity) but change what the data can say; a list that overlaps no
    other list at all carries no information about the hidden number.
    """
    out: list[InputWarning] = []
    ov = hist.pair_overlaps()
    pairs = [f"{hist.lists[i]}:{hist.lists[j]}" for (i, j), n in ov.items() if n == 0]
    if pairs and len(pairs) == len(ov):
        out.append(InputWarning("no_overlap_at_all",
                                "No two lists have anyone in common.",
                                details={"pairs": pairs}))
        return out
    if pairs:
        out.append(InputWarning("lists_never_overlap",
                                "Some pairs of lists have no one in common: " + ", ".join(pairs),
                                details={"pairs": pairs}))
    for j, name in enumerate(hist.lists):
        if all(n == 0 for (a, b), n in ov.items() if j in (a, b)):
            out.append(InputWarning("list_isolated",
                                    f"List {name!r} has no one in common with any other list.",
                                    column=name))
    return out
