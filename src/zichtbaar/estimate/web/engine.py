"""The one place the web app calls the estimate library.

Everything the library returns passes through here, so a change in its surface touches one
file, and non-finite floats are turned into ``None`` (PostgreSQL's jsonb refuses NaN).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from zichtbaar.estimate.histories import CaptureHistories, InputError

METHODS = ("stepwise", "aic", "bic", "main", "lcmcr", "rcapture")
INTERVALS = ("default", "model", "profile", "bootstrap", "none")
PLOTS = ("strata", "observed_hidden", "overlap")


class RunParameters(TypedDict):
    method: str
    ci: str
    strata: str | None
    covariates: list[str]
    seed: int
    level: float
    n_boot: int
    pthresh: float


DEFAULTS: RunParameters = {
    "method": "stepwise", "ci": "default", "strata": None, "covariates": [], "seed": 1234,
    "level": 0.95, "n_boot": 1000, "pthresh": 0.02,
}


def parameters_from(values: Mapping[str, Any]) -> RunParameters:
    """Complete and normalise parameters; stored with the run exactly as used."""
    merged: dict[str, Any] = {**DEFAULTS, **{k: v for k, v in values.items() if k in DEFAULTS}}
    return {
        "method": str(merged["method"]), "ci": str(merged["ci"]),
        "strata": merged["strata"] or None,
        "covariates": [str(c) for c in merged["covariates"] or []],
        "seed": int(merged["seed"]), "level": float(merged["level"]),
        "n_boot": int(merged["n_boot"]), "pthresh": float(merged["pthresh"]),
    }


def library_version() -> str:
    from zichtbaar import __version__

    return __version__


def named_columns(parameters: RunParameters) -> list[str]:
    return [c for c in [parameters["strata"], *parameters["covariates"]] if c]


def load(data: bytes, parameters: RunParameters | None = None) -> CaptureHistories:
    """Validate and parse an upload; raises the library's typed ``InputError``.

    Columns the user names as strata or covariates are covariates even when coded 0/1
    (a "minor" flag), so they are never mistaken for a list.
    """
    from zichtbaar.estimate.api import load_csv

    histories = load_csv(data)
    named = named_columns(parameters) if parameters else []
    if not named:
        return histories
    known = [*histories.covariates, *histories.lists]
    for column in named:
        if column not in known:
            raise ColumnError(column, list(histories.covariates))
    if any(column in histories.lists for column in named):
        histories = load_csv(data, covariates=named)
    return histories


class ColumnError(InputError):
    """A strata or covariate column that the file does not have."""

    def __init__(self, column: str, available: list[str]) -> None:
        super().__init__("unknown_column", f"Column {column!r} is not in the file.",
                         column=column, available=", ".join(available))


def covariate_columns(histories: CaptureHistories) -> list[str]:
    return list(histories.covariates)


def incompatible(method: str, ci: str) -> bool:
    """Interval methods that the library refuses for a method (a choice, not a data error)."""
    if method == "lcmcr":
        return ci in {"model", "bootstrap", "profile"}
    if method == "rcapture":
        return ci in {"model", "bootstrap"}
    return False


def execute(data: bytes, parameters: RunParameters,
            progress: Callable[[float, str], None] | None = None,
            workers: int | None = None) -> dict[str, Any]:
    """Run the estimate. ``workers`` caps the library's process pool (None: every core)."""
    from zichtbaar.estimate.api import run

    histories = load(data, parameters)
    result = run(histories, method=parameters["method"], ci=parameters["ci"],
                 strata=parameters["strata"], seed=parameters["seed"],
                 level=parameters["level"], n_boot=parameters["n_boot"],
                 pthresh=parameters["pthresh"], covariates=parameters["covariates"] or None,
                 progress=progress, workers=workers)
    if not parameters["covariates"]:
        add_candidate_df(histories, result)
    return json_safe(result)


def add_candidate_df(histories: CaptureHistories, result: dict[str, Any]) -> None:
    """Fill in each log-linear candidate's degrees of freedom where the library left none.

    ``api.run`` reports deviance, AIC and BIC for the stepwise path and the AIC/BIC ranking
    but no df, so the page's df column stayed empty. The df is what the candidate's own fit
    would report: the cells kept (minus structural zeros and the cells of terms nobody is
    on) less the design's columns, from the library's ``build_spec``, no refit needed.
    """
    from itertools import combinations

    from zichtbaar.estimate.loglinear import build_spec, term_name

    if result.get("method") not in {"stepwise", "aic", "bic", "main"}:
        return
    lists = list(histories.lists)
    pairs = {term_name(t, lists): t for t in combinations(range(len(lists)), 2)}
    y = histories.cell_counts().astype(float)
    for cand in result.get("candidates") or []:
        model = cand.get("model")
        if cand.get("df") is not None or not isinstance(model, list):
            continue
        terms = [pairs.get(str(name)) for name in model]
        if any(t is None for t in terms):
            continue  # not a two-way term of these lists: leave the cell empty
        spec = build_spec(lists, y, terms, histories.structural_zeros)
        cand["df"] = int(len(spec.cells) - spec.X.shape[1])


def result_csv(result: Mapping[str, Any]) -> str:
    from zichtbaar.estimate.api import to_csv

    return to_csv(dict(result))


def plot_png(result: Mapping[str, Any], kind: str, data: bytes, parameters: RunParameters,
             lang: str) -> bytes:
    """Render one chart of a stored result; the overlap chart needs the input itself."""
    import matplotlib

    matplotlib.use("Agg")
    from zichtbaar.estimate.api import plot

    out = io.BytesIO()
    histories = load(data, parameters) if kind == "overlap" else None
    plot(dict(result), kind, out, histories=histories, fmt="png", lang=lang)
    return out.getvalue()


def sentences(error: BaseException) -> tuple[str, str]:
    """The library's own Dutch and English sentence for a typed error."""
    from zichtbaar.estimate.messages import message_for

    return message_for(error, "nl"), message_for(error, "en")


def is_user_error(error: BaseException) -> bool:
    """Errors the user can act on (bad data, inestimable model), as opposed to our bugs."""
    from zichtbaar.estimate.loglinear import EstimationError

    return isinstance(error, InputError | EstimationError)


def json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_safe(value.item())
    return value
