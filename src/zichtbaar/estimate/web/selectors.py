"""Reads for display, already limited to the user's own organisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import get_language

from zichtbaar.accounts.models import User

from .models import EstimateRun


def runs_of_organisation(user: User) -> QuerySet[EstimateRun]:
    """The organisation's runs, without the (large, sensitive) input column."""
    return (EstimateRun.objects.filter(organisation_id=user.organisation_id)
            .defer("input_data", "result").select_related("created_by"))


@dataclass(frozen=True)
class ResultWarning:
    code: str
    message: str


@dataclass(frozen=True)
class ResultView:
    """A stored result shaped for the template, with sentences in the active language."""

    summary: dict[str, Any]
    warnings: list[ResultWarning]
    strata: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _diagnostics(diag: Any) -> dict[str, Any]:
    """Chao's lower bound, Rcapture's Mh models and the overlap counts, for the template."""
    if not isinstance(diag, dict):
        return {}
    rows = []
    lb = diag.get("chao_lower_bound")
    if isinstance(lb, dict):
        rows.append({"kind": "chao", "label": "", **_row(lb)})
    for m in diag.get("heterogeneity_models") or []:
        if isinstance(m, dict):
            rows.append({"kind": "mh", "label": f"Rcapture {m.get('model', '')}", **_row(m)})
    return {"rows": rows, "sparsity": diag.get("sparsity") or {}}


def _row(item: dict[str, Any]) -> dict[str, Any]:
    ci = item.get("ci") or [None, None]
    return {"estimate": item.get("estimate"), "ci_low": ci[0], "ci_high": ci[1]}


def _warnings(items: Any, lang: str) -> list[ResultWarning]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            text = item.get(f"message_{lang}") or item.get("message_en") or item.get("message")
            out.append(ResultWarning(str(item.get("code", "")), str(text or item.get("code", ""))))
        else:
            out.append(ResultWarning("", str(item)))
    return out


def _summary(part: dict[str, Any]) -> dict[str, Any]:
    ci = part.get("ci") or [None, None]
    share = part.get("share_invisible")
    return {
        "observed": part.get("observed"), "estimate": part.get("estimate"),
        "ci_low": ci[0] if len(ci) > 0 else None, "ci_high": ci[1] if len(ci) > 1 else None,
        "ci_method": part.get("ci_method") or "", "hidden": part.get("hidden"),
        "share_invisible_percent": None if share is None else 100 * float(share),
        "method": part.get("method") or "", "model": part.get("model") or [],
        "fit": part.get("fit") or {}, "status": part.get("status") or "",
        "stratum": part.get("stratum"), "rcapture_model": part.get("rcapture_model") or "",
        "loglinear": part.get("method") in {"stepwise", "aic", "bic", "main"},
    }


def _candidate(item: dict[str, Any]) -> dict[str, Any]:
    model = item.get("model")
    terms = ", ".join(str(t) for t in model) if isinstance(model, list | tuple) else str(
        model or "")
    # df may be absent (results stored before engine.add_candidate_df): None, so the
    # template's default_if_none shows a dash; an absent key would render as ""
    return {**item, "terms": terms, "df": item.get("df")}


def result_view(result: dict[str, Any] | None, lang: str | None = None) -> ResultView | None:
    if not result:
        return None
    lang = "en" if (lang or get_language() or "nl").startswith("en") else "nl"
    strata = []
    for part in result.get("strata") or []:
        if isinstance(part, dict):
            row = _summary(part)
            row["warnings"] = _warnings(part.get("warnings"), lang)
            row["reason"] = part.get(f"reason_{lang}") or part.get("reason") or ""
            strata.append(row)
    candidates = [_candidate(c) for c in (result.get("candidates") or []) if isinstance(c, dict)]
    return ResultView(summary=_summary(result), warnings=_warnings(result.get("warnings"), lang),
                      strata=strata, candidates=candidates[:20],
                      parameters=result.get("parameters") or {},
                      diagnostics=_diagnostics(result.get("diagnostics")))
