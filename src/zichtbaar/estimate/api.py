"""One entry point for the CLI and the researcher page: data in, a JSON-ready result out.

``run`` chooses the model, attaches the interval, repeats everything per stratum
and returns a plain dict that holds what is needed to reproduce it (all
arguments, seed, package version). Every estimate passes the existence and
identifiability checks first; a stratum with too little data is reported as
such, with the reason, and never as a number.
"""

from __future__ import annotations

import csv
import io
import math
import pathlib
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np

from .histories import CaptureHistories, InputError
from .loglinear import EstimationError, LogLinear, LogLinearResult, _version
from .messages import message_for, warning
from .strata import check_stratum, drop_empty_lists

__all__ = ["CI_METHODS", "METHODS", "load_csv", "plot", "run", "to_csv"]

METHODS = ("stepwise", "aic", "bic", "main", "lcmcr", "rcapture")
CI_METHODS = ("default", "model", "profile", "bootstrap", "none")
PLOT_KINDS = ("strata", "observed_hidden", "overlap")
CHECK_NAMES = {1: "no_mle", 2: "not_identifiable", 3: "no_mle_not_identifiable"}
N_CANDIDATES = 20

Progress = Callable[[float, str], None]


# ----------------------------------------------------------------------------- input
def load_csv(
    data: bytes | str | pathlib.Path,
    *,
    count_column: str | None = None,
    covariates: list[str] | None = None,
    lists: list[str] | None = None,
) -> CaptureHistories:
    """Read capture histories from a path, CSV text or uploaded bytes.

    Aggregated (0/1 list columns plus a count column) or one row per person.
    Columns that are not 0/1 become covariates; name ``covariates`` when a
    covariate is itself coded 0/1. Raises :class:`InputError` with code, row
    and column; :func:`zichtbaar.estimate.messages.message_for` turns it into
    a sentence.
    """
    source: bytes | str | pathlib.Path = data
    if isinstance(data, str) and "\n" not in data:
        source = pathlib.Path(data)
    cov: list[str] | str = "auto" if covariates is None else list(covariates)
    if covariates is not None and lists is None:
        # explicit covariates: the remaining non-list columns are still detected
        hist = CaptureHistories.from_csv(source, count_column=count_column)
        extra = [c for c in hist.covariates if c not in covariates]
        cov = [*covariates, *extra]
    return CaptureHistories.from_csv(source, count_column=count_column, covariates=cov,
                                     lists=lists)


# ------------------------------------------------------------------------------- run
def _check_options(method: str, ci: str, level: float, n_boot: int, pthresh: float) -> None:
    if method not in METHODS:
        raise InputError("bad_option", f"unknown method {method!r}", option="method",
                         value=method, choices=list(METHODS))
    if ci not in CI_METHODS:
        raise InputError("bad_option", f"unknown interval {ci!r}", option="ci", value=ci,
                         choices=list(CI_METHODS))
    if not 0.5 <= level < 1:
        raise InputError("bad_option", f"level {level} not in [0.5, 1)", option="level",
                         value=level, choices=["0.5 .. 0.999"])
    if not 10 <= n_boot <= 100_000:
        raise InputError("bad_option", f"n_boot {n_boot} not in [10, 100000]",
                         option="n_boot", value=n_boot, choices=["10 .. 100000"])
    if not 0 <= pthresh < 1:
        raise InputError("bad_option", f"pthresh {pthresh} not in [0, 1)", option="pthresh",
                         value=pthresh, choices=["0 .. 0.999"])
    if method in ("lcmcr", "rcapture") and ci in ("model", "bootstrap"):
        raise InputError("ci_not_for_method", f"interval {ci!r} does not fit {method!r}",
                         ci=ci, method=method)
    if method in ("lcmcr",) and ci == "profile":
        raise InputError("ci_not_for_method", f"interval {ci!r} does not fit {method!r}",
                         ci=ci, method=method)


