"""Monitor dashboards: national (signed in), public (no sign-in) and the own organisation.

Every number on these pages, in their charts and in their CSV files is a ``publish.Table``:
the charts are drawn from the table (``charts``), the table is printed beside the chart and
the CSV is that same table. National and public pages get protected tables; the
organisation page gets exact ``internal`` tables of the user's own organisation only, marked
"not for publication". Which charts exist is data (``SECTIONS``), one section per action line.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zichtbaar.audit.record import record
from zichtbaar.core.decorators import public, require_capability
from zichtbaar.core.exports import csv_cell

from . import charts, labels, publish, services
from .catalogue import CatalogueError
from .dashboard_forms import DashboardFilterForm, Selection
from .events import MonitorAuditEvent
from .keys import normalise_dims
from .models import IndicatorValue
from .selectors import vintage_on

Kind = Literal["line", "stacked", "band", "chain"]
INTERNAL_MARK = gettext_lazy("own organisation – not for publication")
CHAIN_NOTE = gettext_lazy("yearly volumes, not a cohort")
PURPOSE = gettext_lazy("monitoring the programme against human trafficking")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")  # "-2.8" is a number, not a spreadsheet formula


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which indicator, how it is drawn, which publishers to try in order."""

    key: str
    kind: Kind
    indicator: str
    sources: tuple[str | None, ...] = (None,)
    by: str | None = None
    band: bool = False  # draw the cells' intervals (estimates, visibility ratio)
    estimate: str = ""  # band charts: the estimate indicator beside ``indicator``
    estimate_sources: tuple[str | None, ...] = (None,)
    title: str | Promise = ""


@dataclass(frozen=True)
class Section:
    action_line: str
    title: str | Promise
    intro: str | Promise
    charts: tuple[ChartSpec, ...]


C = ChartSpec
SECTIONS: tuple[Section, ...] = (
    Section("AL1", gettext_lazy("Action line 1: basic approach"),
            gettext_lazy("Signalling, investigation and care: who is registered, how many "
                         "stay unseen, and how signals move along the chain."), (
        C("al1-registered", "line", "AL1-01", sources=("nr", "comensha", "demo")),
        C("al1-forms", "stacked", "AL1-01", sources=("nr", "comensha", "demo"), by="form",
          title=gettext_lazy("Registered presumed victims by form of exploitation")),
        C("al1-estimate", "band", "AL1-01", sources=("nr", "comensha", "demo"),
          estimate="AL1-18", estimate_sources=("mse", "wodc", "platform"),
          title=gettext_lazy("Registered and estimated victims")),
        C("al1-visibility", "line", "AL1-03", sources=("nr", "comensha"), band=True),
        C("al1-rate", "line", "AL1-02", sources=("nr", "comensha")),
        C("al1-chain", "chain", "AL1-19", sources=("platform",),
          title=gettext_lazy("From signal to handover to outcome")),
    )),
    Section("AL2", gettext_lazy("Action line 2: labour exploitation"),
            gettext_lazy("Victims outside the sex industry and the Labour Inspectorate's "
                         "work."), (
        C("al2-victims", "line", "AL2-01", sources=("nr", "comensha", "demo")),
        C("al2-nla-reports", "line", "AL2-03", sources=("nla", "demo")),
        C("al2-registrations", "stacked", "AL2-07", sources=("comensha", "demo"),
          by="reporter"),
    )),
    Section("AL3", gettext_lazy("Action line 3: preventing victimhood and perpetration"),
            gettext_lazy("What the helpline chat sees: visitors with a trafficking help "
                         "question, who they are and what happened to them."), (
        C("al3-chat-reach", "line", "AL3-03", sources=("platform", "ckm")),
        C("al3-roles", "stacked", "AL3-11", sources=("platform", "ckm"), by="visitor_role"),
        C("al3-chat-forms", "line", "AL3-12", sources=("platform", "ckm"), by="form"),
        C("al3-parents", "line", "AL3-04", sources=("platform", "ckm")),
        C("al3-first-disclosure", "line", "AL3-05", sources=("platform", "ckm")),
    )),
    Section("AL4", gettext_lazy("Action line 4: municipal approach"),
            gettext_lazy("Municipal policy and regional care coordination."), (
        C("al4-policy", "line", "AL4-01", sources=("vng", "demo")),
        C("al4-care-coordination", "line", "AL4-03", sources=("comensha", "demo")),
        C("al4-regional-rate", "line", "AL4-05", sources=("nr", "comensha", "demo")),
    )),
    Section("AL5", gettext_lazy("Action line 5: sharing knowledge and information"),
            gettext_lazy("How complete, timely and stable the published figures are."), (
        C("al5-lag", "line", "AL5-01", sources=("nr", "demo")),
        C("al5-completeness", "line", "AL5-02", sources=("comensha", "demo"), by="measure"),
        C("al5-revision", "line", "AL5-04", sources=("nr_vs_comensha",)),
    )),
)

