"""Researcher page: upload, progress, result, downloads and reproduction of estimate runs."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zichtbaar.accounts.models import User
from zichtbaar.core.decorators import require_capability
from zichtbaar.estimate.histories import InputError
from zichtbaar.estimate.messages import message_for

from . import conf, engine, hub_source, selectors, services
from .access import access_run
from .events import EstimateEvent
from .forms import CI_CHOICES, METHOD_CHOICES, HubRunForm, RunForm
from .models import EstimateRun, RunStatus

logger = logging.getLogger(__name__)
PAGE_SIZE = 25
PLOT_CACHE_SECONDS = 3600


def _purpose() -> str:
    return _("estimation research")


def _download(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_capability("estimate.use")
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_of_organisation(request.user)  # type: ignore[arg-type]
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "estimate/list.html", {"page": page})


def _body_too_large(request: HttpRequest) -> bool:
    """Refuse a huge upload by its declared length, before Django parses the body."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > conf.MAX_UPLOAD_BYTES + 64 * 1024


@require_capability("estimate.use")
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and _body_too_large(request):
        return render(request, "estimate/new.html", {
            "form": RunForm(), "upload_error": _("The file is larger than 5 MB.")}, status=400)
    form = RunForm(request.POST, request.FILES) if request.method == "POST" else RunForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            run = services.run_create(actor=request.user,  # type: ignore[arg-type]
                                      input_name=upload.name or "upload.csv",
                                      data=form.data_bytes, parameters=form.parameters())
            return redirect("estimate:detail", pk=run.pk)
        status = 400
    return render(request, "estimate/new.html", {
        "form": form, "hub": hub_source.available(request.user)},  # type: ignore[arg-type]
        status=status)


@require_capability("estimate.use")
@require_http_methods(["GET", "POST"])
def run_new_hub(request: HttpRequest) -> HttpResponse:
    """Estimate from the hub's linked capture histories for a period (a frozen snapshot)."""
    user: User = request.user  # type: ignore[assignment]
    if not hub_source.available(user):
        raise PermissionDenied
    form = HubRunForm(request.POST) if request.method == "POST" else HubRunForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            start, end = form.cleaned_data["period_start"], form.cleaned_data["period_end"]
            data, persons = hub_source.snapshot(user=user, period_start=start, period_end=end)
            if persons == 0:
                form.add_error(None, _("The hub has no linked victims in this period."))
            else:
                try:
                    run = services.run_create(
                        actor=user, input_name=f"hub-{start.isoformat()}-{end.isoformat()}.csv",
                        data=data, parameters=form.parameters(), source="hub")
                except InputError as error:
                    form.add_error(None, message_for(error, _lang()))
                else:
                    return redirect("estimate:detail", pk=run.pk)
        status = 400
    return render(request, "estimate/new_hub.html", {"form": form}, status=status)


def _lang() -> str:
    return "en" if (get_language() or "nl").startswith("en") else "nl"


def _plots(run: EstimateRun) -> list[tuple[str, str]]:
    result = run.result or {}
    kinds = [("observed_hidden", _("Observed and hidden")), ("overlap", _("Overlap of lists"))]
    if result.get("strata"):
        kinds.insert(0, ("strata", _("Estimate per stratum")))
    return kinds


@require_capability("estimate.use")
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk, purpose=_purpose(),  # type: ignore[arg-type]
                     event=EstimateEvent.RUN_VIEWED)
    method, ci = str(run.parameter("method", "")), str(run.parameter("ci", ""))
    return render(request, "estimate/detail.html", {
        "run": run, "view": selectors.result_view(run.result), "plots": _plots(run),
        "method_label": dict(METHOD_CHOICES).get(method, method),
        "ci_label": dict(CI_CHOICES).get(ci, ci),
        "level_percent": f"{100 * float(run.parameter('level', 0.95)):g}",
    })


@require_capability("estimate.use")
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled every second by htmx; once finished, the browser loads the full result page."""
    run = access_run(request.user, pk, purpose=_purpose())  # type: ignore[arg-type]
    detail_url = reverse("estimate:detail", kwargs={"pk": run.pk})
    if run.is_finished:
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = detail_url
            return response
        return redirect(detail_url)
    return render(request, "estimate/partials/_progress.html", {"run": run})


def _done(run: EstimateRun) -> dict:  # type: ignore[type-arg]
    if run.status != RunStatus.DONE or not run.result:
        raise Http404
    return run.result


@require_capability("estimate.use")
@require_GET
def download_json(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk, purpose=_purpose(),  # type: ignore[arg-type]
                     event=EstimateEvent.RESULT_DOWNLOADED, detail={"format": "json"})
    payload = {"run": run.pk, "input_name": run.input_name, "input_sha256": run.input_sha256,
               "parameters": run.parameters, "library_version": run.library_version,
               "result": _done(run)}
    response = JsonResponse(payload, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="estimate-{run.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_capability("estimate.use")
@require_GET
def download_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk, purpose=_purpose(),  # type: ignore[arg-type]
                     event=EstimateEvent.RESULT_DOWNLOADED, detail={"format": "csv"})
    return _download(engine.result_csv(_done(run)), "text/csv; charset=utf-8",
                     f"estimate-{run.pk}.csv")


@require_capability("estimate.use")
@require_GET
def download_input(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk, purpose=_purpose(),  # type: ignore[arg-type]
                     event=EstimateEvent.INPUT_DOWNLOADED)
    return _download(run.input_bytes, "text/csv; charset=utf-8", f"estimate-{run.pk}-input.csv")


@require_capability("estimate.use")
@require_GET
def plot_png(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A chart rendered from the stored result; shown inline, or downloaded (and audited)."""
    download = request.GET.get("download") == "1"
    run = access_run(request.user, pk, purpose=_purpose(),  # type: ignore[arg-type]
                     event=EstimateEvent.RESULT_DOWNLOADED if download else None,
                     detail={"format": "png", "plot": kind} if download else None)
    result = _done(run)
    if kind not in dict(_plots(run)):
        raise Http404
    lang = _lang()
    stamp = run.finished_at.timestamp() if run.finished_at else 0
    key = f"estimate:plot:{run.pk}:{stamp}:{kind}:{lang}"
    image = cache.get(key)
    if image is None:
        try:
            image = engine.plot_png(result, kind, run.input_bytes,
                                    engine.parameters_from(run.parameters), lang)
        except Exception as exc:  # a chart that cannot be drawn must not break the page
            logger.exception("plot %s of estimate run %s failed", kind, run.pk)
            raise Http404 from exc
        cache.set(key, image, PLOT_CACHE_SECONDS)
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    if download:
        response["Content-Disposition"] = f'attachment; filename="estimate-{run.pk}-{kind}.png"'
    return response


@require_capability("estimate.use")
@require_POST
def run_reproduce(request: HttpRequest, pk: int) -> HttpResponse:
    run = access_run(request.user, pk, purpose=_purpose())  # type: ignore[arg-type]
    user: User = request.user  # type: ignore[assignment]
    new = services.run_reproduce(actor=user, run=run)
    return redirect("estimate:detail", pk=new.pk)