def run(
    histories: CaptureHistories,
    *,
    method: str = "stepwise",
    ci: str = "default",
    strata: str | None = None,
    seed: int = 1234,
    level: float = 0.95,
    n_boot: int = 1000,
    pthresh: float = 0.02,
    covariates: list[str] | None = None,
    progress: Progress | None = None,
    mcmc: Mapping[str, int] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Estimate the total (and each stratum) and return a JSON-serialisable dict.

    ``method``: stepwise (SparseMSE), aic / bic (all two-way models, Rcapture
    ``closedpMS.t``), main (main effects), lcmcr (Bayesian latent classes),
    rcapture (``closedp.t`` heterogeneity models, best BIC). ``ci``: default
    (profile likelihood for the log-linear methods and rcapture, credible interval
    for lcmcr), model (SparseMSE's model-conditional), profile, bootstrap or none.
    ``mcmc`` overrides LCMCR's burnin/samples/thinning/K/chains. ``progress`` gets a
    fraction in [0, 1] and a short text.
    """
    _check_options(method, ci, level, n_boot, pthresh)
    parameters: dict[str, Any] = {
        "method": method, "ci": ci, "strata": strata, "seed": seed, "level": level,
        "n_boot": n_boot, "pthresh": pthresh, "covariates": list(covariates or []) or None,
        "mcmc": dict(mcmc) if mcmc else None,
    }
    report = progress or (lambda f, t: None)
    if covariates:
        return _run_covariates(histories, covariates, parameters, report)
    strata_parts: dict[str, CaptureHistories] = {}
    if strata is not None:
        if strata not in histories.covariates:
            raise InputError("unknown_column", f"{strata!r} is not a covariate column",
                             column=strata)
        strata_parts = histories.stratify(strata)
    total_h = histories.drop_covariates() if histories.covariates else histories
    if not any(total_h.pair_overlaps().values()):
        raise EstimationError("no_overlap_at_all", "No two lists have anyone in common.",
                              pairs=total_h.non_overlapping_pairs())
    n_parts = 1 + len(strata_parts)

    def sub(i: int, label: str) -> Progress:
        return lambda f, t: report((i + min(max(f, 0.0), 1.0)) / n_parts, f"{label}: {t}")

    report(0.0, "total")
    total = _estimate(total_h, method, ci, seed, level, n_boot, pthresh, mcmc, workers,
                      sub(0, "total"))
    total["warnings"] = [*(_input_warnings(histories)), *total["warnings"]]
    out_strata = []
    for i, (value, part) in enumerate(strata_parts.items(), start=1):
        report((i) / n_parts, f"{strata}={value}")
        out_strata.append(_estimate_stratum(value, part, method, ci, seed, level, n_boot,
                                            pthresh, mcmc, workers, sub(i, f"{strata}={value}")))
    report(1.0, "done")
    candidates = total.pop("candidates", [])
    total.pop("status", None)
    return {
        **total,
        "status": "ok",
        "stratum_column": strata,
        "strata": out_strata,
        "candidates": candidates,
        "parameters": parameters,
    }


def _input_warnings(h: CaptureHistories) -> list[dict[str, Any]]:
    out = []
    for w in h.warnings:
        if w.code == "lists_never_overlap":
            continue  # the model reports the minus-infinity terms it actually used
        details = dict(w.details)
        if w.column:
            details["column"] = w.column
        out.append(warning(w.code, **details))
    return out


def _estimate_stratum(value: str, h: CaptureHistories, *args: Any) -> dict[str, Any]:
    h = h.drop_covariates() if h.covariates else h
    chk = check_stratum(h, value)
    if not chk.ok:
        return _insufficient(value, h, chk.code or "stratum_too_small", chk.details or {})
    h2, dropped = drop_empty_lists(h)
    try:
        res = _estimate(h2, *args)
    except (EstimationError, InputError) as exc:
        return _insufficient(value, h, "stratum_failed",
                             {"stratum": value, "reason": message_for(exc, "en"),
                              "reason_code": exc.code})
    res.pop("candidates", None)
    if dropped:
        res["warnings"].insert(0, warning("stratum_missing_lists", stratum=value,
                                          lists=dropped))
    return {"stratum": value, "status": "ok", **res}


def _insufficient(value: str, h: CaptureHistories, code: str,
                  details: Mapping[str, Any]) -> dict[str, Any]:
    w = warning(code, **{"stratum": value, **details})
    return {
        "stratum": value, "status": "insufficient_data", "reason": w["message_en"],
        "reason_code": code, "reason_nl": w["message_nl"], "reason_en": w["message_en"],
        "observed": h.observed, "estimate": None, "ci": [None, None], "ci_method": None,
        "level": None, "hidden": None, "share_invisible": None, "method": None, "model": [],
        "fit": {"deviance": None, "df": None, "aic": None, "bic": None},
        "warnings": [w], "seed": None, "version": _version(), "lists": list(h.lists),
        "diagnostics": None,
    }


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _base(h: CaptureHistories, estimate: float, method: str, seed: int | None,
          level: float) -> dict[str, Any]:
    if not math.isfinite(estimate):
        raise EstimationError("estimate_not_finite", "the model gives no finite estimate")
    hidden = estimate - h.observed
    return {
        "observed": h.observed, "estimate": float(estimate), "ci": [None, None],
        "ci_method": None, "level": level, "hidden": float(hidden),
        "share_invisible": float(hidden / estimate) if estimate > 0 else None,
        "method": method, "model": [],
        "fit": {"deviance": None, "df": None, "aic": None, "bic": None},
        "warnings": [], "seed": seed, "version": _version(), "lists": list(h.lists),
    }


def _estimate(h: CaptureHistories, method: str, ci: str, seed: int, level: float,
              n_boot: int, pthresh: float, mcmc: Mapping[str, int] | None,
              workers: int | None, report: Progress) -> dict[str, Any]:
    if method == "lcmcr":
        out = _estimate_lcmcr(h, seed, level, mcmc, report)
    elif method == "rcapture":
        out = _estimate_rcapture(h, ci, seed, level)
    else:
        out = _estimate_loglinear(h, method, ci, seed, level, n_boot, pthresh, workers,
                                  report)
    return _with_diagnostics(h, out, method, level)


def _with_diagnostics(h: CaptureHistories, out: dict[str, Any], method: str,
                      level: float) -> dict[str, Any]:
    """Sparsity, Chao's lower bound and Rcapture's Mh models beside the estimate (module
    ``diagnostics``); their warnings come first, they are what a reader must see."""
    from .diagnostics import diagnose

    # an Rcapture heterogeneity model is itself the comparator: no model-disagreement check
    diag, warns = diagnose(h, out, out.get("level") or level,
                           compare_models=method != "rcapture")
    out["diagnostics"] = diag
    out["warnings"] = [*warns, *out["warnings"]]
    return out


def _estimate_loglinear(h: CaptureHistories, method: str, ci: str, seed: int, level: float,
                        n_boot: int, pthresh: float, workers: int | None,
                        report: Progress) -> dict[str, Any]:
    from .identifiability import check_spec
    from .intervals import bootstrap_interval, model_interval, profile_interval
    from .selection import select_model

    sel = select_model(h, method, pthresh=pthresh, ci=None, seed=seed, workers=workers)
    fit = sel.result
    assert fit.spec is not None
    code = check_spec(fit.spec, h.cell_counts().astype(float))
    if code:
        # only the main-effects start can get here (stepwise adds checked terms only,
        # aic/bic skip failing models): there is nothing sound to fall back on
        raise EstimationError(CHECK_NAMES[code], "the model has no finite, identifiable "
                              "estimate", terms=list(fit.terms), checkident=code)
    out = _base(h, fit.estimate, method, seed, level)
    out["model"] = list(fit.terms)
    out["neg_inf_terms"] = list(fit.neg_inf_terms)
    out["fit"] = {"deviance": fit.deviance, "df": fit.df, "aic": fit.aic, "bic": fit.bic}
    out["coefficients"] = {k: float(v) for k, v in fit.coefficients.items()}
    warns = _fit_warnings(fit)
    # Profile likelihood by default: SparseMSE's model-conditional interval ignores the noise of
    # the hidden count and covered only ~80% per stratum in tests/estimate/test_simulation.py.
    ci_method = {"default": "profile"}.get(ci, ci)
    if ci_method == "model":
        lo, hi = model_interval(fit, level)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            warns.append(warning("singular_information"))
        out["ci"] = [_finite(lo), _finite(hi)]
        warns.append(warning("model_conditional"))
    elif ci_method == "profile":
        _, lo, hi = profile_interval(fit, level)
        if not math.isfinite(hi):
            warns.append(warning("profile_upper_open", limit=round(1000 * fit.estimate)))
        out["ci"] = [_finite(lo), _finite(hi)]
    elif ci_method == "bootstrap":
        boot = bootstrap_interval(
            h, method=method, pthresh=pthresh, level=level, nboot=n_boot, seed=seed,
            workers=workers, point=fit.estimate,
            progress=lambda d, t: report(d / max(t, 1), f"bootstrap {d}/{t}"),
        )
        bd = boot.to_dict()
        out["ci"] = [_finite(boot.interval[0]), _finite(boot.interval[1])]
        out["bootstrap"] = bd
        warns += [warning(c, n_failed=bd["n_failed"], nboot=n_boot) for c in boot.warnings]
    out["ci_method"] = None if ci_method == "none" else ci_method
    if ci_method == "none":
        out["level"] = None
    out["warnings"] = warns
    out["candidates"] = _candidates(sel, h, method)
    if method == "stepwise":
        out["selection_path"] = [{k: v for k, v in step.items()} for step in sel.path]
    if "n_models" in fit.extra:
        out["n_models"] = fit.extra["n_models"]
        out["n_models_skipped"] = fit.extra["n_models_skipped"]
    return out


def _fit_warnings(fit: LogLinearResult) -> list[dict[str, Any]]:
    out = []
    if fit.neg_inf_terms:
        out.append(warning("neg_inf_terms", terms=list(fit.neg_inf_terms)))
    if not fit.converged:
        out.append(warning("did_not_converge"))
    return out


def _df(h: CaptureHistories, model: list[str]) -> int | None:
    """A candidate's degrees of freedom, as its own fit would report them (no refit)."""
    from itertools import combinations

    from .loglinear import build_spec, term_name

    pairs = {term_name(t, h.lists): t for t in combinations(range(len(h.lists)), 2)}
    terms = [pairs.get(str(name)) for name in model]
    if any(t is None for t in terms):
        return None
    spec = build_spec(list(h.lists), h.cell_counts().astype(float), terms, h.structural_zeros)
    return int(len(spec.cells) - spec.X.shape[1])


def _candidates(sel: Any, h: CaptureHistories, method: str) -> list[dict[str, Any]]:
    if method in ("aic", "bic"):
        return [{"rank": i + 1, **c, "df": _df(h, list(c["model"]))}
                for i, c in enumerate(sel.candidates[:N_CANDIDATES])]
    if method != "stepwise":
        return []
    out = []
    terms: list[str] = []
    steps = [None, *sel.path]
    for i, step in enumerate(steps):
        if step is not None:
            terms = [*terms, step["term"]]
        f = LogLinear(h, terms).fit(check=False)
        out.append({"step": i, "model": list(f.terms), "added": None if step is None
                    else step["term"], "p": None if step is None else step["p"],
                    "estimate": f.estimate, "aic": f.aic, "bic": f.bic,
                    "deviance": f.deviance, "df": int(f.df), "selected": i == len(steps) - 1})
    return out


def _estimate_lcmcr(h: CaptureHistories, seed: int, level: float,
                    mcmc: Mapping[str, int] | None, report: Progress) -> dict[str, Any]:
    from . import lcmcr as lcmcr_mod

    kwargs: dict[str, Any] = {k: int(v) for k, v in (mcmc or {}).items()
                              if k in ("K", "burnin", "samples", "thinning", "chains")}
    res = lcmcr_mod.lcmcr_from(h, seed=seed, level=level, **kwargs,
                               progress=_either_progress(report, "MCMC"))
    out = _base(h, float(res.estimate), "lcmcr", seed, level)
    lo, hi = res.ci
    out["ci"] = [_finite(lo), _finite(hi)]
    out["ci_method"] = "credible"
    out["posterior"] = {"median": res.median, "mean": res.mean,
                        "quantiles": res.quantiles(),
                        "effective_sample_size": res.effective_sample_size(),
                        "settings": dict(res.settings)}
    out["warnings"] = [warning("method_note", text=str(t)) for t in res.warnings]
    out["candidates"] = []
    return out


def _either_progress(report: Progress, label: str) -> Callable[[Any, Any], None]:
    """Accept both progress conventions: (done, total) counts or (fraction, text)."""

    def cb(a: Any, b: Any) -> None:
        if isinstance(b, str):
            report(float(a), f"{label}: {b}")
        else:
            report(float(a) / max(float(b), 1.0), f"{label} {a}/{b}")

    return cb


def _estimate_rcapture(h: CaptureHistories, ci: str, seed: int,
                       level: float) -> dict[str, Any]:
    from . import rcapture

    table = rcapture.closedp_from(h)
    usable = [r for r in table.rows if r.model not in ("Mb", "Mbh") and r.info_fit == 0
              and math.isfinite(r.estimate) and r.estimate >= h.observed]
    if not usable:
        raise EstimationError("no_valid_model", "no closed-population model fits these data")
    best = min(usable, key=lambda r: r.bic)
    out = _base(h, float(best.estimate), "rcapture", seed, level)
    out["model"] = []
    out["rcapture_model"] = best.model
    out["fit"] = {"deviance": best.deviance, "df": best.df, "aic": best.aic, "bic": best.bic}
    if ci != "none":
        res = rcapture.closedp_ci_from(h, model=best.model, alpha=1 - level)
        out["ci"] = [_finite(res.ci[0]), _finite(res.ci[1])]
        out["ci_method"] = "profile"
        out["warnings"] = [warning("method_note", text=str(t)) for t in res.ci_warnings]
    else:
        out["level"] = None
    out["warnings"] += [warning("method_note", text=str(t)) for t in best.warnings]
    ranked = sorted(table.rows, key=lambda r: (not math.isfinite(r.bic), r.bic))
    out["candidates"] = [
        {"rank": i + 1, "model": r.model, "estimate": _finite(r.estimate),
         "aic": _finite(r.aic), "bic": _finite(r.bic), "deviance": _finite(r.deviance),
         "df": r.df, "infoFit": r.info_fit}
        for i, r in enumerate(ranked)
    ]
    return out


def _run_covariates(histories: CaptureHistories, covariates: list[str],
                    parameters: dict[str, Any], report: Progress) -> dict[str, Any]:
    """Log-linear model over lists x covariates (module ``covariates``)."""
    missing = [c for c in covariates if c not in histories.covariates]
    if missing:
        raise InputError("unknown_column", f"{missing[0]!r} is not a covariate column",
                         column=missing[0])
    try:
        from . import covariates as cov_mod

        fit = cov_mod.fit_covariate_model
    except (ImportError, AttributeError) as exc:
        raise EstimationError("covariates_unavailable",
                              "covariates.fit_covariate_model is not available") from exc
    import pandas as pd

    table = pd.DataFrame(histories.to_rows())
    ci = parameters["ci"]
    n_boot = parameters["n_boot"] if ci == "bootstrap" else 0 if ci == "none" else 200
    res = fit(table, list(histories.lists), list(covariates), count="count",
              level=parameters["level"], seed=parameters["seed"], n_boot=n_boot,
              progress=_either_progress(report, "covariates"))
    out = res.to_dict() if hasattr(res, "to_dict") else dict(res)
    out.setdefault("level", out.get("ci_level"))
    out.setdefault("strata", [])
    out.setdefault("candidates", [])
    out.setdefault("warnings", [])
    out.setdefault("version", _version())
    out["parameters"] = parameters
    return _jsonable(out)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ----------------------------------------------------------------------------- output
CSV_COLUMNS = ("scope", "stratum", "status", "observed", "estimate", "ci_low", "ci_high",
               "ci_method", "level", "hidden", "share_invisible", "method", "model",
               "deviance", "df", "aic", "bic", "seed", "version", "warnings")


def _csv_row(scope: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    ci = obj.get("ci") or [None, None]
    fit = obj.get("fit") or {}
    return {
        "scope": scope, "stratum": obj.get("stratum", ""), "status": obj.get("status", "ok"),
        "observed": obj.get("observed"), "estimate": obj.get("estimate"),
        "ci_low": ci[0], "ci_high": ci[1], "ci_method": obj.get("ci_method"),
        "level": obj.get("level"), "hidden": obj.get("hidden"),
        "share_invisible": obj.get("share_invisible"), "method": obj.get("method"),
        "model": " ".join(obj.get("model") or []), "deviance": fit.get("deviance"),
        "df": fit.get("df"), "aic": fit.get("aic"), "bic": fit.get("bic"),
        "seed": obj.get("seed"), "version": obj.get("version"),
        "warnings": " ".join(w["code"] for w in obj.get("warnings") or []),
    }


def to_csv(result: Mapping[str, Any]) -> str:
    """One row for the total and one per stratum (empty cells for missing numbers)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerow({k: ("" if v is None else v) for k, v in _csv_row("total", result).items()})
    for s in result.get("strata") or []:
        w.writerow({k: ("" if v is None else v) for k, v in _csv_row("stratum", s).items()})
    return buf.getvalue()


def plot(result: Mapping[str, Any], kind: str, out: BinaryIO | pathlib.Path,
         histories: CaptureHistories | None = None, fmt: str = "png", *,
         lang: str = "nl") -> None:
    """Draw ``kind`` ("strata", "observed_hidden", "overlap") into a file or stream."""
    from . import plots

    if kind not in PLOT_KINDS:
        raise InputError("bad_option", f"unknown plot {kind!r}", option="plot", value=kind,
                         choices=list(PLOT_KINDS))
    if kind == "overlap" and histories is None:
        raise ValueError("the overlap plot needs the histories")
    plots.draw(result, kind, out, histories=histories, fmt=fmt, lang=lang)

