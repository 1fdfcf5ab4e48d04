"""Pages for the people who keep the monitor's data: the catalogue editor (administrators)
and entering published values by hand with their provenance (researchers)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zichtbaar.core.decorators import require_capability

from . import catalogue as catalogue_mod
from . import labels, services
from .keys import Period
from .manage_forms import CatalogueForm, ValueForm
from .models import CatalogueVersion, IndicatorValue, Kind
from .services import MonitorError, Provenance

ERRORS = {
    "unknown_indicator": gettext_lazy("The catalogue has no such indicator."),
    "unknown_dimension": gettext_lazy("This breakdown does not exist for the indicator."),
    "bad_source": gettext_lazy("That publisher name cannot be used."),
    "derived_not_typed": gettext_lazy("This indicator is calculated from others and is "
                                      "never typed."),
    "provenance_missing": gettext_lazy("Name the publication the value comes from."),
    "reason_missing": gettext_lazy("This value was published before: say why it is "
                                   "revised."),
    "not_a_number": gettext_lazy("That is not a number."),
    "interval_order": gettext_lazy("The bounds must lie around the value."),
    "version_exists": gettext_lazy("That version number exists already; choose a new one."),
    "forbidden": gettext_lazy("You may not do this."),
    "bad_dimensions": gettext_lazy("The breakdown is too long."),
}


def _message(exc: MonitorError) -> str:
    return str(ERRORS.get(exc.code, exc.code))


@require_capability("monitor.catalogue.manage")
def catalogue_edit(request: HttpRequest) -> HttpResponse:
    """Each save is a new version; earlier ones stay and each value names its version."""
    import yaml

    current = services.current_catalogue()
    form = CatalogueForm(request.POST or None, initial={
        "data": yaml.safe_dump(current.data, allow_unicode=True, sort_keys=False)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.catalogue_version_create(actor=request.user,
                                                  data=form.cleaned_data["data"],
                                                  note=form.cleaned_data["note"])
            except catalogue_mod.CatalogueError as exc:
                form.add_error("data", str(exc))
            except MonitorError as exc:
                form.add_error("data", _message(exc))
            else:
                messages.success(request, _("New version saved."))
                return redirect("monitor:catalogue")
        status = 400
    return render(request, "monitor/manage/catalogue.html",
                  {"form": form, "current": current,
                   "versions": CatalogueVersion.objects.order_by("-created_at")[:50]},
                  status=status)


def _indicators() -> list[tuple[str, str]]:
    book = services.catalogue()
    return [(i["id"], f"{i['id']} · {labels.indicator_name(i)}")
            for i in book.indicators.values() if i["type"] == Kind.MANUAL]


@require_capability("monitor.values.enter")
def values_enter(request: HttpRequest) -> HttpResponse:
    """Enter a published value; one already there gets a new vintage, never an overwrite."""
    form = ValueForm(request.POST or None, indicators=_indicators())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            own = data["source"] == "own"
            try:
                services.value_enter(
                    actor=request.user, indicator_id=data["indicator"], period=data["year"],
                    dims=data["dims"], value=data["value"], lower=data["lower"],
                    upper=data["upper"], reason=data["reason"],
                    source=data["source"],  # "own" with the organisation set
                    organisation=request.user.organisation if own else None,  # type: ignore[union-attr]
                    provenance=Provenance(publication=data["publication"], page=data["page"],
                                          source_url=data["source_url"],
                                          as_of=data["as_of"]))
            except MonitorError as exc:
                form.add_error(None, _message(exc))
            except ValueError:  # dimensions too long for their key
                form.add_error("dims", str(ERRORS["bad_dimensions"]))
            else:
                messages.success(request, _("Value saved."))
                return redirect("monitor:values")
        status = 400
    recent = (IndicatorValue.objects.filter(kind=Kind.MANUAL)
              .filter(organisation__isnull=True) | IndicatorValue.objects.filter(
                  kind=Kind.MANUAL, organisation=request.user.organisation))  # type: ignore[union-attr]
    return render(request, "monitor/manage/values.html",
                  {"form": form, "recent": recent.order_by("-updated_at")[:30]}, status=status)


@require_capability("monitor.view")
def value_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every vintage of one cell: what was published when, by whom and why."""
    from django.http import Http404

    cell = IndicatorValue.objects.filter(pk=pk).first()
    own = getattr(request.user, "organisation_id", None)
    if cell is None or (cell.organisation_id is not None and cell.organisation_id != own):
        raise Http404
    if cell.organisation_id is None and cell.kind == Kind.COMPUTED:
        raise Http404  # national platform cells are sums, published only through the gate
    return render(request, "monitor/manage/history.html",
                  {"cell": cell, "period": Period(cell.period_start, cell.period_end),
                   "vintages": cell.vintages.select_related("entered_by")
                   .order_by("as_of", "number")})
