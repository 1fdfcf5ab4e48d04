"""Pages of the hub: public reporting, the desk's queue, partner inbox, rules and exports."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, has_capability
from zichtbaar.audit.record import record
from zichtbaar.core.decorators import public, require_capability
from zichtbaar.core.exports import csv_cell

from . import codebook as codebook_mod
from . import forms, presentation, ratelimit, rights, selectors, services
from .access import (
    access_attachment,
    access_candidate,
    access_erasure_request,
    access_handover,
    access_person,
    access_signal,
)
from .events import HubAuditEvent
from .models import (
    DEFAULT_RETENTION_DAYS,
    ApiToken,
    Channel,
    CodebookVersion,
    ErasureRequest,
    RoutingRuleSet,
    SharingAgreement,
    Status,
)

ERRORS = {
    "no_desk": gettext_lazy("Reporting is not available right now. Please call 112 in an "
                            "emergency or try again later."),
    "not_open": gettext_lazy("This signal is no longer open."),
    "second_person_required": gettext_lazy(
        "An urgent signal is closed only when a second person confirms. Ask a colleague."),
    "no_agreement": gettext_lazy(
        "There is no active sharing agreement with this partner, so nothing can be shared."),
    "already_handed_over": gettext_lazy("This signal was already handed over to this partner."),
    "merge_invalid": gettext_lazy("These signals cannot be merged."),
    "assignee_other_org": gettext_lazy("You can only assign colleagues."),
    "version_exists": gettext_lazy("This version number already exists; choose a new one."),
    "invalid_person": gettext_lazy("A person's details could not be read; check the date "
                                   "of birth, phone number and e-mail address."),
    "agreement_invalid": gettext_lazy("The agreement is not valid."),
    "agreement_self": gettext_lazy("An organisation cannot make an agreement with itself."),
    "already_decided": gettext_lazy("This was already decided."),
    "purpose_required": gettext_lazy("State the purpose."),
    "erasure_pending": gettext_lazy("An erasure request for this person already awaits a "
                                    "second person."),
    "erasure_second_person": gettext_lazy(
        "Erasure needs a second person: a colleague other than the requester must decide."),
    "partner_required": gettext_lazy("Choose the partner to hand over to."),
    "confirmation_required": gettext_lazy(
        "Nothing was handed over. Check the partner, the legal basis and the fields that will "
        "be shared below, then confirm explicitly."),
    "agreement_changed": gettext_lazy(
        "Nothing was handed over: the sharing agreement with this partner changed in the "
        "meantime. Check the legal basis and the fields below again."),
    "uncoded_not_acknowledged": gettext_lazy(
        "Nothing was handed over: this signal has score 0 and no coded indicators. Code the "
        "indicators first, or confirm explicitly that you hand it over anyway."),
    "suggestion_unknown": gettext_lazy("This suggestion no longer applies."),
}
DIRECT_HANDOVER = gettext_lazy(
    "Nothing was handed over. A handover is made only on this confirmation page: check the "
    "partner, the legal basis and the fields, then confirm.")
REFUSALS = {
    rights.HOLD_HANDOVER_OPEN: gettext_lazy(
        "Not erased: a partner is still acting on a handover of this signal and has not "
        "reported an outcome. The data must be kept until then (art. 17(3)(b) and (e) GDPR). "
        "Ask the partner to report the outcome, then request erasure again."),
    rights.HOLD_CASE_OPENED: gettext_lazy(
        "Not erased: a partner reported that a case or investigation was opened on this "
        "signal, so the data must be kept for it (art. 17(3)(b) and (e) GDPR)."),
}
PURPOSE_ASSESS = gettext_lazy("assessing a signal")
PURPOSE_HANDOVER = gettext_lazy("preparing a handover")


def _error(exc: services.HubError) -> str:
    return str(ERRORS.get(exc.code, exc.code))


def _book() -> codebook_mod.Codebook:
    return codebook_mod.Codebook(services.current_codebook().data)


# --- public --------------------------------------------------------------------------------

@public
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    """The public form. It never reads the client address except to rate-limit in memory."""
    book = _book()
    form = forms.ReportForm(request.POST or None, request.FILES or None, codebook=book)
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "report"):
            form.add_error(None, _("You have sent several reports in a short time. Please try "
                                   "again in an hour, or call 112 in an emergency."))
            return render(request, "hub/report_new.html", {"form": form}, status=429)
        if form.is_valid():
            try:
                result = services.signal_submit(channel=Channel.PUBLIC_FORM,
                                                data=form.to_input(), with_receipt=True)
            except services.HubError as exc:
                form.add_error(None, _error(exc))
            else:
                return render(request, "hub/report_done.html",
                              {"receipt": result.receipt_code,
                               "urgent": result.signal.urgent}, status=201)
        status = 400
    return render(request, "hub/report_new.html", {"form": form}, status=status)


@public
@require_http_methods(["GET", "POST"])
def report_add(request: HttpRequest) -> HttpResponse:
    form = forms.FollowUpForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "report_add"):
            form.add_error(None, _("Too many attempts. Please try again in an hour."))
            return render(request, "hub/report_add.html", {"form": form}, status=429)
        if form.is_valid():
            signal = services.signal_add_by_reporter(
                receipt_code=form.cleaned_data["receipt_code"], text=form.cleaned_data["text"],
                attachments=form.cleaned_data.get("attachments") or [])
            if signal is not None:
                return render(request, "hub/report_added.html", status=201)
            form.add_error("receipt_code", _("We do not recognise this receipt code. Check it "
                                             "and try again."))
        status = 400
    return render(request, "hub/report_add.html", {"form": form}, status=status)


# --- desk ----------------------------------------------------------------------------------

@require_capability("hub.queue.view")
def queue(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    show = show if show in ("open", "closed", "all") else "open"
    now = timezone.now()
    rows = [{"signal": s, **selectors.queue_age(s, now)}
            for s in selectors.signals_in_queue(request.user, show=show)[:500]]  # type: ignore[arg-type]
    return render(request, "hub/queue.html", {"rows": rows, "show": show})


@require_capability("hub.signal.submit")
@require_http_methods(["GET", "POST"])
def signal_new(request: HttpRequest) -> HttpResponse:
    book = _book()
    form = forms.ProfessionalForm(request.POST or None, request.FILES or None, codebook=book)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = request.user
            own = user.organisation  # type: ignore[union-attr]
            desk = own if own.type == OrganisationType.REPORTING_POINT else None
            try:
                result = services.signal_submit(
                    channel=Channel.PROFESSIONAL, data=form.to_input(), actor=user,
                    source_organisation=own, organisation=desk)
            except services.HubError as exc:
                form.add_error(None, _error(exc))
            else:
                messages.success(request, _("Signal %(ref)s received.")
                                 % {"ref": result.signal.reference})
                if result.signal.organisation_id == own.pk and has_capability(
                        user, "hub.queue.view"):  # type: ignore[arg-type]
                    return redirect("hub:signal_detail", result.signal.pk)
                return redirect("hub:signal_new")
        status = 400
    return render(request, "hub/signal_new.html", {"form": form}, status=status)


@require_capability("hub.queue.view")
def signal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    signal = access_signal(request.user, pk, purpose=str(PURPOSE_ASSESS))
    book = codebook_mod.Codebook(signal.codebook.data)
    context: dict[str, Any] = {
        "signal": signal, **selectors.queue_age(signal),
        "explanation": presentation.explanation_rows(signal.explanation, book),
        "urgency": presentation.urgency_lines(signal.explanation.get("urgency_reasons", []),
                                              book),
        "indicators": presentation.indicator_lines(signal.indicators, book),
        "forms": presentation.form_lines(signal.forms, book),
        "persons": signal.persons.all(), "updates": signal.updates.all(),
        "attachments": signal.attachments.all(), "handovers": signal.handovers.all(),
        "suggestions": presentation.suggestion_rows(selectors.indicator_suggestions(signal),
                                                    book),
        "partners": selectors.partner_candidates(signal),
        "other_partners": selectors.other_partners(signal),
        "can_manage": has_capability(request.user, "hub.signal.manage"),  # type: ignore[arg-type]
        "assign_form": forms.AssignForm(users=selectors.colleagues(request.user),  # type: ignore[arg-type]
                                        initial={"assignee": signal.assigned_to_id}),
        "info_form": forms.RequestInfoForm(), "close_form": forms.CloseForm(),
        "merge_form": forms.MergeForm(),
        "open": signal.status in [s.value for s in (Status.NEW, Status.IN_PROGRESS,
                                                     Status.INFO_REQUESTED, Status.HANDED_OVER,
                                                     Status.CLOSE_PENDING)],
    }
    return render(request, "hub/signal_detail.html", context)


@require_capability("hub.signal.manage")
@require_POST
def signal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = request.user
    signal = access_signal(user, pk, purpose="", manage=True)
    try:
        if action == "assign":
            form = forms.AssignForm(request.POST, users=selectors.colleagues(user))  # type: ignore[arg-type]
            if form.is_valid():
                services.signal_assign(actor=user, signal=signal,
                                       assignee=form.cleaned_data["assignee"])
                messages.success(request, _("Assignment saved."))
        elif action == "request-info":
            form = forms.RequestInfoForm(request.POST)
            if form.is_valid():
                services.signal_request_info(actor=user, signal=signal,
                                             text=form.cleaned_data["text"])
                messages.success(request, _("Information request saved."))
        elif action == "close":
            form = forms.CloseForm(request.POST)
            if form.is_valid():
                result = services.signal_close(actor=user, signal=signal,
                                               reason=form.cleaned_data["reason"],
                                               note=form.cleaned_data["note"])
                messages.success(request, _("Signal closed.") if result.status == Status.CLOSED
                                 else _("Closing requested; a colleague must confirm."))
        elif action == "merge":
            form = forms.MergeForm(request.POST)
            if form.is_valid():
                into = access_signal(user, form.cleaned_data["into"], purpose="", manage=True)
                services.signal_merge(actor=user, signal=signal, into=into)
                messages.success(request, _("Signals merged."))
                return redirect("hub:signal_detail", into.pk)
        elif action == "handover":
            # The old one-click handover: never hands over, only leads to the confirmation.
            form = forms.HandoverForm(request.POST)
            messages.error(request, str(DIRECT_HANDOVER))
            url = reverse("hub:handover_confirm", args=[signal.pk])
            if form.is_valid():
                url += "?" + urlencode({"partner": form.cleaned_data["partner"]})
            return redirect(url)
        elif action in ("suggestion-accept", "suggestion-dismiss"):
            form = forms.SuggestionForm(request.POST)
            if form.is_valid():
                code = form.cleaned_data["code"]
                if action == "suggestion-accept":
                    services.signal_suggestion_accept(actor=user, signal=signal, code=code)
                    messages.success(request, _("Suggestion accepted: %(code)s is now coded.")
                                     % {"code": code if code != "minor" else _("minor")})
                else:
                    services.signal_suggestion_dismiss(actor=user, signal=signal, code=code)
                    messages.success(request, _("Suggestion dismissed."))
        else:
            return HttpResponse(status=404)
        if not form.is_valid():
            messages.error(request, "; ".join(str(e) for errs in form.errors.values()
                                              for e in errs))
    except services.HubError as exc:
        messages.error(request, _error(exc))
    return redirect("hub:signal_detail", signal.pk)


def _partner_from(value: Any, signal: Any) -> Organisation | None:
    """An organisation other than the signal's owner, from a submitted id; else ``None``."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return (Organisation.objects.exclude(pk=signal.organisation_id).filter(pk=int(text))
            .first())


