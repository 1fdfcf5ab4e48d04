"""Pages of the helpline: the public visitor chat, the console, coding, stats.

Views never read the client address or user agent; they parse input, go through ``access``
and call one service or selector.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType
from zichtbaar.audit.record import record
from zichtbaar.core.decorators import public, require_capability
from zichtbaar.core.exports import csv_cell

from . import codebook as codebook_mod
from . import conf, selectors, services
from . import stats as stats_mod
from .access import COUNSEL, MANAGE, STATS, SUPERVISE, access_conversation, helpline_can
from .errors import HelplineError
from .events import HelplineAuditEvent
from .forms import (
    CannedResponseForm,
    CodingForm,
    ReferralForm,
    SettingsForm,
    StatsForm,
    hours_as_text,
)
from .hours import DAYS
from .models import CannedResponse, Coding, Conversation
from .services import AGE_BANDS, QUEUE_CLEAR_SCOPES
from .start_tokens import start_token_issue


def helpline_view(capability: str) -> Callable[[Any], Any]:
    """Role capability (403) and a care organisation / helpline (403 elsewhere)."""
    def decorator(view: Any) -> Any:
        @require_capability(capability)
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not helpline_can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


def _language() -> str:
    return (get_language() or "nl")[:2]


# --- public ---------------------------------------------------------------------------------

def _helpline(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug,
                                               type=OrganisationType.CARE_NGO).first()
    if organisation is None:
        raise Http404
    return organisation


DAY_LABELS = {"mon": gettext_lazy("Monday"), "tue": gettext_lazy("Tuesday"),
              "wed": gettext_lazy("Wednesday"), "thu": gettext_lazy("Thursday"),
              "fri": gettext_lazy("Friday"), "sat": gettext_lazy("Saturday"),
              "sun": gettext_lazy("Sunday")}


@public
@never_cache  # each load is a new page session with its own start token
@require_GET
def visitor_chat(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _helpline(slug)
    config = services.settings_for(organisation.pk)
    hours = [(DAY_LABELS[d], ", ".join(f"{s}–{e}" for s, e in config.opening_hours[d]))
             for d in DAYS if config.opening_hours.get(d)]
    age_labels = {"under_12": _("under 12"), "12_15": "12–15", "16_17": "16–17",
                  "18_23": "18–23", "24_plus": _("24 or older")}
    return render(request, "helpline/visitor.html", {
        "slug": slug, "open": services.is_open_now(organisation.pk),
        "always_open": config.always_open, "hours": hours,
        "age_bands": [(band, age_labels[band]) for band in AGE_BANDS],
        "language": _language(),
        "start_token": start_token_issue(slug),
        "start_token_seconds": int(conf.start_token_seconds()),
    })


@public
@never_cache
@require_GET
def visitor_start_token(request: HttpRequest, slug: str) -> HttpResponse:
    """A fresh start token (a new page session) for a page that has been open too long."""
    _helpline(slug)
    return JsonResponse({"token": start_token_issue(slug),
                         "expires_in": int(conf.start_token_seconds())})


@public
@csrf_exempt  # a sendBeacon during unload carries no CSRF header; the token is the credential
@require_POST
def visitor_exit(request: HttpRequest, slug: str) -> HttpResponse:
    """Quick exit's server side: end the tab's chat even if the websocket is already gone."""
    organisation = _helpline(slug)
    conversation = services.conversation_for_session(request.POST.get("token", ""),
                                                     organisation.pk)
    if conversation is not None:
        services.conversation_end(conversation_id=conversation.pk,
                                  reason=Conversation.EndReason.QUICK_EXIT)
    return HttpResponse(status=204)


@public
@require_GET
def browse_safely(request: HttpRequest, slug: str) -> HttpResponse:
    _helpline(slug)
    return render(request, "helpline/browse_safely.html", {"slug": slug})


# --- console --------------------------------------------------------------------------------

@helpline_view(COUNSEL)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    user = request.user
    canned = [{"title": c.title, "text": c.text}
              for c in selectors.canned_responses(user.organisation_id)]  # type: ignore[union-attr]
    return render(request, "helpline/console.html", {
        "canned": canned, "supervisor": helpline_can(user, SUPERVISE),
        "wellbeing": selectors.wellbeing_count(user),
        "pending": services.pending_coding(user),
    })


@helpline_view(COUNSEL)
@require_GET
def transcript(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = access_conversation(request.user, pk, purpose="transcript", audit=True)
    return render(request, "helpline/transcript.html", {
        "conversation": conversation,
        "lines": selectors.messages_since(conversation.pk, 0),
        "notes": selectors.notes_of(conversation.pk),
    })


@helpline_view(COUNSEL)
@require_http_methods(["GET", "POST"])
def coding(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = access_conversation(request.user, pk)
    existing = Coding.objects.filter(conversation=conversation).first()
    book = codebook_mod.load(existing.codebook_version if existing
                             else codebook_mod.CURRENT_VERSION)
    initial = existing.values if existing else {}
    form = CodingForm(request.POST if request.method == "POST" else None, initial=initial,
                      codebook=book, short=services.coding_is_short(conversation))
    status = 200
    if request.method == "POST":
        complete = "complete" in request.POST
        if form.is_valid():
            try:
                _coding, errors = services.coding_save(
                    conversation_id=conversation.pk, actor=request.user,
                    values=form.cleaned_data, complete=complete)
            except HelplineError as exc:
                raise Http404 from exc
            if not errors:
                messages.success(request, _("Coding saved.") if complete
                                 else _("Draft saved."))
                return redirect("helpline:console") if complete else redirect(request.path)
            form.add_codebook_errors(errors)
        status = 400
    return render(request, "helpline/coding.html", {
        "conversation": conversation, "form": form, "codebook": book,
        "referral_form": ReferralForm(), "earlier": selectors.earlier_codings(conversation),
    }, status=status)


@helpline_view(COUNSEL)
@require_POST
def referral(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = access_conversation(request.user, pk)
    form = ReferralForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Record the visitor's consent and choose where to refer."))
        return redirect("helpline:coding", pk=conversation.pk)
    try:
        services.referral_consent_record(conversation_id=conversation.pk, actor=request.user,
                                         consent=True)
        services.referral_create(conversation_id=conversation.pk, actor=request.user,
                                 referred_to=form.cleaned_data["referred_to"])
    except HelplineError as exc:
        messages.error(request, exc.message)
        return redirect("helpline:coding", pk=conversation.pk)
    messages.success(request, _("Referral recorded."))
    return redirect("helpline:coding", pk=conversation.pk)


@helpline_view(COUNSEL)
@require_POST
def shift_start(request: HttpRequest) -> HttpResponse:
    services.shift_start(actor=request.user)
    messages.success(request, _("A new shift has started."))
    return redirect("helpline:console")


@helpline_view(SUPERVISE)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    organisation_id = request.user.organisation_id  # type: ignore[union-attr]
    template = ("helpline/partials/_team.html" if request.headers.get("HX-Request")
                else "helpline/team.html")
    return render(request, template, {
        "wellbeing": selectors.wellbeing_of_team(organisation_id),
        "live": selectors.live_chats(organisation_id),
        "waiting": selectors.queue(organisation_id).count(),
        "silent": selectors.silent_waiting_count(organisation_id),
    })


@helpline_view(SUPERVISE)
@require_POST
def queue_clear(request: HttpRequest) -> HttpResponse:
    """End waiting chats in bulk (a suspected flood); audited in the service."""
    scope = request.POST.get("scope", "")
    if scope not in QUEUE_CLEAR_SCOPES or request.POST.get("confirm") != "yes":
        messages.error(request, _("Choose which waiting chats to clear and confirm."))
        return redirect("helpline:team")
    count = services.queue_clear(actor=request.user, scope=scope)
    messages.success(request, _("Waiting chats cleared: %(count)s.") % {"count": count})
    return redirect("helpline:team")


# --- organisation settings ------------------------------------------------------------------

@helpline_view(MANAGE)
@require_http_methods(["GET", "POST"])
def canned(request: HttpRequest) -> HttpResponse:
    form = CannedResponseForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.canned_response_save(actor=request.user, **form.cleaned_data)
            return redirect("helpline:canned")
        status = 400
    items = CannedResponse.objects.filter(organisation_id=request.user.organisation_id)  # type: ignore[union-attr]
    return render(request, "helpline/canned.html", {"form": form, "items": items},
                  status=status)


@helpline_view(MANAGE)
@require_POST
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.canned_response_delete(actor=request.user, pk=pk)
    return redirect("helpline:canned")


@helpline_view(MANAGE)
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    config = services.settings_for(request.user.organisation_id)  # type: ignore[union-attr]
    initial = {"max_concurrent_chats": config.max_concurrent_chats,
               "retention_days": config.retention_days, "always_open": config.always_open,
               "opening_hours": hours_as_text(config.opening_hours)}
    form = SettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.settings_update(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Settings saved."))
            return redirect("helpline:settings")
        status = 400
    return render(request, "helpline/settings.html", {"form": form}, status=status)


# --- statistics -----------------------------------------------------------------------------

def _stats_form(request: HttpRequest) -> StatsForm:
    today = timezone.localdate()
    data = request.GET if "start" in request.GET else {
        "start": date(today.year, 1, 1).isoformat(), "end": today.isoformat(),
        "population": "trafficking"}
    return StatsForm(data)


@helpline_view(STATS)
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    form = _stats_form(request)
    result = None
    if form.is_valid():
        result = stats_mod.compute(
            request.user.organisation_id,  # type: ignore[union-attr]
            form.cleaned_data["start"], form.cleaned_data["end"],
            population=form.cleaned_data.get("population") or "trafficking",
            language=_language())
    return render(request, "helpline/stats.html", {
        "form": form, "result": result, "cell": stats_mod.cell, "share": stats_mod.share,
        "query": request.GET.urlencode()}, status=200 if result else 400)


@helpline_view(STATS)
@require_GET
def stats_csv(request: HttpRequest) -> HttpResponse:
    form = _stats_form(request)
    if not form.is_valid():
        return render(request, "helpline/stats.html", {"form": form, "result": None},
                      status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    population = form.cleaned_data.get("population") or "trafficking"
    result = stats_mod.compute(request.user.organisation_id, start, end,  # type: ignore[union-attr]
                               population=population, language=_language())
    record(HelplineAuditEvent.STATS_EXPORTED, actor=request.user, object_type="helpline_stats",
           detail={"start": start.isoformat(), "end": end.isoformat(),
                   "population": population})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="helpline-stats-{start.isoformat()}-{end.isoformat()}.csv"')
    writer = csv.writer(response)
    writer.writerow(["section", "key", "value"])
    cell = stats_mod.cell
    writer.writerow(["total", "chats", cell(result.chats)])
    writer.writerow(["total", "unique_visitors_first_seen", cell(result.unique_visitors)])
    writer.writerow(["total", "trafficking_help_question", cell(result.trafficking)])
    writer.writerow(["total", "trafficking_share",
                     stats_mod.share(result.trafficking, result.coded)])
    for month, count in result.per_month:
        writer.writerow(["chats_per_month", month, cell(count)])
    for breakdown in result.breakdowns:
        for value, _label, count in breakdown.rows:
            writer.writerow([csv_cell(f"{population}:{breakdown.field}"), csv_cell(value),
                             cell(count)])
    return response


