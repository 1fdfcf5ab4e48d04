"""Log-linear MSE over lists x covariates, with EM for missing covariate values.

This is the method of the Dutch estimates (Van Dijk, Cruyff, Van der Heijden &
Kragten-Heerdink 2017; Cruyff's R code ``mse`` and ``MSEincomplete``), which
no CRAN package offers. One Poisson log-linear model is fitted to the full
cross-classification of the lists and the covariates (age band, gender, form
of exploitation, year, ...). The people on no list form one hidden cell per
combination of covariate levels; each is predicted by the model, so the
estimates per level add up exactly to the total and capture probabilities may
differ by level (the main source of bias when one pools over groups).

- Main effects of every list and every covariate are always in the model; a
  covariate named in ``trend`` keeps a categorical main effect (each year's
  size is free) but enters every interaction as one linear score, so "the
  police register a smaller share each year" costs one parameter per term.
- Without ``terms`` the model is chosen by greedy forward selection on BIC
  over all two-way terms (list:list, list:covariate, covariate:covariate),
  as ``mse::model_search`` does (``step`` with ``k = log(n)``).
- Missing covariate values (NaN, None, "") are handled by EM under missing at
  random (Zwane & Van der Heijden 2007; ``MSEincomplete``): each incompletely
  classified count is spread over the cells it is compatible with, in
  proportion to the current fitted values, the model is refitted, and so on
  until the observed-data log-likelihood stops changing. AIC and BIC use that
  observed-data log-likelihood; the deviance is that of the completed table.
- Interaction columns whose cells hold no one are at minus infinity
  (SparseMSE's treatment of lists that never overlap): their cells are left
  out and counted as parameters in AIC/BIC, as in :mod:`.loglinear`.
- Intervals: parametric bootstrap as ``mse::boot_mse`` - a multinomial table
  of size round(N-hat) from the fitted full table (hidden cells included),
  the same missingness re-applied, the model refitted with EM; percentile
  limits. Seeded, so a given seed always gives the same interval.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.special import gammaln

from .histories import COUNT_NAMES, InputError
from .loglinear import EstimationError, newton_poisson, poisson_deviance

try:  # optional: keeps BLAS to one thread (see _one_blas_thread)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - present wherever scikit-learn is
    threadpool_limits = None

__all__ = [
    "MESSAGES",
    "CovariateResult",
    "LevelEstimate",
    "fit_covariate_model",
]

Term = tuple[int, ...]
Progress = Callable[[float, str], None]

MAX_CELLS = 100_000
SPARSE_LEVEL_MIN = 10
EM_MAXIT = 3000
EM_TOL = 1e-10
METHOD = "covariate_loglinear"
CI_METHOD = "parametric_bootstrap_percentile"

#: Dutch and English sentences for the codes this module raises or warns with.
#: Fields in braces come from the error's ``row``/``column``/details.
MESSAGES: dict[str, dict[str, str]] = {
    "empty": {
        "nl": "De tabel bevat geen gegevens.",
        "en": "The table contains no data.",
    },
    "missing_column": {
        "nl": "Kolom '{column}' ontbreekt.",
        "en": "Column '{column}' is missing.",
    },
    "duplicate_column": {
        "nl": "Kolom '{column}' is tegelijk lijst, covariaat of aantal.",
        "en": "Column '{column}' is used twice (as list, covariate or count).",
    },
    "too_few_lists": {
        "nl": "Er zijn minstens twee lijsten nodig; gevonden: {n_lists}.",
        "en": "At least two lists are needed; found: {n_lists}.",
    },
    "not_binary": {
        "nl": "Regel {row}, kolom '{column}': een lijst mag alleen 0 of 1 bevatten, "
              "gevonden '{value}'.",
        "en": "Line {row}, column '{column}': a list may only contain 0 or 1, found '{value}'.",
    },
    "bad_count": {
        "nl": "Regel {row}, kolom '{column}': '{value}' is geen getal.",
        "en": "Line {row}, column '{column}': '{value}' is not a number.",
    },
    "negative_count": {
        "nl": "Regel {row}, kolom '{column}': een aantal kan niet negatief zijn ('{value}').",
        "en": "Line {row}, column '{column}': a count cannot be negative ('{value}').",
    },
    "fractional_count": {
        "nl": "Regel {row}, kolom '{column}': een aantal moet een geheel getal zijn "
              "('{value}').",
        "en": "Line {row}, column '{column}': a count must be a whole number ('{value}').",
    },
    "all_zero_history": {
        "nl": "Regel {row}: deze persoon staat op geen enkele lijst (alleen nullen); "
              "wie niemand registreerde kan niet in de gegevens staan.",
        "en": "Line {row}: this person is on no list (all zeros); people nobody "
              "registered cannot be in the data.",
    },
    "list_empty": {
        "nl": "Op lijst '{column}' staat niemand; laat deze lijst weg.",
        "en": "No one is on list '{column}'; leave this list out.",
    },
    "covariate_all_missing": {
        "nl": "Covariaat '{column}' is in elke regel leeg.",
        "en": "Covariate '{column}' is empty in every row.",
    },
    "covariate_single_level": {
        "nl": "Covariaat '{column}' heeft maar één waarde ('{value}'); daarmee valt niets "
              "uit te splitsen.",
        "en": "Covariate '{column}' has only one value ('{value}'); there is nothing to "
              "break down.",
    },
    "trend_not_covariate": {
        "nl": "Trendvariabele '{column}' staat niet tussen de covariaten.",
        "en": "Trend variable '{column}' is not one of the covariates.",
    },
    "trend_not_numeric": {
        "nl": "Regel {row}, kolom '{column}': een trendvariabele moet een getal zijn "
              "(zoals een jaartal), gevonden '{value}'.",
        "en": "Line {row}, column '{column}': a trend variable must be a number (such as "
              "a year), found '{value}'.",
    },
    "unknown_term": {
        "nl": "Term '{term}': '{name}' is geen lijst of covariaat.",
        "en": "Term '{term}': '{name}' is not a list or covariate.",
    },
    "bad_term": {
        "nl": "Term '{term}' noemt dezelfde variabele twee keer of is leeg.",
        "en": "Term '{term}' names the same variable twice or is empty.",
    },
    "bad_structural_zero": {
        "nl": "Structurele nul '{value}': verwacht (lijst, 'covariaat=waarde') met een "
              "bestaande lijst, covariaat en waarde.",
        "en": "Structural zero '{value}': expected (list, 'covariate=value') naming an "
              "existing list, covariate and value.",
    },
    "structural_zero_observed": {
        "nl": "Regel {row}: deze combinatie is als onmogelijk opgegeven (structurele nul) "
              "maar komt in de gegevens voor.",
        "en": "Line {row}: this combination was declared impossible (structural zero) "
              "but occurs in the data.",
    },
    "too_many_cells": {
        "nl": "De kruistabel van lijsten en covariaten heeft {cells} cellen; het maximum is "
              "{limit}. Gebruik minder lijsten of minder covariaatwaarden.",
        "en": "The cross-table of lists and covariates has {cells} cells; the maximum is "
              "{limit}. Use fewer lists or fewer covariate values.",
    },
    "bad_parameter": {
        "nl": "Ongeldige instelling '{column}': {value}.",
        "en": "Invalid setting '{column}': {value}.",
    },
    # warnings
    "minus_infinity": {
        "nl": "Niemand valt in {columns}; die interacties staan op min oneindig.",
        "en": "No one falls in {columns}; these interactions are set to minus infinity.",
    },
    "not_converged": {
        "nl": "De modelschatting is niet geconvergeerd; wees voorzichtig met de uitkomst.",
        "en": "The model fit did not converge; treat the result with care.",
    },
    "em_not_converged": {
        "nl": "Het EM-algoritme voor ontbrekende covariaatwaarden is na {iterations} "
              "stappen niet geconvergeerd.",
        "en": "The EM algorithm for missing covariate values did not converge in "
              "{iterations} iterations.",
    },
    "missing_covariates": {
        "nl": "{missing} van de {observed} personen missen minstens één covariaatwaarde; "
              "die zijn met EM verdeeld, in de veronderstelling dat het ontbreken alleen "
              "afhangt van wat wel bekend is (MAR).",
        "en": "{missing} of {observed} people lack at least one covariate value; they were "
              "distributed by EM, assuming that missingness depends only on what is known "
              "(MAR).",
    },
    "level_sparse": {
        "nl": "Groep {covariate}='{level}': te weinig gegevens ({observed} personen, "
              "{overlap} op meer dan één lijst); de schatting voor deze groep leunt vooral "
              "op het model.",
        "en": "Group {covariate}='{level}': too little data ({observed} people, {overlap} "
              "on more than one list); the estimate for this group rests mainly on the "
              "model.",
    },
    "bootstrap_failures": {
        "nl": "{failed} van de {n_boot} bootstrap-herhalingen gaven geen schatting en zijn "
              "weggelaten.",
        "en": "{failed} of {n_boot} bootstrap replicates gave no estimate and were left out.",
    },
    "no_interval": {
        "nl": "Geen interval berekend (0 bootstrap-herhalingen).",
        "en": "No interval computed (0 bootstrap replicates).",
    },
}


def _format(code: str, lang: str, fields: Mapping[str, object]) -> str:
    class _D(dict[str, object]):
        def __missing__(self, key: str) -> str:
            return "?"

    return MESSAGES[code][lang].format_map(_D({k: v for k, v in fields.items()
                                               if v is not None}))


def _error(code: str, *, row: int | None = None, column: str | None = None,
           **details: object) -> InputError:
    fields = {"row": row, "column": column, **details}
    return InputError(code, _format(code, "en", fields), row=row, column=column,
                      message_nl=_format(code, "nl", fields), **details)


def _warning(code: str, **fields: object) -> dict[str, str]:
    return {"code": code, "message_nl": _format(code, "nl", fields),
            "message_en": _format(code, "en", fields)}


def _version() -> str:
    try:
        from zichtbaar import __version__
    except ImportError:  # pragma: no cover - the package is always importable
        return "unknown"
    return __version__


# ---------------------------------------------------------------- the input
@dataclass(frozen=True)
class _Var:
    name: str
    kind: str  # "list", "factor" or "trend"
    levels: tuple[str, ...]
    scores: np.ndarray | None = None  # centred level values, trend only


@dataclass
class _Data:
    """The validated table as complete counts per cell plus incomplete groups."""

    variables: list[_Var]
    k: int
    n_cells: int
    codes: np.ndarray  # n_cells x V level index of every variable
    observable: np.ndarray  # bool, at least one list
    structural: np.ndarray  # bool, declared impossible
    y: np.ndarray  # complete counts per cell
    z: np.ndarray  # counts of the incomplete groups
    groups: sparse.csr_matrix  # G x n_cells, 1 where group g may lie
    missing_rows: int
    known: dict[str, np.ndarray]  # per covariate: people with a known level
    overlap: dict[str, np.ndarray]  # per covariate: known-level people on >= 2 lists
    structural_zeros: tuple[tuple[str, str], ...]

    @property
    def observed(self) -> int:
        return int(np.rint(self.y.sum() + self.z.sum()))


def _line(pos: int) -> int:
    """Line number in the CSV the table came from (header is line 1)."""
    return pos + 2


def _norm_value(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return None
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, bool | np.bool_):
        return str(int(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    try:
        if pd.isna(v):  # type: ignore[call-overload]  # pd.NA, NaT
            return None
    except (TypeError, ValueError):
        pass
    s = str(v).strip()
    return s or None


def _as_number(s: str) -> float | None:
    try:
        x = float(s.replace(",", "."))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _binary_column(col: pd.Series, name: str) -> np.ndarray:
    raw = col.to_numpy(dtype=object)
    vals = pd.to_numeric(
        pd.Series([v.strip() if isinstance(v, str) else v for v in raw], dtype=object),
        errors="coerce",
    ).to_numpy(dtype=float)
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise _error("not_binary", row=_line(pos), column=name,
                     value="" if _norm_value(raw[pos]) is None else str(raw[pos]))
    return vals.astype(np.int8)


def _count_column(col: pd.Series, name: str) -> np.ndarray:
    raw = col.to_numpy(dtype=object)
    out = np.empty(len(raw), dtype=np.int64)
    for pos, v in enumerate(raw):
        s = "" if _norm_value(v) is None else str(v).strip()
        x = _as_number(s) if not isinstance(v, int | float | np.number) else float(v)
        if x is None or not math.isfinite(x):
            raise _error("bad_count", row=_line(pos), column=name, value=s)
        if x < 0:
            raise _error("negative_count", row=_line(pos), column=name, value=s)
        if x != int(x):
            raise _error("fractional_count", row=_line(pos), column=name, value=s)
        out[pos] = int(x)
    return out


def _read(
    table: pd.DataFrame,
    lists: Sequence[str],
    covariates: Sequence[str],
    count: str | None,
    trend: Sequence[str],
    structural_zeros: Sequence[Sequence[str]],
) -> _Data:
    if not isinstance(table, pd.DataFrame):
        raise TypeError("table must be a pandas DataFrame")
    lists = [str(x) for x in lists]
    covariates = [str(x) for x in covariates]
    columns = [str(c) for c in table.columns]
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise _error("duplicate_column", row=1, column=dup)
    table = table.set_axis(columns, axis=1)
    if len(lists) < 2:
        raise _error("too_few_lists", n_lists=len(lists))
    if count is None:
        count = next((c for c in columns if c.lower() in COUNT_NAMES
                      and c not in lists and c not in covariates), None)
    used = [*lists, *covariates, *([count] if count else [])]
    for name in used:
        if name not in columns:
            raise _error("missing_column", row=1, column=name)
        if used.count(name) > 1:
            raise _error("duplicate_column", row=1, column=name)
    for name in trend:
        if name not in covariates:
            raise _error("trend_not_covariate", column=name)
    if len(table) == 0:
        raise _error("empty")
    pats = np.column_stack([_binary_column(table[name], name) for name in lists])
    cnt = (_count_column(table[count], count) if count
           else np.ones(len(table), dtype=np.int64))
    zero_hist = (pats.sum(axis=1) == 0) & (cnt > 0)
    if zero_hist.any():
        raise _error("all_zero_history", row=_line(int(np.flatnonzero(zero_hist)[0])),
                     column=lists[0])
    keep = np.flatnonzero(cnt > 0)
    if keep.size == 0:
        raise _error("empty")
    for j, name in enumerate(lists):
        if cnt[keep][pats[keep, j] == 1].sum() == 0:
            raise _error("list_empty", column=name)

    k = len(lists)
    variables = [_Var(name, "list", ("0", "1")) for name in lists]
    cov_codes: list[np.ndarray] = []
    for name in covariates:
        values = [_norm_value(v) for v in table[name].to_numpy(dtype=object)]
        present = sorted({values[p] for p in keep if values[p] is not None})
        if not present:
            raise _error("covariate_all_missing", column=name)
        numeric = {v: _as_number(v) for v in present}
        if name in trend:
            for p in keep:
                if values[p] is not None and numeric[values[p]] is None:  # type: ignore[index]
                    raise _error("trend_not_numeric", row=_line(int(p)), column=name,
                                 value=values[p])
        if len(present) == 1:
            raise _error("covariate_single_level", column=name, value=present[0])
        if all(x is not None for x in numeric.values()):
            present.sort(key=lambda v: numeric[v])  # type: ignore[arg-type,return-value]
        scores = None
        if name in trend:
            s = np.array([numeric[v] for v in present], dtype=float)
            scores = s - s.mean()
        variables.append(_Var(name, "trend" if name in trend else "factor",
                              tuple(present), scores))
        index = {v: i for i, v in enumerate(present)}
        cov_codes.append(np.array([-1 if v is None else index.get(v, -1) for v in values],
                                  dtype=np.int64))

    sizes = [2] * k + [len(v.levels) for v in variables[k:]]
    n_cells = int(np.prod(sizes, dtype=np.float64))
    if n_cells > MAX_CELLS:
        raise _error("too_many_cells", cells=n_cells, limit=MAX_CELLS)
    strides = np.cumprod([1, *sizes[:-1]]).astype(np.int64)
    ids = np.arange(n_cells, dtype=np.int64)
    codes = (ids[:, None] // strides[None, :]) % np.asarray(sizes)[None, :]
    observable = codes[:, :k].sum(axis=1) > 0

    # structural zeros: (list, "covariate=level")
    structural = np.zeros(n_cells, dtype=bool)
    sz_norm: list[tuple[str, str]] = []
    names = {v.name: i for i, v in enumerate(variables)}
    for item in structural_zeros:
        parts = [str(p) for p in item]
        if len(parts) == 3:
            parts = [parts[0], f"{parts[1]}={parts[2]}"]
        if len(parts) != 2 or "=" not in parts[1]:
            raise _error("bad_structural_zero", value=repr(tuple(item)))
        lst, spec = parts
        cov, _, lvl = spec.partition("=")
        cov, lvl = cov.strip(), lvl.strip()
        if lst not in lists or cov not in covariates or lvl not in variables[names[cov]].levels:
            raise _error("bad_structural_zero", value=repr(tuple(item)))
        vi = names[cov]
        structural |= (codes[:, names[lst]] == 1) & (
            codes[:, vi] == variables[vi].levels.index(lvl))
        sz_norm.append((lst, f"{cov}={lvl}"))

    # complete rows -> cells, incomplete rows -> groups
    row_codes = np.column_stack([pats.astype(np.int64), *cov_codes]) if cov_codes else \
        pats.astype(np.int64)
    y = np.zeros(n_cells)
    missing = (row_codes < 0).any(axis=1)
    comp = keep[~missing[keep]]
    cell_of = row_codes[comp] @ strides
    bad = structural[cell_of]
    if bad.any():
        raise _error("structural_zero_observed", row=_line(int(comp[np.flatnonzero(bad)[0]])))
    np.add.at(y, cell_of, cnt[comp].astype(float))
    inc = keep[missing[keep]]
    group_index: dict[bytes, int] = {}
    z_list: list[float] = []
    g_rows: list[np.ndarray] = []
    g_cols: list[np.ndarray] = []
    for p in inc:
        key = row_codes[p].tobytes()
        g = group_index.get(key)
        if g is None:
            rc = row_codes[p]
            base = int(np.sum(np.where(rc >= 0, rc, 0) * strides))
            cells = np.array([base], dtype=np.int64)
            for v in np.flatnonzero(rc < 0):
                cells = (cells[:, None] + np.arange(sizes[v]) * strides[v]).ravel()
            cells = cells[~structural[cells]]
            if cells.size == 0:
                raise _error("structural_zero_observed", row=_line(int(p)))
            g = len(z_list)
            group_index[key] = g
            z_list.append(0.0)
            g_rows.append(np.full(cells.size, g))
            g_cols.append(cells)
        z_list[g] += float(cnt[p])
    n_groups = len(z_list)
    if n_groups:
        gm = sparse.csr_matrix(
            (np.ones(sum(c.size for c in g_cols)), (np.concatenate(g_rows),
                                                   np.concatenate(g_cols))),
            shape=(n_groups, n_cells))
    else:
        gm = sparse.csr_matrix((0, n_cells))
    known: dict[str, np.ndarray] = {}
    overlap: dict[str, np.ndarray] = {}
    multi = pats.sum(axis=1) >= 2
    for i, var in enumerate(variables[k:]):
        c = cov_codes[i][keep]
        ok = c >= 0
        known[var.name] = np.bincount(c[ok], weights=cnt[keep][ok],
                                      minlength=len(var.levels))
        m = ok & multi[keep]
        overlap[var.name] = np.bincount(c[m], weights=cnt[keep][m], minlength=len(var.levels))
    return _Data(variables, k, n_cells, codes, observable, structural, y,
                 np.asarray(z_list, dtype=float), gm, int(inc.size), known, overlap,
                 tuple(sz_norm))


# ------------------------------------------------------------------ the model
@dataclass
class _Fit:
    terms: tuple[Term, ...]
    names: list[str]  # fitted columns
    beta: np.ndarray
    mu: np.ndarray  # n_cells fitted values (0 on structural and minus-infinity cells)
    y_comp: np.ndarray  # n_cells completed counts
    fitted: np.ndarray  # bool mask of fitted cells
    neg_inf: list[str]
    aliased: list[str]
    observed: float
    hidden: float
    loglik: float
    deviance: float
    df: int
    n_params: int
    converged: bool
    em_iterations: int
    em_converged: bool

    @property
    def estimate(self) -> float:
        return self.observed + self.hidden

    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_params

    def bic(self) -> float:
        return -2 * self.loglik + math.log(max(self.observed, 1.0)) * self.n_params

    def beta_dict(self) -> dict[str, float]:
        return dict(zip(self.names, map(float, self.beta), strict=True))


_deviance = poisson_deviance


def _newton(X: np.ndarray, y: np.ndarray, beta: np.ndarray | None, *,
            maxit: int = 100, tol: float = 1e-11) -> tuple[np.ndarray, np.ndarray, bool]:
    """Poisson MLE (:func:`.loglinear.newton_poisson`), warm-started from ``beta`` because EM
    calls it hundreds of times from nearby points."""
    beta, mu, converged, _ = newton_poisson(X, y, beta, tol=tol, maxit=maxit)
    return beta, mu, converged


class _Model:
    """Design columns over the full cell grid and the (EM) fit of one model."""

    def __init__(self, data: _Data) -> None:
        self.data = data
        self.vars = data.variables
        codes = data.codes
        cols: list[np.ndarray] = [np.ones(data.n_cells)]
        names = ["(Intercept)"]
        for i, var in enumerate(self.vars):
            for lvl in range(1, len(var.levels)):
                cols.append((codes[:, i] == lvl).astype(float))
                names.append(var.name if var.kind == "list" else f"{var.name}[{var.levels[lvl]}]")
        self.main = np.column_stack(cols)
        self.main_names = names
        self._term_cache: dict[Term, tuple[list[str], np.ndarray, bool]] = {}
        self._design_cache: dict[tuple[Term, ...], tuple[list[str], np.ndarray, np.ndarray]] = {}
        self.observable = data.observable
        self.avail = data.observable & ~data.structural
        self.const_y = float(np.sum(gammaln(data.y + 1)) + np.sum(gammaln(data.z + 1)))

    def term_name(self, term: Term) -> str:
        return ":".join(self.vars[i].name for i in term)

    def _factor(self, i: int) -> tuple[list[str], list[np.ndarray], bool]:
        var, c = self.vars[i], self.data.codes[:, i]
        if var.kind == "list":
            return [var.name], [(c == 1).astype(float)], True
        if var.kind == "trend":
            assert var.scores is not None
            return [var.name], [var.scores[c]], False
        return ([f"{var.name}[{var.levels[lvl]}]" for lvl in range(1, len(var.levels))],
                [(c == lvl).astype(float) for lvl in range(1, len(var.levels))], True)

    def term_columns(self, term: Term) -> tuple[list[str], np.ndarray, bool]:
        hit = self._term_cache.get(term)
        if hit is None:
            names, cols, indicator = [""], [np.ones(self.data.n_cells)], True
            for i in term:
                fn, fc, fi = self._factor(i)
                names = [f"{a}:{b}" if a else b for a in names for b in fn]
                cols = [a * b for a in cols for b in fc]
                indicator = indicator and fi
            hit = (names, np.column_stack(cols), indicator)
            self._term_cache[term] = hit
        return hit

    def design(self, terms: tuple[Term, ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(column names, full design, which columns are 0/1 indicators)."""
        hit = self._design_cache.get(terms)
        if hit is None:
            names = list(self.main_names)
            blocks = [self.main]
            indicator = [True] * len(names)
            for t in terms:
                n, x, ind = self.term_columns(t)
                names += n
                blocks.append(x)
                indicator += [ind] * len(n)
            hit = (names, np.hstack(blocks), np.asarray(indicator))
            if len(self._design_cache) > 256:
                self._design_cache.clear()
            self._design_cache[terms] = hit
        return hit

    def fit(
        self,
        terms: tuple[Term, ...],
        y: np.ndarray,
        z: np.ndarray,
        *,
        beta0: Mapping[str, float] | None = None,
        y_comp0: np.ndarray | None = None,
        reuse: _Fit | None = None,
    ) -> _Fit:
        """Fit by ML (EM when ``z`` holds incomplete counts).

        Identifiability is checked unless ``reuse`` (the bootstrap) says which
        columns were aliased and no new column went to minus infinity.
        """
        d = self.data
        names, X_all, indicator = self.design(terms)
        has_missing = bool(z.size and z.sum() > 0)
        y_upper = y + (d.groups.T @ z if has_missing else 0.0)
        margins = X_all[self.avail].T @ y_upper[self.avail]
        neg = indicator & (margins <= 0)
        neg[0] = False
        removed = (X_all[:, neg] != 0).any(axis=1) if neg.any() else np.zeros(d.n_cells, bool)
        fitted = self.avail & ~removed
        hidden = ~self.observable & ~removed
        neg_names = [n for n, k_ in zip(names, neg, strict=True) if k_]
        keep = ~neg
        if reuse is not None and set(neg_names) <= set(reuse.neg_inf):
            aliased = [n for n in reuse.aliased if n not in neg_names]
        else:
            aliased = self._aliased(X_all[fitted][:, keep], X_all[hidden][:, keep],
                                    [n for n, k_ in zip(names, keep, strict=True) if k_], terms)
        if aliased:
            keep &= ~np.isin(names, aliased)
        cols = [n for n, k_ in zip(names, keep, strict=True) if k_]
        XF = X_all[fitted][:, keep]
        XH = X_all[hidden][:, keep]
        beta = None
        if beta0 is not None:
            beta = np.array([beta0.get(n, 0.0) for n in cols])
        yF = y[fitted]
        em_iter, em_conv = 0, True
        S = np.zeros(0)
        if not has_missing:
            beta, muF, conv = _newton(XF, yF, beta)
            yc = yF
        else:
            GF = d.groups[:, np.flatnonzero(fitted)].tocsr()
            GT = GF.T.tocsr()

            def estep(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                s = np.maximum(GF @ m, 1e-300)
                return yF + m * (GT @ (z / s)), s

            yc = y_comp0[fitted] if y_comp0 is not None else estep(yF + 0.5)[0]
            beta, muF, conv = _newton(XF, yc, beta)
            ll_old, hid_old = -np.inf, np.inf
            em_conv = False
            for em_iter in range(1, EM_MAXIT + 1):  # noqa: B007 - reported below
                yc, S = estep(muF)
                ll = self._loglik(yF, muF, z, S)
                hid = float(np.exp(np.clip(XH @ beta, -700, 700)).sum())
                if (abs(ll - ll_old) <= EM_TOL * (1 + abs(ll))
                        and abs(hid - hid_old) <= 1e-8 * (1 + hid)):
                    em_conv = True
                    break
                ll_old, hid_old = ll, hid
                beta, muF, conv = _newton(XF, yc, beta, maxit=25)
        mu = np.zeros(d.n_cells)
        mu[fitted] = muF
        mu[hidden] = np.exp(np.clip(XH @ beta, -700, 700))
        y_comp = np.zeros(d.n_cells)
        y_comp[fitted] = yc
        return _Fit(
            terms=terms, names=cols, beta=beta, mu=mu, y_comp=y_comp, fitted=fitted,
            neg_inf=neg_names, aliased=aliased, observed=float(y.sum() + z.sum()),
            hidden=float(mu[hidden].sum()), loglik=self._loglik(yF, muF, z, S),
            deviance=_deviance(yc, muF), df=int(fitted.sum() - XF.shape[1]),
            n_params=int(len(names) - len(aliased)), converged=bool(conv),
            em_iterations=em_iter, em_converged=em_conv,
        )

    def _aliased(self, XF: np.ndarray, XH: np.ndarray, names: list[str],
                 terms: tuple[Term, ...]) -> list[str]:
        """Columns that are linear combinations of earlier ones on the fitted cells.

        They are dropped (R's glm reports them as NA) when that leaves the
        hidden cells' prediction unchanged - the usual case is a structural
        zero making a list:covariate term a copy of the list's main effect.
        Otherwise the hidden number is not identifiable and we say so.
        """
        _, sv, vt = np.linalg.svd(XF, full_matrices=False)
        tol = sv.max() * max(XF.shape) * np.finfo(float).eps
        if np.all(sv > tol):
            return []
        null = vt[sv <= tol].T
        if XH.size and np.abs(XH @ null).max() > 1e-8:
            raise EstimationError(
                "not_identifiable", "the model is not identifiable from these data.",
                terms=[self.term_name(t) for t in terms])
        kept: list[int] = []
        out: list[str] = []
        for j in range(XF.shape[1]):
            trial = [*kept, j]
            if np.linalg.matrix_rank(XF[:, trial], tol=tol) == len(trial):
                kept = trial
            else:
                out.append(names[j])
        return out

    def _loglik(self, yF: np.ndarray, muF: np.ndarray, z: np.ndarray, S: np.ndarray) -> float:
        """Observed-data Poisson log-likelihood (incomplete counts on their cell sums)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = float(np.sum(np.where(yF > 0, yF * np.log(muF), 0.0)) - muF.sum())
            if S.size:
                ll += float(np.sum(np.where(z > 0, z * np.log(S), 0.0)))
        const = float(np.sum(gammaln(yF + 1)) + np.sum(gammaln(z + 1)))
        return ll - const

    def mle_exists(self, fit: _Fit, y: np.ndarray, z: np.ndarray) -> bool:
        """Fienberg-Rinaldo LP (as SparseMSE ``checkident``) on the fitted cells.

        With missing values the zero pattern is that of the counts each cell
        could receive (complete plus every compatible incomplete group).
        Sparse constraint matrices keep this usable on tables of 10^5 cells.
        """
        names, X_all, _ = self.design(fit.terms)
        keep = np.isin(names, fit.names)
        X = X_all[fit.fitted][:, keep]
        yu = (y + (self.data.groups.T @ z if z.sum() > 0 else 0.0))[fit.fitted]
        pos = (yu > 0).astype(float)
        if pos.all():
            return True
        n, p = X.shape
        c = np.zeros(n + 1)
        c[-1] = -1.0
        A_eq = sparse.hstack([sparse.csr_matrix(X.T), sparse.csr_matrix((p, 1))])
        A_ub = sparse.hstack([-sparse.eye(n), sparse.csr_matrix(np.ones((n, 1)))])
        res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=X.T @ pos,
                      bounds=[(0, None)] * n + [(0, 1)], method="highs")
        return bool(res.status == 0 and -res.fun > 1e-9)

    def level_sums(self, fit: _Fit) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per covariate: (completed observed, fitted hidden) per level."""
        out = {}
        hid = np.where(self.observable, 0.0, fit.mu)
        for i, var in enumerate(self.vars):
            if var.kind == "list":
                continue
            c = self.data.codes[:, i]
            out[var.name] = (np.bincount(c, weights=fit.y_comp, minlength=len(var.levels)),
                             np.bincount(c, weights=hid, minlength=len(var.levels)))
        return out


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class LevelEstimate:
    """The estimate for one level of a covariate (from the joint model)."""

    level: str
    observed: float  # completed by EM when some values are missing
    observed_known: int  # people with this level recorded
    estimate: float
    hidden: float
    ci: tuple[float, float] | None
    sparse: bool

    @property
    def share_invisible(self) -> float:
        return self.hidden / self.estimate if self.estimate > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        obs = self.observed
        return {
            "level": self.level,
            "observed": int(np.rint(obs)) if abs(obs - np.rint(obs)) < 1e-9 else float(obs),
            "observed_known": int(self.observed_known),
            "estimate": float(self.estimate),
            "ci": [float(self.ci[0]), float(self.ci[1])] if self.ci else None,
            "hidden": float(self.hidden),
            "share_invisible": float(self.share_invisible),
            "sparse": bool(self.sparse),
        }


@dataclass(frozen=True, eq=False)
class CovariateResult:
    """A fitted lists x covariates model with what reproduces it."""

    lists: tuple[str, ...]
    covariates: tuple[str, ...]
    trend: tuple[str, ...]
    structural_zeros: tuple[tuple[str, str], ...]
    observed: int
    estimate: float
    hidden: float
    ci: tuple[float, float] | None
    ci_method: str | None
    level: float
    model: tuple[str, ...]
    neg_inf: tuple[str, ...]
    aliased: tuple[str, ...]
    deviance: float
    df: int
    aic: float
    bic: float
    loglik: float
    n_params: int
    converged: bool
    warnings: tuple[dict[str, str], ...]
    seed: int
    n_boot: int
    n_boot_failed: int
    em_iterations: int
    em_converged: bool
    missing_rows: int
    missing_count: int
    by_covariate: Mapping[str, tuple[LevelEstimate, ...]]
    selection: tuple[dict[str, Any], ...]
    coefficients: Mapping[str, float]
    method: str = METHOD
    version: str = field(default_factory=_version)
    cells: pd.DataFrame | None = field(default=None, repr=False)
    boot_estimates: np.ndarray | None = field(default=None, repr=False)

    @property
    def share_invisible(self) -> float:
        return self.hidden / self.estimate if self.estimate > 0 else math.nan

    def summary(self) -> str:
        lo, hi = self.ci if self.ci else (math.nan, math.nan)
        return (f"observed {self.observed}, estimate {self.estimate:.1f} [{lo:.1f}, {hi:.1f}], "
                f"hidden {self.hidden:.1f}; terms {', '.join(self.model) or '(main effects)'}; "
                f"deviance {self.deviance:.3f} on {self.df} df, BIC {self.bic:.3f}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no numpy types)."""
        return {
            "observed": int(self.observed),
            "estimate": float(self.estimate),
            "ci": [float(self.ci[0]), float(self.ci[1])] if self.ci else None,
            "ci_method": self.ci_method,
            "ci_level": float(self.level),
            "hidden": float(self.hidden),
            "share_invisible": float(self.share_invisible),
            "method": self.method,
            "model": list(self.model),
            "neg_inf_terms": list(self.neg_inf),
            "aliased_terms": list(self.aliased),
            "fit": {"deviance": float(self.deviance), "df": int(self.df),
                    "aic": float(self.aic), "bic": float(self.bic),
                    "loglik": float(self.loglik), "n_params": int(self.n_params),
                    "converged": bool(self.converged)},
            "warnings": [dict(w) for w in self.warnings],
            "seed": int(self.seed),
            "n_boot": int(self.n_boot),
            "n_boot_failed": int(self.n_boot_failed),
            "em": {"iterations": int(self.em_iterations), "converged": bool(self.em_converged),
                   "missing_rows": int(self.missing_rows),
                   "missing_count": int(self.missing_count)},
            "by_covariate": {name: [lv.to_dict() for lv in levels]
                             for name, levels in self.by_covariate.items()},
            "lists": list(self.lists),
            "covariates": list(self.covariates),
            "trend": list(self.trend),
            "structural_zeros": [list(s) for s in self.structural_zeros],
            "selection": [dict(s) for s in self.selection],
            "coefficients": {k: float(v) for k, v in self.coefficients.items()},
            "version": self.version,
        }


# ----------------------------------------------------------------- workflow
def _parse_terms(terms: Iterable[str], variables: Sequence[_Var]) -> tuple[Term, ...]:
    index = {v.name: i for i, v in enumerate(variables)}
    out: set[Term] = set()
    for t in terms:
        parts = [p.strip() for p in str(t).split(":")]
        if not parts or any(p == "" for p in parts) or len(set(parts)) != len(parts):
            raise _error("bad_term", term=str(t))
        for p in parts:
            if p not in index:
                raise _error("unknown_term", term=str(t), name=p)
        idx = tuple(sorted(index[p] for p in parts))
        for order in range(2, len(idx) + 1):
            out.update(combinations(idx, order))
    return tuple(sorted(out, key=lambda x: (len(x), x)))


def _sorted_terms(terms: Iterable[Term]) -> tuple[Term, ...]:
    return tuple(sorted(set(terms), key=lambda x: (len(x), x)))


def _select(model: _Model, y: np.ndarray, z: np.ndarray,
            progress: Progress | None) -> tuple[_Fit, list[dict[str, Any]]]:
    """Greedy forward selection on BIC over all two-way terms."""
    current = model.fit((), y, z)
    if not model.mle_exists(current, y, z):
        raise EstimationError("no_mle", "even the main-effects model has no finite estimate.")
    path: list[dict[str, Any]] = [{"term": None, "bic": current.bic(), "aic": current.aic(),
                                   "estimate": current.estimate}]
    pool = list(combinations(range(len(model.vars)), 2))
    step = 0
    while pool:
        step += 1
        if progress:
            progress(min(0.9, step / (step + 4)), f"model selection, step {step}")
        scored: list[tuple[float, int, Term, _Fit]] = []
        for order, t in enumerate(list(pool)):
            try:
                f = model.fit(_sorted_terms((*current.terms, t)), y, z,
                              beta0=current.beta_dict(), y_comp0=current.y_comp)
            except EstimationError:
                pool.remove(t)
                continue
            if not f.converged or not math.isfinite(f.hidden):
                continue
            scored.append((f.bic(), order, t, f))
        scored.sort(key=lambda s: (s[0], s[1]))
        accepted = None
        for bic, _, t, f in scored:
            if bic >= current.bic() - 1e-7:
                break
            if model.mle_exists(f, y, z):
                accepted = (t, f)
                break
            pool.remove(t)
        if accepted is None:
            break
        t, current = accepted
        pool.remove(t)
        path.append({"term": model.term_name(t), "bic": current.bic(), "aic": current.aic(),
                     "estimate": current.estimate})
    return current, path


def _missing_split(model: _Model, fit: _Fit, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the bootstrap: per observable cell, the chance to be complete or in group g.

    Taken from the EM completion, so the replicates have the same amount and
    kind of missingness as the data.
    """
    cells = np.flatnonzero(fit.fitted)
    G = model.data.groups[:, cells].tocsc()
    mu = fit.mu[cells]
    S = np.maximum(G @ mu, 1e-300)
    share = (G.multiply((z / S)[:, None]).multiply(mu[None, :])).T.toarray()  # cells x G
    yc = fit.y_comp[cells]
    complete = np.maximum(yc - share.sum(axis=1), 0.0)
    P = np.column_stack([complete, share])
    tot = P.sum(axis=1)
    P[tot <= 0, 0] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    return cells, P


def _bootstrap(
    model: _Model, fit: _Fit, z: np.ndarray, n_boot: int, rng: np.random.Generator,
    progress: Progress | None, start: float,
) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    d = model.data
    N = int(np.rint(fit.estimate))
    support = fit.mu > 0
    p = np.where(support, fit.mu, 0.0)
    p /= p.sum()
    has_missing = z.sum() > 0
    if has_missing:
        cells, P = _missing_split(model, fit, z)
    totals = np.full(n_boot, np.nan)
    levels = {v.name: np.full((n_boot, len(v.levels)), np.nan)
              for v in model.vars if v.kind != "list"}
    failed = 0
    beta0 = fit.beta_dict()
    for b in range(n_boot):
        counts = rng.multinomial(N, p).astype(float)
        counts[~model.observable] = 0.0
        if has_missing:
            split = rng.multinomial(counts[cells].astype(np.int64), P)
            yb = np.zeros(d.n_cells)
            yb[cells] = split[:, 0]
            zb = split[:, 1:].sum(axis=0).astype(float)
        else:
            yb, zb = counts, np.zeros(0)
        try:
            fb = model.fit(fit.terms, yb, zb, beta0=beta0, reuse=fit)
        except EstimationError:
            failed += 1
            continue
        if not (fb.converged and fb.em_converged and math.isfinite(fb.estimate)):
            failed += 1
            continue
        totals[b] = fb.estimate
        for name, (obs, hid) in model.level_sums(fb).items():
            levels[name][b] = obs + hid
        if progress and (b + 1) % max(1, n_boot // 50) == 0:
            progress(start + (1 - start) * (b + 1) / n_boot, f"bootstrap {b + 1}/{n_boot}")
    return totals, levels, failed


def _percentile(x: np.ndarray, level: float) -> tuple[float, float] | None:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return None
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """The matrices here are small (cells x tens of columns) and fitted
    thousands of times; threaded BLAS only adds overhead, and on a shared
    2-core machine it made a run five times slower."""
    if threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def fit_covariate_model(
    table: pd.DataFrame,
    lists: Sequence[str],
    covariates: Sequence[str],
    *,
    count: str | None = None,
    terms: Sequence[str] | None = None,
    trend: Sequence[str] = (),
    structural_zeros: Sequence[Sequence[str]] = (),
    level: float = 0.95,
    seed: int = 1234,
    n_boot: int = 200,
    progress: Progress | None = None,
) -> CovariateResult:
    """Fit one log-linear model over lists x covariates and estimate the hidden number.

    ``table``: one 0/1 column per list, the covariate columns (categorical;
    missing = NaN/None/""), and a count column (``count``; when ``None`` a
    column called count/freq/n/aantal is used if present, otherwise every row
    is one person). ``terms`` such as ``["A:B", "A:age", "age:gender"]`` fix
    the model (lower-order terms are added; a single name is a main effect,
    always present); ``None`` selects two-way terms by BIC. ``trend``:
    covariates (e.g. year) that enter interactions as one linear score.
    ``structural_zeros``: ``(list, "covariate=level")`` pairs that cannot
    occur, e.g. ``("minors_register", "age=18+")``. Raises :class:`InputError`
    for bad input and :class:`EstimationError` when the model has no finite,
    identifiable estimate.
    """
    with _one_blas_thread():
        return _fit(table, lists, covariates, count=count, terms=terms, trend=trend,
                    structural_zeros=structural_zeros, level=level, seed=seed,
                    n_boot=n_boot, progress=progress)


def _fit(
    table: pd.DataFrame,
    lists: Sequence[str],
    covariates: Sequence[str],
    *,
    count: str | None,
    terms: Sequence[str] | None,
    trend: Sequence[str],
    structural_zeros: Sequence[Sequence[str]],
    level: float,
    seed: int,
    n_boot: int,
    progress: Progress | None,
) -> CovariateResult:
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise _error("bad_parameter", column="level", value=repr(level))
    if not isinstance(n_boot, int) or n_boot < 0 or n_boot > 100_000:
        raise _error("bad_parameter", column="n_boot", value=repr(n_boot))
    data = _read(table, lists, covariates, count, trend, structural_zeros)
    model = _Model(data)
    y, z = data.y, data.z
    bootstrapping = n_boot > 0
    sel_progress = None
    if progress:
        def sel_progress(f: float, msg: str) -> None:
            progress(f * (0.3 if bootstrapping else 1.0), msg)
    if terms is None:
        fit, path = _select(model, y, z, sel_progress)
    else:
        parsed = _parse_terms(terms, data.variables)
        fit = model.fit(parsed, y, z)
        if not model.mle_exists(fit, y, z):
            raise EstimationError("no_mle",
                                  "the maximum likelihood estimate does not exist (infinite).",
                                  terms=[model.term_name(t) for t in parsed])
        path = []  # the terms were given, nothing was selected
    if not math.isfinite(fit.hidden):
        raise EstimationError("no_mle", "the estimate is infinite.")
    warnings: list[dict[str, str]] = []
    if fit.neg_inf:
        warnings.append(_warning("minus_infinity", columns=", ".join(fit.neg_inf)))
    if not fit.converged:
        warnings.append(_warning("not_converged"))
    if not fit.em_converged:
        warnings.append(_warning("em_not_converged", iterations=fit.em_iterations))
    if z.sum() > 0:
        warnings.append(_warning("missing_covariates", missing=int(z.sum()),
                                 observed=data.observed))

    rng = np.random.default_rng(seed)
    totals: np.ndarray | None = None
    boot_levels: dict[str, np.ndarray] = {}
    failed = 0
    ci = None
    if bootstrapping:
        totals, boot_levels, failed = _bootstrap(model, fit, z, n_boot, rng, progress,
                                                 0.3)
        ci = _percentile(totals, level)
        if failed:
            warnings.append(_warning("bootstrap_failures", failed=failed, n_boot=n_boot))
    else:
        warnings.append(_warning("no_interval"))

    by_cov: dict[str, tuple[LevelEstimate, ...]] = {}
    for name, (obs, hid) in model.level_sums(fit).items():
        var = next(v for v in data.variables if v.name == name)
        items = []
        for li, lvl in enumerate(var.levels):
            known = int(data.known[name][li])
            ov = int(data.overlap[name][li])
            sparse_level = known < SPARSE_LEVEL_MIN or ov == 0
            if sparse_level:
                warnings.append(_warning("level_sparse", covariate=name, level=lvl,
                                         observed=known, overlap=ov))
            lci = _percentile(boot_levels[name][:, li], level) if bootstrapping else None
            items.append(LevelEstimate(lvl, float(obs[li]), known, float(obs[li] + hid[li]),
                                       float(hid[li]), lci, sparse_level))
        by_cov[name] = tuple(items)

    k = data.k
    frame = {v.name: [v.levels[c] for c in data.codes[:, i]]
             for i, v in enumerate(data.variables)}
    cells = pd.DataFrame(frame)
    for v in data.variables[:k]:
        cells[v.name] = cells[v.name].astype(int)
    cells["observed"] = fit.y_comp
    cells["fitted"] = fit.mu
    cells["structural_zero"] = data.structural
    if progress:
        progress(1.0, "done")
    return CovariateResult(
        lists=tuple(v.name for v in data.variables[:k]),
        covariates=tuple(v.name for v in data.variables[k:]),
        trend=tuple(v.name for v in data.variables[k:] if v.kind == "trend"),
        structural_zeros=data.structural_zeros,
        observed=data.observed,
        estimate=fit.estimate,
        hidden=fit.hidden,
        ci=ci,
        ci_method=CI_METHOD if ci else None,
        level=float(level),
        model=tuple(model.term_name(t) for t in fit.terms),
        neg_inf=tuple(fit.neg_inf),
        aliased=tuple(fit.aliased),
        deviance=fit.deviance,
        df=fit.df,
        aic=fit.aic(),
        bic=fit.bic(),
        loglik=fit.loglik,
        n_params=fit.n_params,
        converged=fit.converged,
        warnings=tuple(warnings),
        seed=int(seed),
        n_boot=int(n_boot),
        n_boot_failed=int(failed),
        em_iterations=fit.em_iterations,
        em_converged=fit.em_converged,
        missing_rows=data.missing_rows,
        missing_count=int(np.rint(z.sum())),
        by_covariate=by_cov,
        selection=tuple(path),
        coefficients=fit.beta_dict(),
        cells=cells,
        boot_estimates=totals,
    )
