from __future__ import annotations

import csv

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zichtbaar.core.decorators import require_capability
from zichtbaar.core.exports import csv_cell

from . import record
from .events import AuditEvent
from .forms import AuditSearchForm
from .selectors import AuditFilter, entries_matching

PAGE_SIZE = 50


def _filter_from(form: AuditSearchForm) -> AuditFilter:
    return AuditFilter(**{k: v for k, v in form.cleaned_data.items() if v not in (None, "")})


@require_capability("audit.search")
def search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        flt = _filter_from(form) if form.is_bound else AuditFilter()
        entries = entries_matching(request.user, flt)  # type: ignore[arg-type]
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        record.record(AuditEvent.AUDIT_SEARCHED, actor=request.user, purpose=_("audit review"),
                      detail={"filter": {k: str(v) for k, v in vars(flt).items() if v}})
    template = "audit/partials/_results.html" if request.headers.get("HX-Request") else (
        "audit/search.html")
    return render(request, template, {"form": form, "page": page})


@require_capability("audit.search")
def export(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "audit/search.html", {"form": form, "page": None}, status=400)
    flt = _filter_from(form) if form.is_bound else AuditFilter()
    entries = entries_matching(request.user, flt)  # type: ignore[arg-type]
    record.record(AuditEvent.AUDIT_EXPORTED, actor=request.user, purpose=_("audit review"),
                  detail={"filter": {k: str(v) for k, v in vars(flt).items() if v}})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    writer = csv.writer(response)
    columns = ["seq", "created_at", "event", "action", "actor_label", "organisation_id", "role",
               "object_type", "object_id", "purpose", "entry_hash"]
    writer.writerow(columns)
    for row in entries.values_list(*columns).iterator():
        writer.writerow([csv_cell(v) for v in row])
    return response