# The own organisation's detail: the platform's computed figures, exact.
ORGANISATION_CHARTS: tuple[ChartSpec, ...] = (
    C("org-chain", "chain", "AL1-19", sources=("platform",),
      title=gettext_lazy("From signal to handover to outcome")),
    C("org-signals", "stacked", "AL1-19", sources=("platform",), by="channel"),
    C("org-handovers", "stacked", "AL1-21", sources=("platform",), by="outcome"),
    C("org-time", "line", "AL1-22", sources=("platform",)),
    C("org-visitors", "line", "AL3-10", sources=("platform",)),
    C("org-chat-reach", "line", "AL3-03", sources=("platform",)),
    C("org-roles", "stacked", "AL3-11", sources=("platform",), by="visitor_role"),
    C("org-parents", "line", "AL3-04", sources=("platform",)),
    C("org-decoys", "line", "AL3-14", sources=("platform",), by="measure"),
    C("org-estimate", "line", "AL1-18", sources=("platform",), band=True),
)

NATIONAL_SPECS = {spec.key: spec for section in SECTIONS for spec in section.charts}
ORGANISATION_SPECS = {spec.key: spec for spec in ORGANISATION_CHARTS}
AUDIENCE_SPECS: dict[str, dict[str, ChartSpec]] = {
    "public": NATIONAL_SPECS, "national": NATIONAL_SPECS, "internal": ORGANISATION_SPECS}
CHAIN_STEPS = (("signals", "AL1-19", gettext_lazy("Signals")),
               ("handovers", "AL1-20", gettext_lazy("Handovers")),
               ("outcomes", "AL1-21", gettext_lazy("Handovers with an outcome")))


@dataclass
class Chart:
    """A chart ready to draw and print: its tables, anchors, notes and text alternative."""

    spec: ChartSpec
    title: str
    tables: list[publish.Table]
    audience: publish.Audience
    baseline: charts.Anchor | None = None
    target: charts.Anchor | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(c.status != "missing" for t in self.tables for line in t.cells
                       for c in line)

    @property
    def alt(self) -> str:
        kinds = {"line": _("Line chart"), "stacked": _("Stacked bar chart"),
                 "band": _("Line chart with interval band"),
                 "chain": _("Bar chart of yearly volumes")}
        rows = self.tables[0].row_labels if self.tables else ()
        span = f"{rows[0]}–{rows[-1]}" if rows else ""
        return _("%(kind)s: %(title)s, %(span)s. The figures are in the table beside the "
                 "chart.") % {"kind": kinds[self.spec.kind], "title": self.title, "span": span}

    def svg(self) -> bytes:
        mark = str(INTERNAL_MARK) if self.audience == "internal" else ""
        empty = _("No figures for this selection.")
        main = self.tables[0]
        if self.spec.kind == "stacked":
            return charts.stacked_bars(main, title=self.title, mark=mark, empty=empty)
        if self.spec.kind == "chain":
            return charts.chain_bars(main, title=self.title, note=str(CHAIN_NOTE), mark=mark,
                                     empty=empty)
        if self.spec.kind == "band":
            return charts.band_chart(main, self.tables[1], title=self.title,
                                     observed_label=main.title,
                                     estimated_label=self.tables[1].title, mark=mark,
                                     empty=empty)
        return charts.line_chart(main, title=self.title, baseline=self.baseline,
                                 target=self.target, mark=mark, empty=empty,
                                 band=charts.cell_band(main) if self.spec.band else None)


# --- building charts from the gate ---------------------------------------------------------

def _number(value: float) -> str:
    """1.334 in Dutch, 1,334 in English."""
    from django.utils import formats

    places = 0 if float(value).is_integer() else None
    return str(formats.number_format(value, decimal_pos=places, use_l10n=True,
                                     force_grouping=True))