@require_capability("hub.signal.manage")
@require_http_methods(["GET", "POST"])
def handover_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The one way a person hands a signal over: choose the partner (no default), see the
    basis, the fields that go and those that stay, and the score, then confirm.

    See ``services.handover_confirm`` for what a confirmation needs. Every rendering shows
    personal data (the fields that would be shared), so each is recorded as a view.
    """
    user = request.user
    signal = access_signal(user, pk, purpose="", manage=True)
    status = 200
    chosen = request.POST.get("partner") if request.method == "POST" else \
        request.GET.get("partner")
    partner = _partner_from(chosen, signal)
    if chosen not in (None, "") and partner is None and request.method == "GET":
        messages.error(request, _error(services.HubError("partner_required")))
        status = 400
    if request.method == "POST":
        form = forms.HandoverConfirmForm(request.POST)
        valid = form.is_valid()
        try:
            handover = services.handover_confirm(
                actor=user, signal=signal, partner=partner,
                agreement_id=form.cleaned_data.get("agreement") if valid else None,
                confirmed=valid and form.cleaned_data["confirm"],
                uncoded_acknowledged=valid and form.cleaned_data["acknowledge_uncoded"])
        except services.HubError as exc:
            messages.error(request, _error(exc))
            status = 400
        else:
            messages.success(request, _("Handed over to %(org)s.") % {"org": handover.partner.name})
            return redirect("hub:signal_detail", signal.pk)
    record(HubAuditEvent.SIGNAL_VIEWED, actor=user, object_type="hub_signal",
           object_id=signal.pk, purpose=str(PURPOSE_HANDOVER),
           organisation_id=user.organisation_id)  # type: ignore[union-attr]
    book = codebook_mod.Codebook(signal.codebook.data)
    context: dict[str, Any] = {
        "signal": signal, "partners": selectors.handover_partners(signal), "partner": partner,
        "explanation": presentation.explanation_rows(signal.explanation, book),
        "urgency": presentation.urgency_lines(signal.explanation.get("urgency_reasons", []),
                                              book),
        "open_suggestions": len(selectors.indicator_suggestions(signal)),
    }
    if partner is not None:
        preview = selectors.handover_preview(signal, partner)
        context.update({"preview": preview,
                        "shared_rows": presentation.payload_rows(preview.shared, book),
                        "withheld": presentation.field_labels(preview.withheld)})
    return render(request, "hub/handover_confirm.html", context, status=status)


@require_capability("hub.queue.view")
def attachment_download(request: HttpRequest, pk: int, attachment: int) -> HttpResponse:
    item = access_attachment(request.user, pk, attachment, purpose=str(PURPOSE_ASSESS))
    response = HttpResponse(services.attachment_bytes(item), content_type=item.content_type)
    response["Content-Disposition"] = f'attachment; filename="bijlage-{item.pk}.{item.extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- partner inbox -------------------------------------------------------------------------

@require_capability("hub.inbox.view")
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "hub/inbox.html",
                  {"handovers": selectors.handovers_for(request.user)[:500]})  # type: ignore[arg-type]


@require_capability("hub.inbox.view")
@require_http_methods(["GET", "POST"])
def handover_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        handover = access_handover(user, pk, purpose="", record_view=False)
        if request.POST.get("action") == "acknowledge":
            services.handover_acknowledge(actor=user, handover=handover)
            messages.success(request, _("Receipt acknowledged."))
            return redirect("hub:handover_detail", pk)
        form = forms.OutcomeForm(request.POST)
        if form.is_valid():
            services.handover_report_outcome(actor=user, handover=handover,
                                             outcome=form.cleaned_data["outcome"],
                                             note=form.cleaned_data["note"])
            messages.success(request, _("Outcome saved. Thank you."))
            return redirect("hub:handover_detail", pk)
    else:
        handover = access_handover(user, pk, purpose=str(gettext_lazy("handling a handover")))
        form = forms.OutcomeForm()
    book = codebook_mod.Codebook(handover.signal.codebook.data)
    rows = presentation.payload_rows(services.handover_payload(handover), book)
    return render(request, "hub/handover_detail.html",
                  {"handover": handover, "rows": rows, "form": form},
                  status=400 if request.method == "POST" else 200)


# --- agreements, rules, tokens -------------------------------------------------------------

@require_capability("hub.agreements.manage")
@require_http_methods(["GET", "POST"])
def agreements(request: HttpRequest) -> HttpResponse:
    user = request.user
    partners = Organisation.objects.exclude(pk=user.organisation_id).order_by("name")  # type: ignore[union-attr]
    form = forms.AgreementForm(request.POST or None, partners=partners)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.agreement_create(actor=user, organisation=user.organisation,  # type: ignore[union-attr]
                                      **form.cleaned_data)
            messages.success(request, _("Sharing agreement saved."))
            return redirect("hub:agreements")
        status = 400
    return render(request, "hub/agreements.html",
                  {"form": form, "agreements": selectors.agreements_of(user)}, status=status)  # type: ignore[arg-type]


@require_capability("hub.agreements.manage")
@require_POST
def agreement_end(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = SharingAgreement.objects.filter(
        pk=pk, organisation_id=request.user.organisation_id).first()  # type: ignore[union-attr]
    if agreement is None:
        return render(request, "core/error.html", {"code": 404}, status=404)
    services.agreement_end(actor=request.user, agreement=agreement)
    messages.success(request, _("Sharing agreement ended."))
    return redirect("hub:agreements")


RULE_EDITORS = (OrganisationType.REPORTING_POINT, OrganisationType.PLATFORM_OPERATOR)


def _json_editor(request: HttpRequest, *, current: Any, versions: Any, create: Any,
                 template: str) -> HttpResponse:
    import json

    if request.user.organisation.type not in RULE_EDITORS:  # type: ignore[union-attr]
        return render(request, "core/error.html", {"code": 403}, status=403)
    form = forms.JsonDataForm(request.POST or None, initial={
        "data": json.dumps(current.data, ensure_ascii=False, indent=1)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                create(actor=request.user, data=form.cleaned_data["data"],
                       note=form.cleaned_data["note"])
            except (codebook_mod.CodebookError, services.routing.RoutingRulesError) as exc:
                form.add_error("data", str(exc))
            except services.HubError as exc:
                form.add_error("data", _error(exc))
            else:
                messages.success(request, _("New version saved."))
                return redirect(request.path)
        status = 400
    return render(request, template, {"form": form, "current": current, "versions": versions},
                  status=status)


@require_capability("hub.rules.manage")
@require_http_methods(["GET", "POST"])
def codebook_edit(request: HttpRequest) -> HttpResponse:
    return _json_editor(request, current=services.current_codebook(),
                        versions=CodebookVersion.objects.all()[:50],
                        create=services.codebook_version_create, template="hub/codebook.html")


@require_capability("hub.rules.manage")
@require_http_methods(["GET", "POST"])
def routing_edit(request: HttpRequest) -> HttpResponse:
    return _json_editor(request, current=services.current_routing_rules(),
                        versions=RoutingRuleSet.objects.all()[:50],
                        create=services.routing_rules_create, template="hub/routing.html")


@require_capability("hub.api_tokens.manage")
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST":
        revoke = request.POST.get("revoke")
        if revoke:
            token = ApiToken.objects.filter(pk=revoke if revoke.isdigit() else 0,
                                            organisation_id=user.organisation_id).first()  # type: ignore[union-attr]
            if token is not None:
                services.api_token_revoke(actor=user, token=token)
                messages.success(request, _("Token revoked."))
            return redirect("hub:api_tokens")
        if form.is_valid():
            _token, created = services.api_token_create(
                actor=user, organisation=user.organisation, name=form.cleaned_data["name"])  # type: ignore[union-attr]
            form = forms.ApiTokenForm()
    tokens = ApiToken.objects.filter(organisation_id=user.organisation_id)  # type: ignore[union-attr]
    return render(request, "hub/api_tokens.html",
                  {"form": form, "tokens": tokens, "created": created})


# --- linkage and capture histories ---------------------------------------------------------

@require_capability("hub.linkage.review")
@require_http_methods(["GET", "POST"])
def duplicates(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        count = services.duplicates_propose(actor=user, organisation=user.organisation)  # type: ignore[union-attr]
        messages.success(request, _("%(n)d new candidate pairs.") % {"n": count})
        return redirect("hub:duplicates")
    return render(request, "hub/duplicates.html",
                  {"candidates": selectors.candidates_for(user)[:200]})  # type: ignore[arg-type]


@require_capability("hub.linkage.review")
@require_POST
def duplicate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = access_candidate(request.user, pk)
    try:
        services.duplicate_decide(actor=request.user, candidate=candidate,
                                  confirm=request.POST.get("decision") == "confirm")
    except services.HubError as exc:
        messages.error(request, _error(exc))
    return redirect("hub:duplicates")


@require_capability("hub.capture_histories.export")
def capture_histories(request: HttpRequest) -> HttpResponse:
    form = forms.ExportForm(request.GET or None)
    if not request.GET or not form.is_valid():
        return render(request, "hub/export.html", {"form": form},
                      status=400 if request.GET else 200)
    start, end = form.cleaned_data["period_start"], form.cleaned_data["period_end"]
    header, rows = selectors.capture_history_rows(user=request.user, period_start=start,  # type: ignore[arg-type]
                                                  period_end=end)
    record(HubAuditEvent.CAPTURE_HISTORIES_EXPORTED, actor=request.user,
           object_type="hub_capture_histories", purpose=str(gettext_lazy("estimation")),
           detail={"from": start.isoformat(), "to": end.isoformat(), "rows": len(rows),
                   "sources": header[:-3]})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="capture-histories-{start.isoformat()}-{end.isoformat()}.csv"')
    writer = csv.writer(response)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return response



# --- rights and retention ------------------------------------------------------------------

PURPOSE_RIGHTS = gettext_lazy("data-subject rights request")


def _desk_only(request: HttpRequest) -> HttpResponse | None:
    """Only a desk keeps signals; other organisations' admins have nothing to manage here."""
    if request.user.organisation.type not in RULE_EDITORS:  # type: ignore[union-attr]
        return render(request, "core/error.html", {"code": 403}, status=403)
    return None


