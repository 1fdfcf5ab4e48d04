"""Pages of Watch: the analyst queue, a cluster with its evidence, labels, handover to the
hub, the indicator report, sources and the export."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zichtbaar.audit.record import record
from zichtbaar.core.decorators import require_capability

from . import exports, presentation, selectors, services
from .access import access_cluster, watch_allowed
from .events import WatchAuditEvent
from .forms import HandoverForm, LabelForm, LexiconForm, language
from .models import Cluster, LexiconVersion

PURPOSE_ASSESS = gettext_lazy("assessing an ad network")
ADS_SHOWN = 100  # a page an analyst can read; the timeline and export cover every ad
ERRORS = {
    "no_desk": gettext_lazy("There is no signal desk to hand over to."),
    "already_handed_over": gettext_lazy("This cluster was already handed to the hub."),
    "lexicon_invalid": gettext_lazy("The lexicon is not valid."),
    "version_exists": gettext_lazy("This version number already exists; choose a new one."),
}  # the command line has its own English lines (services.ERROR_TEXTS)


def _guard(request: HttpRequest, capability: str = "watch.queue.view") -> None:
    if not watch_allowed(request.user, capability):
        raise Http404


def _lang() -> str:
    return language()


@require_capability("watch.queue.view")
def queue(request: HttpRequest) -> HttpResponse:
    _guard(request)
    state = request.GET.get("state", "open")
    if state not in {"open", "new", "grown", "labelled", "all"}:
        state = "open"
    clusters = list(selectors.clusters_in_queue(state=state)[:200])
    record(WatchAuditEvent.QUEUE_VIEWED, actor=request.user, object_type="watch_queue",
           purpose=str(PURPOSE_ASSESS), organisation_id=request.user.organisation_id,
           detail={"state": state, "shown": len(clusters)})
    lang = _lang()
    rows = [{"cluster": c, "top": [r.get(f"label_{lang}", r["indicator"])
                                   for r in c.explanation if r.get("contribution", 0) > 0][:3]}
            for c in clusters]
    return render(request, "watch/queue.html", {"rows": rows, "state": state})


@require_capability("watch.queue.view")
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = access_cluster(request.user, pk, purpose=str(PURPOSE_ASSESS))
    services.cluster_mark_reviewed(cluster=cluster)
    ads = list(selectors.cluster_ads(cluster))
    lexicon = services.lexicon_labels(_lang())
    ad_rows = []
    for ad in ads[:ADS_SHOWN]:
        extraction = ad.extraction()
        ad_rows.append({
            "ad": ad, "extraction": extraction,
            "text": presentation.highlight(ad.text, presentation.ad_spans(extraction, ad.hits,
                                                                          lexicon)),
            "snapshots": list(ad.snapshots.all()),
        })
    lang = _lang()
    explanation = [{**row, "label": row.get(f"label_{lang}", row["indicator"])}
                   for row in cluster.explanation]
    context: dict[str, Any] = {
        "cluster": cluster, "ads": ad_rows, "explanation": explanation,
        "ads_hidden": max(0, len(ads) - ADS_SHOWN),
        "timeline": selectors.timeline(ads), "labels": selectors.labels_for(cluster),
        "label_form": LabelForm(initial={"label": cluster.label}),
        "handover_form": HandoverForm(initial=services.handover_initial(cluster)),
        "can_label": watch_allowed(request.user, "watch.cluster.label"),
        "can_handover": watch_allowed(request.user, "watch.cluster.handover"),
        "shared": services.handover_preview(cluster),
    }
    return render(request, "watch/cluster.html", context)


@require_capability("watch.queue.view")
def cluster_images(request: HttpRequest, pk: int) -> HttpResponse:
    """Image hashes only on request (audited); the images themselves were never kept."""
    cluster = access_cluster(request.user, pk, purpose=str(PURPOSE_ASSESS), record_view=False)
    record(WatchAuditEvent.IMAGES_VIEWED, actor=request.user, object_type="watch_cluster",
           object_id=cluster.pk, purpose=str(PURPOSE_ASSESS),
           organisation_id=request.user.organisation_id)
    ads = list(selectors.cluster_ads(cluster))
    return render(request, "watch/partials/_images.html", {"ads": ads})


@require_capability("watch.queue.view")
def cluster_timeline_svg(request: HttpRequest, pk: int) -> HttpResponse:
    """One plot of the cluster's timelines, by position (no phone number in the address:
    addresses end up in proxy logs)."""
    cluster = access_cluster(request.user, pk, purpose=str(PURPOSE_ASSESS), record_view=False)
    timelines = list(selectors.timeline(list(selectors.cluster_ads(cluster))).items())
    raw = request.GET.get("n", "0")
    if not raw.isdigit() or int(raw) >= len(timelines):
        raise Http404
    key, rows = timelines[int(raw)]
    return HttpResponse(exports.timeline_svg(rows, title=key or cluster.reference),
                        content_type="image/svg+xml")


@require_POST
@require_capability("watch.cluster.label")
def cluster_label(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = access_cluster(request.user, pk, purpose=str(PURPOSE_ASSESS),
                             capability="watch.cluster.label", record_view=False)
    form = LabelForm(request.POST)
    if form.is_valid():
        services.cluster_label(actor=request.user, cluster=cluster,
                               label=form.cleaned_data["label"], note=form.cleaned_data["note"])
        messages.success(request, _("Label saved."))
    else:
        messages.error(request, " ".join(" ".join(e) for e in form.errors.values()))
    return redirect("watch:cluster", pk=cluster.pk)


@require_POST
@require_capability("watch.cluster.handover")
def cluster_handover(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = access_cluster(request.user, pk, purpose=str(PURPOSE_ASSESS),
                             capability="watch.cluster.handover", record_view=False)
    form = HandoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(e) for e in form.errors.values()))
        return redirect("watch:cluster", pk=cluster.pk)
    try:
        signal = services.cluster_handover(actor=request.user, cluster=cluster,
                                           indicators=form.cleaned_data["indicators"],
                                           minor=form.cleaned_data["minor"],
                                           note=form.cleaned_data["note"])
    except services.WatchError as exc:
        messages.error(request, str(ERRORS.get(exc.code, exc.code)))
        return redirect("watch:cluster", pk=cluster.pk)
    messages.success(request, _("Handed to the hub as signal %(ref)s.")
                     % {"ref": signal.reference})
    return redirect("watch:cluster", pk=cluster.pk)


@require_capability("watch.queue.view")
def indicator_report(request: HttpRequest) -> HttpResponse:
    _guard(request)
    rows = services.indicator_report(_lang())
    record(WatchAuditEvent.INDICATOR_REPORT_VIEWED, actor=request.user,
           object_type="watch_indicator_report", organisation_id=request.user.organisation_id)
    labelled = Cluster.objects.exclude(label="").count()
    return render(request, "watch/indicator_report.html", {"rows": rows, "labelled": labelled})


@require_capability("watch.sources.manage")
def sources(request: HttpRequest) -> HttpResponse:
    _guard(request, "watch.sources.manage")
    if request.method == "POST":
        text = request.POST.get("yaml_text", "")
        if len(text) > 64 * 1024:
            messages.error(request, _("The configuration is too large (at most 64 KB)."))
        else:
            try:
                source = services.source_save(yaml_text=text, actor=request.user)
            except services.WatchError as exc:
                messages.error(request, _("The source was not saved: %(why)s")
                               % {"why": exc.detail or exc.code})
            else:
                messages.success(request, _("Source %(name)s saved.") % {"name": source.name})
                return redirect("watch:sources")
    return render(request, "watch/sources.html",
                  {"sources": selectors.sources_with_runs(),
                   "yaml_text": request.POST.get("yaml_text", "")})


@require_capability("watch.lexicon.manage")
def lexicon_edit(request: HttpRequest) -> HttpResponse:
    """Admins edit the indicator lexicon; each save is a new version, earlier ones stay and
    every ad keeps the version it was scored with."""
    import yaml

    _guard(request, "watch.lexicon.manage")
    current = services.current_lexicon()
    form = LexiconForm(request.POST or None, initial={
        "data": yaml.safe_dump(current.data, allow_unicode=True, sort_keys=False)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.lexicon_version_create(actor=request.user,
                                                data=form.cleaned_data["data"],
                                                note=form.cleaned_data["note"])
            except services.WatchError as exc:
                form.add_error("data", f"{ERRORS.get(exc.code, exc.code)} {exc.detail}")
            else:
                messages.success(request, _("New version saved."))
                return redirect("watch:lexicon")
        status = 400
    return render(request, "watch/lexicon.html",
                  {"form": form, "current": current,
                   "versions": LexiconVersion.objects.all()[:50]}, status=status)


@require_capability("watch.queue.view")
def export_csv(request: HttpRequest) -> HttpResponse:
    _guard(request)
    buffer = io.StringIO()
    count = exports.write_ads_csv(buffer)
    services.export_recorded(rows=count, actor=request.user)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="watch-ads.csv"'
    return response