def _anchors(item: Any) -> tuple[charts.Anchor | None, charts.Anchor | None, list[str]]:
    """Baseline and target from the catalogue (published figures, not platform counts)."""
    notes, baseline, target = [], None, None
    base = item.get("baseline") or {}
    if base.get("value") is not None:
        year = str(base["year"]) if base.get("year") else None
        baseline = charts.Anchor(float(base["value"]), _("Baseline %(year)s: %(value)s") % {
            "year": year or "", "value": _number(base["value"])}, year)
    if text := labels.anchor_text(base):
        notes.append(_("Baseline: %(text)s") % {"text": text})
    goal = item.get("target") or {}
    if goal.get("value") is not None:
        label = (_("Target %(year)s: %(value)s") if goal.get("year") else _("Target: %(value)s"))
        target = charts.Anchor(float(goal["value"]), label % {
            "year": goal.get("year") or "", "value": _number(goal["value"])})
    if text := labels.anchor_text(goal):
        notes.append(_("Target: %(text)s") % {"text": text})
    return baseline, target, notes


def _filters_for(item: Any, selection: Selection, by: str | None
                 ) -> tuple[dict[str, str], str | None, list[str]]:
    """The selection's filters this indicator has; the rest are named in a note."""
    dims = set(item.get("dimensions") or [])
    wanted = selection.dims()
    filters = {k: v for k, v in wanted.items() if k in dims}
    ignored = [labels.dimension_label(k) for k in wanted if k not in dims]
    if by in filters:
        by = None  # one category chosen: its own series rather than a stack of one
    notes = [_("Not available by %(dims)s: the filter does not apply to this figure.")
             % {"dims": ", ".join(ignored).lower()}] if ignored else []
    return filters, by, notes


def _table(indicator: str, sources: Sequence[str | None], *, audience: publish.Audience,
           selection: Selection, organisation: Any, filters: dict[str, str],
           by: str | None, book: Any) -> publish.Table:
    """The first publisher in ``sources`` with any figure for this selection."""
    table = None
    for source in sources:
        table = publish.indicator_table(
            indicator, audience=audience, by=by, filters=filters, organisation=organisation,
            source=source, on=selection.on, periods=selection.years, catalogue=book)
        if any(c.status != "missing" for line in table.cells for c in line):
            return table
    assert table is not None
    return table


def _chain_table(selection: Selection, audience: publish.Audience,
                 organisation: Any) -> publish.Table:
    """Signals, handovers and handovers with an outcome per year, summed over the
    organisations' platform cells (as published on ``on``) and protected as one table."""
    query = IndicatorValue.objects.filter(
        indicator_id__in=[ind for _k, ind, _l in CHAIN_STEPS], source=publish.PLATFORM,
        period_start__year__gte=selection.year_from, period_end__year__lte=selection.year_to)
    if audience == "internal":
        query = query.filter(organisation=organisation)
    step_of = {ind: key for key, ind, _l in CHAIN_STEPS}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    years: set[int] = set()
    for cell in query.prefetch_related("vintages"):
        if cell.period_start.year != cell.period_end.year:
            continue
        if cell.indicator_id == "AL1-21" and normalise_dims(cell.dims).get("outcome") in (
                None, "pending"):
            continue
        vintage = vintage_on(cell, selection.on)
        if vintage is None:
            continue
        year = cell.period_start.year
        years.add(year)
        counts[(str(year), step_of[cell.indicator_id])] += int(vintage.value)
    if not years:
        # Nothing to protect (and count_table wants a row): the indicator's own empty table.
        return publish.indicator_table("AL1-19", audience=audience, by="channel",
                                       organisation=organisation, source=publish.PLATFORM,
                                       on=selection.on, periods=selection.years)
    rows = [(str(y), str(y)) for y in sorted(years)]
    return publish.count_table(
        "AL1-19-21.chain", str(_("From signal to handover to outcome")),
        row_header=_("Year"), rows=rows,
        cols=[(key, str(label)) for key, _ind, label in CHAIN_STEPS], counts=counts,
        audience=audience, disclosure_class="national", totals=False,
        notes=[f"{_('Source')}: {labels.source_label(publish.PLATFORM)}",
               str(CHAIN_NOTE).capitalize() + "."],
        indicator_ids=[ind for _k, ind, _l in CHAIN_STEPS])