@require_capability("hub.retention.manage")
@require_http_methods(["GET", "POST"])
def retention(request: HttpRequest) -> HttpResponse:
    denied = _desk_only(request)
    if denied:
        return denied
    organisation = request.user.organisation  # type: ignore[union-attr]
    policy = rights.retention_policy(organisation)
    form = forms.RetentionForm(request.POST or None, initial={
        name: getattr(policy, name) for name in DEFAULT_RETENTION_DAYS})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            rights.retention_policy_update(actor=request.user, organisation=organisation,
                                           **form.cleaned_data)
            messages.success(request, _("Retention periods saved."))
            return redirect("hub:retention")
        status = 400
    return render(request, "hub/retention.html",
                  {"form": form, "defaults": DEFAULT_RETENTION_DAYS}, status=status)


def _requests_of(user: Any) -> list[dict[str, Any]]:
    """Recent erasure requests, with the partners to tell (art. 19 GDPR) by name."""
    requests = list(ErasureRequest.objects.filter(organisation_id=user.organisation_id)
                    .select_related("requested_by", "decided_by")[:100])
    ids = {i for r in requests for i in r.result.get("notify_partners", [])}
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{"request": r, "refusal": REFUSALS.get(r.refusal, ""),
             "notify": [names.get(i, str(i)) for i in r.result.get("notify_partners", [])]}
            for r in requests]


