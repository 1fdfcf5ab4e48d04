"""Report pages: choose year, language, format and scope; follow progress; download.

A job belongs to the organisation of the person who started it: anyone else gets a 404, so
another organisation's internal report is never reachable, not even its existence.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from zichtbaar.accounts.models import User
from zichtbaar.audit.record import record
from zichtbaar.core.decorators import require_capability

from . import report_jobs
from .report import CONTENT_TYPES
from .report_events import ReportAuditEvent
from .report_forms import ReportForm


def _purpose() -> str:
    return _("annual chat report")


def access_report_job(user: User, job_id: str) -> report_jobs.Job:
    """The one door to a job: same organisation as the person who started it, else 404."""
    job = report_jobs.load(job_id)
    if job is None:
        raise Http404
    if user.organisation_id is None:
        raise Http404
    if job.organisation_id != user.organisation_id:
        raise Http404
    return job


@require_capability("monitor.view")
@require_http_methods(["GET", "POST"])
def report_index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    language = "en" if (get_language() or "nl").startswith("en") else "nl"
    form = (ReportForm(request.POST) if request.method == "POST"
            else ReportForm(initial={"language": language}))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job = report_jobs.create(year=data["year"], language=data["language"],
                                 fmt=data["format"], audience=data["scope"],
                                 organisation_id=user.organisation_id,  # type: ignore[arg-type]
                                 user_id=user.pk)
        record(ReportAuditEvent.REPORT_REQUESTED, actor=user, object_type="monitor_report",
               object_id=job.id, purpose=_purpose(),
               detail={"kind": "chat", "year": job.year, "audience": job.audience,
                       "format": job.format, "language": job.language})
        report_jobs.submit(job.id)
        return redirect("monitor:report_status", job_id=job.id)
    return render(request, "monitor/report/index.html", {
        "form": form, "jobs": report_jobs.jobs_of(user.organisation_id or 0)},  # type: ignore[arg-type]
        status=400 if request.method == "POST" else 200)


@require_capability("monitor.view")
@require_GET
def report_status(request: HttpRequest, job_id: str) -> HttpResponse:
    job = access_report_job(request.user, job_id)  # type: ignore[arg-type]
    return render(request, "monitor/report/status.html", {"job": job})


@require_capability("monitor.view")
@require_GET
def report_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """Polled by htmx every second; once finished, the browser loads the status page."""
    job = access_report_job(request.user, job_id)  # type: ignore[arg-type]
    if job.finished:
        url = reverse("monitor:report_status", kwargs={"job_id": job.id})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    return render(request, "monitor/report/partials/_progress.html", {"job": job})


@require_capability("monitor.view")
@require_GET
def report_download(request: HttpRequest, job_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    job = access_report_job(user, job_id)
    path = report_jobs.output_path(job)
    if job.status != "done" or not path.is_file():
        raise Http404
    record(ReportAuditEvent.REPORT_DOWNLOADED, actor=user, object_type="monitor_report",
           object_id=job.id, purpose=_purpose(),
           detail={"kind": "chat", "year": job.year, "audience": job.audience,
                   "format": job.format, "language": job.language,
                   "input_sha256": job.input_sha256})
    response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[job.format],
                            as_attachment=True, filename=job.filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