def build_chart(spec: ChartSpec, selection: Selection, audience: publish.Audience,
                organisation: Any = None, book: Any = None) -> Chart:
    book = book or services.catalogue()
    item = book.get(spec.indicator)
    if spec.kind == "chain":
        title = f"{spec.title} ({CHAIN_NOTE})"  # the label travels with the chart's title
        chart = Chart(spec, title, [_chain_table(selection, audience, organisation)], audience)
        if selection.dims():
            chart.notes.append(_("The filters for region, form and age do not apply to "
                                 "this figure."))
        return chart
    filters, by, notes = _filters_for(item, selection, spec.by)
    kwargs: dict[str, Any] = {"audience": audience, "selection": selection,
                              "organisation": organisation, "book": book}
    tables = [_table(spec.indicator, spec.sources, filters=filters, by=by, **kwargs)]
    if spec.kind == "band":
        est_item = book.get(spec.estimate)
        est_filters, _by, est_notes = _filters_for(est_item, selection, None)
        tables.append(_table(spec.estimate, spec.estimate_sources, filters=est_filters,
                             by=None, **kwargs))
        notes += [n for n in est_notes if n not in notes]
    title = str(spec.title) if spec.title else labels.indicator_name(item)
    if filters:
        title += " (" + ", ".join(labels.value_label(k, v) for k, v in filters.items()) + ")"
    chart = Chart(spec, title, tables, audience, notes=notes)
    if spec.kind == "line" and audience != "internal" and not filters and by is None:
        chart.baseline, chart.target, anchor_notes = _anchors(item)
        chart.notes += anchor_notes
    return chart


def table_grid(table: publish.Table) -> list[list[str]]:
    """The table as printed and downloaded: ``to_rows`` plus, where the table has
    intervals (estimates), a lower and an upper column per column that has them."""
    rows = table.to_rows()
    with_band = [j for j in range(len(table.col_labels))
                 if any(line[j].shown and line[j].lower is not None for line in table.cells)]
    if not with_band:
        return rows
    decimals = 0 if table.unit in publish.COUNT_UNITS else 2

    def text(value: float | None) -> str:
        return "" if value is None else f"{value:.{decimals}f}"

    rows[0] += [f"{table.col_labels[j]} – {label}" for j in with_band
                for label in (_("lower bound"), _("upper bound"))]
    for line, out in zip(table.cells, rows[1:], strict=True):
        for j in with_band:
            cell = line[j]
            out += [text(cell.lower), text(cell.upper)] if cell.shown else ["", ""]
    return rows


# --- pages ---------------------------------------------------------------------------------

ROUTES = {"public": ("monitor:public_chart", "monitor:public_table"),
          "national": ("monitor:chart", "monitor:table"),
          "internal": ("monitor:organisation_chart", "monitor:organisation_table")}


def _form(request: HttpRequest) -> DashboardFilterForm:
    return DashboardFilterForm(request.GET or None)


def _selection(form: DashboardFilterForm) -> Selection | None:
    if not form.is_bound:
        form = DashboardFilterForm({})
        form.is_valid()
        return form.selection()
    return form.selection() if form.is_valid() else None


def _chart_context(chart: Chart, selection: Selection) -> dict[str, Any]:
    chart_route, table_route = ROUTES[chart.audience]
    query = selection.query()
    return {
        "chart": chart,
        "svg_url": f"{reverse(chart_route, args=[chart.spec.key])}?{query}",
        "tables": [{"table": t, "grid": table_grid(t),
                    "csv_url": f"{reverse(table_route, args=[chart.spec.key, n])}?{query}"}
                   for n, t in enumerate(chart.tables)],
    }


def _built(specs: Sequence[ChartSpec], selection: Selection, audience: publish.Audience,
           organisation: Any, book: Any) -> list[Chart]:
    """The charts the current catalogue can answer: an indicator an administrator removed
    or changed (a dimension dropped) leaves its chart out rather than failing the page."""
    out = []
    for spec in specs:
        try:
            out.append(build_chart(spec, selection, audience, organisation, book))
        except (CatalogueError, publish.PublishError):
            continue
    return out


def _page(request: HttpRequest, template: str, audience: publish.Audience,
          event: MonitorAuditEvent, organisation: Any = None,
          extra: dict[str, Any] | None = None) -> HttpResponse:
    form = _form(request)
    selection = _selection(form)
    context: dict[str, Any] = {"form": form, "audience": audience,
                               "internal_mark": INTERNAL_MARK, **(extra or {})}
    if selection is None:
        context["invalid"] = True
        return render(request, template, context, status=400)
    book = services.catalogue()
    if audience == "internal":
        built = _built(ORGANISATION_CHARTS, selection, audience, organisation, book)
        context["charts"] = [_chart_context(c, selection) for c in built if not c.empty]
    else:
        context["sections"] = [
            {"section": section,
             "charts": [_chart_context(c, selection)
                        for c in _built(section.charts, selection, audience, None, book)]}
            for section in SECTIONS]
    context["selection"] = selection
    user = request.user if request.user.is_authenticated else None
    record(event, actor=user, object_type="monitor_dashboard", object_id=audience,
           purpose=str(PURPOSE), organisation_id=getattr(user, "organisation_id", None),
           detail={"audience": audience, **selection.audit_detail()})
    return render(request, template, context)