@require_capability("hub.subject_rights.manage")
@require_http_methods(["GET", "POST"])
def rights_overview(request: HttpRequest) -> HttpResponse:
    """Find a data subject's records; identifiers arrive by POST and become keyed hashes."""
    denied = _desk_only(request)
    if denied:
        return denied
    user = request.user
    form = forms.PersonLookupForm(request.POST or None)
    persons = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                keys = services.person_linkage(form.to_person())
            except services.HubError as exc:
                form.add_error(None, _error(exc))
            else:
                persons = list(selectors.persons_matching(
                    user, signal_id=form.cleaned_data["reference"], keys=keys)[:200])  # type: ignore[arg-type]
                record(HubAuditEvent.PERSONS_LOOKED_UP, actor=user, object_type="hub_person",
                       purpose=str(PURPOSE_RIGHTS), organisation_id=user.organisation_id,  # type: ignore[union-attr]
                       detail={"matches": [p.pk for p in persons]})
                status = 200
    return render(request, "hub/rights.html",
                  {"form": form, "persons": persons, "requests": _requests_of(user)},
                  status=status)


def _person_page(request: HttpRequest, person: Any, *, access_form: Any = None,
                 erasure_form: Any = None, status: int = 200) -> HttpResponse:
    return render(request, "hub/person_rights.html", {
        "person": person,
        "access_form": access_form or forms.SubjectAccessForm(initial={
            "purpose": str(PURPOSE_RIGHTS)}),
        "erasure_form": erasure_form or forms.ErasureRequestForm(),
        "requests": [{"request": r, "refusal": REFUSALS.get(r.refusal, "")}
                     for r in person.erasure_requests.all()],
    }, status=status)


