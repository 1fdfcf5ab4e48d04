"""The export page, file downloads and the read-only JSON API of published tables.

National tables (protected) need ``monitor.view``; an internal table is always the signed-in
user's own organisation's (the organisation never comes from the request), and the API
serves national tables only. Every file and every API answer is audited. Bad input gets a
Dutch sentence and status 400, never a server error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zichtbaar.core.decorators import require_capability
from zichtbaar.disclosure import ProtectionError

from . import exports, labels, publish, services
from .export_forms import ExportForm

SHAPE_TEXT = {
    "sdg_16_2_2": "SDG 16.2.2",
    "eurostat_crim_thb_status": "Eurostat crim_thb",
    "eurostat_crim_thb_citizenship": "Eurostat crim_thb",
    "eurostat_crim_thb_form": "Eurostat crim_thb",
    "eurostat_crim_thb_vsage": "Eurostat crim_thb_vsage",
    "glotip_victims": "UNODC GLOTIP",
}


def _indicators() -> list[dict[str, Any]]:
    book = services.catalogue()
    return [{"id": item["id"], "name": labels.indicator_name(item),
             "dimensions": [{"key": d, "label": labels.dimension_label(d)}
                            for d in item.get("dimensions") or []]}
            for item in book.indicators.values()]


def _shapes() -> list[dict[str, str]]:
    return [{"key": key, "family": SHAPE_TEXT[key],
             "columns": ", ".join([*publish.SHAPE_DIMENSIONS[key],
                                   *publish.SHAPE_MEASURES[key], "flag"])}
            for key in publish.SHAPES]


def _form(request: HttpRequest, data: Any) -> ExportForm:
    return ExportForm(data, indicators=[i["id"] for i in _indicators()])


def _table(request: HttpRequest, form: ExportForm) -> publish.Table:
    """The table the valid ``form`` asks for; raises PublishError or ProtectionError."""
    data = form.cleaned_data
    years = form.years
    span = list(range(years[0], years[1] + 1)) if years else None
    if data["table"] in publish.SHAPES:
        return publish.shape_table(data["table"], years=span, on=data.get("on"))
    internal = data["audience"] == "internal"
    return publish.indicator_table(
        data["table"], audience="internal" if internal else "national",
        by=data.get("by") or None,
        organisation=request.user.organisation if internal else None,  # type: ignore[union-attr]
        on=data.get("on"), periods=span)


def _errors(form: ExportForm) -> list[str]:
    return [str(m) for messages in form.errors.values() for m in messages]


def _page(request: HttpRequest, form: ExportForm, errors: list[str], status: int = 200
          ) -> HttpResponse:
    return render(request, "monitor/exports/index.html",
                  {"form": form, "errors": errors, "shapes": _shapes(),
                   "indicators": _indicators()}, status=status)


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ProtectionError):
        return _("This table cannot be protected as it is; choose fewer categories or a "
                 "longer period.")
    return str(exc)


@require_capability("monitor.view")
def exports_page(request: HttpRequest) -> HttpResponse:
    form = _form(request, None)
    return _page(request, form, [])


@require_capability("monitor.view")
def export_download(request: HttpRequest) -> HttpResponse:
    form = _form(request, request.GET)
    if not form.is_valid():
        return _page(request, form, _errors(form), status=400)
    try:
        table = _table(request, form)
    except (publish.PublishError, ProtectionError) as exc:
        return _page(request, form, [_refusal(exc)], status=400)
    fmt = form.cleaned_data["format"]
    if fmt == "xlsx":
        response = HttpResponse(exports.xlsx_bytes(table), content_type=exports.XLSX_TYPE)
    else:
        response = HttpResponse(exports.csv_bytes(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(table, fmt, form.years)}"')
    exports.export_recorded(actor=request.user, table=table, fmt=fmt, via="web",
                            years=form.years, on=form.cleaned_data.get("on"))
    return response


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_capability("monitor.view")
def api_tables(request: HttpRequest) -> JsonResponse:
    """What the API serves: the standard shapes and every catalogue indicator."""
    return JsonResponse({"shapes": _shapes(), "indicators": _indicators()})


@require_capability("monitor.view")
def api_table(request: HttpRequest, key: str) -> JsonResponse:
    """One national, protected table as JSON; ``?first=&last=&by=&on=`` as on the page."""
    params = request.GET.copy()
    params["table"] = key
    if params.get("audience", "national") != "national":
        return _json_error(_("The API serves national, protected tables only."), 403)
    params["audience"] = "national"
    form = _form(request, params)
    if not form.is_valid():
        return _json_error(" ".join(_errors(form)), 404 if "table" in form.errors else 400)
    try:
        table = _table(request, form)
    except (publish.PublishError, ProtectionError) as exc:
        return _json_error(_refusal(exc))
    exports.export_recorded(actor=request.user, table=table, fmt="json", via="api",
                            years=form.years, on=form.cleaned_data.get("on"))
    return JsonResponse(exports.table_json(table))