@require_capability("monitor.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    """The national dashboard: protected tables, one section per action line."""
    return _page(request, "monitor/dashboard/national.html", "national",
                 MonitorAuditEvent.DASHBOARD_VIEWED)


@public
def public_dashboard(request: HttpRequest) -> HttpResponse:
    """No sign-in: the same protected national tables, nothing of any organisation."""
    return _page(request, "monitor/public.html", "public",
                 MonitorAuditEvent.PUBLIC_DASHBOARD_VIEWED)


@require_capability("monitor.view")
def organisation_detail(request: HttpRequest) -> HttpResponse:
    """The user's own organisation only (there is no parameter naming another one)."""
    organisation = request.user.organisation  # type: ignore[union-attr]
    return _page(request, "monitor/dashboard/organisation.html", "internal",
                 MonitorAuditEvent.ORGANISATION_DETAIL_VIEWED, organisation,
                 {"organisation": organisation})


# --- chart images and CSV ------------------------------------------------------------------

def _bad_request() -> HttpResponse:
    return HttpResponse(_("The filters are not valid."), status=400,
                        content_type="text/plain; charset=utf-8")


def _chart_for(request: HttpRequest, key: str, audience: publish.Audience,
               organisation: Any = None) -> Chart | HttpResponse:
    spec = AUDIENCE_SPECS[audience].get(key)
    if spec is None:
        raise Http404
    selection = _selection(_form(request))
    if selection is None:
        return _bad_request()
    try:
        return build_chart(spec, selection, audience, organisation)
    except (CatalogueError, publish.PublishError):
        raise Http404 from None


def _svg_response(chart: Chart | HttpResponse) -> HttpResponse:
    if isinstance(chart, HttpResponse):
        return chart
    return HttpResponse(chart.svg(), content_type="image/svg+xml")


def _csv_response(request: HttpRequest, chart: Chart | HttpResponse, n: int) -> HttpResponse:
    if isinstance(chart, HttpResponse):
        return chart
    if n >= len(chart.tables):
        raise Http404
    table = chart.tables[n]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in table_grid(table):
        writer.writerow([value if NUMBER.match(value) else csv_cell(value) for value in line])
    writer.writerow([])
    for note in [*table.legend(), *table.notes]:
        writer.writerow([csv_cell(note)])
    if table.internal:
        writer.writerow([str(INTERNAL_MARK)])
    user = request.user if request.user.is_authenticated else None
    record(MonitorAuditEvent.TABLE_EXPORTED, actor=user, object_type="monitor_table",
           object_id=table.key, purpose=str(PURPOSE),
           organisation_id=getattr(user, "organisation_id", None),
           detail={"chart": chart.spec.key, "audience": chart.audience,
                   "rule_version": table.rule_version})
    name = f"zichtbaar-{chart.spec.key}-{n + 1}.csv"
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_capability("monitor.view")
def chart_svg(request: HttpRequest, key: str) -> HttpResponse:
    return _svg_response(_chart_for(request, key, "national"))


@public
def public_chart_svg(request: HttpRequest, key: str) -> HttpResponse:
    return _svg_response(_chart_for(request, key, "public"))


@require_capability("monitor.view")
def organisation_chart_svg(request: HttpRequest, key: str) -> HttpResponse:
    """Exact figures in an image: audited like the page that shows them."""
    user = request.user
    chart = _chart_for(request, key, "internal", user.organisation)  # type: ignore[union-attr]
    if not isinstance(chart, HttpResponse):
        record(MonitorAuditEvent.ORGANISATION_CHART_VIEWED, actor=user,
               object_type="monitor_chart", object_id=key, purpose=str(PURPOSE),
               organisation_id=user.organisation_id)  # type: ignore[union-attr]
    return _svg_response(chart)


@require_capability("monitor.view")
def table_csv(request: HttpRequest, key: str, n: int) -> HttpResponse:
    return _csv_response(request, _chart_for(request, key, "national"), n)


@public
def public_table_csv(request: HttpRequest, key: str, n: int) -> HttpResponse:
    return _csv_response(request, _chart_for(request, key, "public"), n)


@require_capability("monitor.view")
def organisation_table_csv(request: HttpRequest, key: str, n: int) -> HttpResponse:
    user = request.user
    return _csv_response(request, _chart_for(request, key, "internal",
                                             user.organisation), n)  # type: ignore[union-attr]