@require_capability("hub.subject_rights.manage")
def person_rights(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _desk_only(request)
    return denied or _person_page(request, access_person(request.user, pk))


@require_capability("hub.subject_rights.manage")
@require_POST
def subject_access(request: HttpRequest, pk: int) -> HttpResponse:
    """The export: a printable page or JSON, each audited with the purpose given."""
    denied = _desk_only(request)
    if denied:
        return denied
    person = access_person(request.user, pk)
    form = forms.SubjectAccessForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, access_form=form, status=400)
    data = rights.subject_access_export(actor=request.user, person=person,
                                        purpose=form.cleaned_data["purpose"],
                                        fmt=form.cleaned_data["format"])
    if form.cleaned_data["format"] == "json":
        import json

        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="inzage-{person.pk}.json"'
        return response
    return render(request, "hub/subject_access.html", {"data": data, "person": person})


@require_capability("hub.subject_rights.manage")
@require_POST
def erasure_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _desk_only(request)
    if denied:
        return denied
    person = access_person(request.user, pk)
    form = forms.ErasureRequestForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, erasure_form=form, status=400)
    try:
        result = rights.erasure_request(actor=request.user, person=person,
                                        note=form.cleaned_data["note"])
    except services.HubError as exc:
        messages.error(request, _error(exc))
    else:
        if result.state == ErasureRequest.State.REFUSED:
            messages.error(request, str(REFUSALS[result.refusal]))
        else:
            messages.success(request, _("Erasure requested. A second person must approve it."))
    return redirect("hub:person_rights", person.pk)


@require_capability("hub.subject_rights.manage")
@require_POST
def erasure_decide(request: HttpRequest, pk: int) -> HttpResponse:
    denied = _desk_only(request)
    if denied:
        return denied
    erasure = access_erasure_request(request.user, pk)
    form = forms.ErasureDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("hub:rights")
    try:
        result = rights.erasure_decide(actor=request.user, request=erasure,
                                       approve=form.cleaned_data["decision"] == "approve")
    except services.HubError as exc:
        messages.error(request, _error(exc))
    else:
        if result.state == ErasureRequest.State.ERASED:
            messages.success(request, _("Erased. Tell the partners listed in the request that "
                                        "received this person's data."))
        elif result.state == ErasureRequest.State.REFUSED:
            messages.error(request, str(REFUSALS[result.refusal]))
        else:
            messages.success(request, _("Erasure request rejected."))
    return redirect("hub:rights")
