"""The annual chat report, in the shape of CKM's "Onzichtbare slachtoffers".

Read straight from the helpline's complete codings of one year (persons, not chats, through
``compute._people``), every number is turned into a ``publish.Table`` before anything is
drawn or printed: cross-tabulations with totals through ``count_table`` (secondary
suppression over the totals), shares of victims through ``share_table``, the yearly series
through ``indicator_table``. Key figures and charts only read cells of those tables.

Shares are built from the counts the protected cross-tabulation shows, so a share never
reveals a cell the table hides: a category hidden by secondary suppression is left out of
the share table (with a note), and a sum of categories (minors, more than a year) is shown
only when every category in it is shown. A multi-response share (forms, relations) is left
out when the victims outside it are a small group, since ``whole − n`` would name them.

The national report (all organisations) is protected; an organisation's own report is
``internal``: exact numbers, marked "not for publication" on every page.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zichtbaar import __version__

from . import compute, labels, publish
from . import report_events as _report_events  # noqa: F401  (registers the audit events)
from .publish import Cell, Table

FORMATS = ("pdf", "html")
LANGUAGES = ("nl", "en")
FIRST_YEAR = 2018
SERIES_YEARS = 5
NOT_CODED = "not_coded"
SEVERAL = "several"
CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}

Progress = Callable[[int, str], None]

# Order in which a person's several codes of one field resolve to one category: the same
# "in any of their chats" reading as ``compute.helpline`` (a minor band wins, the longest
# duration wins, a first disclosure in any chat counts).
PRIORITY = {
    "help_question_trafficking": ("yes", "unsure", "no"),
    "age_band": ("under_12", "12_15", "16_17", "18_23", "24_plus", "unknown"),
    "gender": ("girl_woman", "boy_man", "other", "unknown"),
    "first_disclosure": ("yes", "no", "unknown"),
    "duration": ("5y_plus", "1_5y", "under_1y", "unknown"),
}
FORMS = ("sexual", "labour", "criminal", "other")
ROLES = ("victim", "reporter", "unknown")
AGE_GROUPS = ("minor", "adult", "unknown")


class ReportError(ValueError):
    """Input the caller has to fix (year, format, language); ``message`` is a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Chart:
    title: str
    svg: bytes

    @property
    def data_uri(self) -> str:
        """Inline image: the page's CSP allows ``data:`` images, and the PDF needs no fetch."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyFigure:
    label: str
    text: str
    unit: str = ""


@dataclass(frozen=True)
class DataVersion:
    """What reproduces the report: same rows, same versions → same tables."""

    catalogue_version: str
    codebook_version: str
    codebook_versions_used: tuple[str, ...]
    disclosure_rules: str
    generated_at: dt.datetime
    input_sha256: str
    input_rows: int
    software: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ChatReport:
    year: int
    language: str
    audience: publish.Audience
    organisation_name: str
    organisation_slug: str
    title: str
    key_figures: tuple[KeyFigure, ...]
    sections: tuple[Section, ...]
    version: DataVersion
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def internal(self) -> bool:
        return self.audience == "internal"

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]


# --- input ---------------------------------------------------------------------------------

def check_input(year: Any, fmt: str = "pdf", language: str = "nl") -> int:
    """The year, format and language a report can be made for; ``ReportError`` otherwise."""
    try:
        number = int(year)
    except (TypeError, ValueError):
        raise ReportError("bad_year", _("The year must be a number, such as %(y)s.")
                          % {"y": timezone.localdate().year}) from None
    last = timezone.localdate().year
    if not FIRST_YEAR <= number <= last:
        raise ReportError("bad_year", _("There is no report for %(y)s: choose a year from "
                                        "%(first)s to %(last)s.")
                          % {"y": number, "first": FIRST_YEAR, "last": last})
    if fmt not in FORMATS:
        raise ReportError("bad_format", _("Unknown format %(f)s: choose pdf or html.")
                          % {"f": fmt})
    if language not in LANGUAGES:
        raise ReportError("bad_language", _("Unknown language %(l)s: choose nl or en.")
                          % {"l": language})
    return number


def _codings(year: int, organisation: Any) -> list[compute.CodingRow]:
    return list(compute.coding_rows(year, organisation))


def input_digest(codings: Iterable[Any]) -> tuple[str, int]:
    """SHA-256 over the canonical JSON of the rows the report counts (codes and ids only)."""
    digest = hashlib.sha256()
    n = 0
    for coding in codings:
        row = [coding.pk, coding.organisation_id, coding.conversation_id,
               coding.visitor_id, coding.chat_date.isoformat(),
               coding.codebook_version, coding.values]
        digest.update(json.dumps(row, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=True, default=str).encode())
        digest.update(b"\n")
        n += 1
    return digest.hexdigest(), n


def _one(person: Mapping[str, set[str]], name: str) -> str:
    values = person.get(name, set())
    return next((v for v in PRIORITY[name] if v in values), NOT_CODED)


@dataclass(frozen=True)
class Person:
    """One visitor as the report counts them: one category per field."""

    question: str
    role: str
    forms: frozenset[str]
    age: str
    gender: str
    parent: bool
    relations: frozenset[str]
    disclosure: str
    duration: str

    @property
    def form_group(self) -> str:
        if not self.forms:
            return NOT_CODED
        return next(iter(self.forms)) if len(self.forms) == 1 else SEVERAL

    @property
    def age_group(self) -> str:
        if self.age in compute.MINOR_BANDS:
            return "minor"
        return "adult" if self.age in ("18_23", "24_plus") else "unknown"


def persons(codings: Sequence[Any]) -> list[Person]:
    """``compute._people`` merges a returning visitor's chats; each field gets one category."""
    out = []
    for merged in compute._people(codings):
        out.append(Person(
            question=_one(merged, "help_question_trafficking"), role=compute._role(merged),
            forms=frozenset(merged.get("exploitation_forms", set()) & set(FORMS)),
            age=_one(merged, "age_band"), gender=_one(merged, "gender"),
            parent="parent" in merged.get("perpetrator_relation", set()),
            relations=frozenset(merged.get("perpetrator_relation", set())),
            disclosure=_one(merged, "first_disclosure"), duration=_one(merged, "duration")))
    return out


# --- labels --------------------------------------------------------------------------------

def _option(field_name: str, value: str) -> str:
    if value == NOT_CODED:
        return _("Not coded")
    from zichtbaar.helpline import codebook

    language = (translation.get_language() or "nl")[:2]
    try:
        return codebook.load().field(field_name).option_label(value, language)
    except KeyError:
        return value


def _pairs(field_name: str, values: Iterable[str]) -> list[tuple[str, str]]:
    return [(v, _option(field_name, v)) for v in values]


def _form_label(value: str) -> str:
    if value == SEVERAL:
        return _("Several forms")
    if value == NOT_CODED:
        return _("Not coded")
    return labels.value_label("form", value)


AGE_GROUP_LABELS = {"minor": lambda: _("Minor (under 18)"),
                    "adult": lambda: _("Adult (18 or older)"),
                    "unknown": lambda: _("Age unknown")}


# --- tables --------------------------------------------------------------------------------

def cell(table: Table, row: str, col: str) -> Cell:
    """A cell of a published table by its keys."""
    return table.cells[table.row_keys.index(row)][table.col_keys.index(col)]


@dataclass
class _Builder:
    audience: publish.Audience
    notes_for: dict[str, list[str]] = field(default_factory=dict)

    def counts(self, key: str, title: str, *, row_header: str,
               rows: Sequence[tuple[str, str]], cols: Sequence[tuple[str, str]],
               records: Iterable[tuple[str, str]], cls: str = "national",
               notes: Sequence[str] = (), ids: Sequence[str] = ()) -> Table:
        tally = Counter(records)
        return publish.count_table(key, title, row_header=row_header, rows=rows, cols=cols,
                                   counts=dict(tally), audience=self.audience,
                                   disclosure_class=cls, notes=notes, indicator_ids=ids)

    def shares_from(self, key: str, title: str, *, source: Table, row_header: str,
                    rows: Sequence[tuple[str, str]], raw: Mapping[str, int], whole: int,
                    cls: str, line: str | None = None,
                    aggregates: Sequence[tuple[str, str, Sequence[str]]] = (),
                    aggregate_source: Table | None = None,
                    notes: Sequence[str] = (), ids: Sequence[str] = ()) -> Table | None:
        """Shares of the categories the protected ``source`` shows.

        Categories are the source's rows, read in its total column; with ``line`` they are
        its columns, read in that row (whose total is then the whole). ``aggregates``
        (key, label, categories) add sums, shown only when every category in them is shown
        (in ``aggregate_source`` when given: a table that breaks one category down).
        """
        def shown_cell(category: str) -> Cell:
            return (cell(source, category, "total") if line is None
                    else cell(source, line, category))

        if not cell(source, line or "total", "total").shown:
            return None  # the group itself is hidden: no shares of it
        keep: list[tuple[str, str]] = []
        parts: dict[str, int] = {}
        left_out: list[str] = []
        for row_key, label in rows:
            if shown_cell(row_key).status in ("shown", "primary"):
                keep.append((row_key, label))
                parts[row_key] = raw.get(row_key, 0)
            else:
                left_out.append(label)
        for agg_key, label, members in aggregates:
            if all((shown_cell(m) if aggregate_source is None
                    else cell(aggregate_source, m, "total")).shown for m in members):
                keep.append((agg_key, label))
                parts[agg_key] = sum(raw.get(m, 0) for m in members)
            else:
                left_out.append(label)
        all_notes = list(notes)
        if left_out:
            all_notes.append(_("Not shown, because the table beside it hides the number: "
                               "%(l)s.") % {"l": ", ".join(left_out)})
        return publish.share_table(key, title, row_header=row_header, rows=keep, parts=parts,
                                   whole=whole, audience=self.audience, disclosure_class=cls,
                                   notes=all_notes, indicator_ids=ids)

    def multi_shares(self, key: str, title: str, *, row_header: str,
                     rows: Sequence[tuple[str, str]], raw: Mapping[str, int], whole: int,
                     cls: str, notes: Sequence[str] = (), ids: Sequence[str] = ()) -> Table:
        """Shares of a multi-response item; a row whose complement is small is left out."""
        threshold = publish.rules().threshold(cls)
        keep, left_out = [], []
        for row_key, label in rows:
            rest = whole - raw.get(row_key, 0)
            if self.audience != "internal" and 0 < rest < threshold:
                left_out.append(label)
            else:
                keep.append((row_key, label))
        all_notes = list(notes)
        if left_out:
            all_notes.append(_("Not shown, because it would reveal the small number of "
                               "victims outside the group: %(l)s.") % {"l": ", ".join(left_out)})
        return publish.share_table(key, title, row_header=row_header, rows=keep,
                                   parts={k: raw.get(k, 0) for k, _l in keep}, whole=whole,
                                   audience=self.audience, disclosure_class=cls,
                                   notes=all_notes, indicator_ids=ids)


def _hidden_note() -> str:
    return _("The group is too small to show shares of it.")


def _sections(people: Sequence[Person], *, audience: publish.Audience, year: int,
              organisation: Any, progress: Progress) -> tuple[list[Section], list[KeyFigure]]:
    b = _Builder(audience)
    gender_cols = _pairs("gender", [*PRIORITY["gender"], NOT_CODED])
    sections: list[Section] = []

    # 1. Visitors and their help questions (all visitors; the key figures come from here).
    questions = _pairs("help_question_trafficking", [*PRIORITY["help_question_trafficking"],
                                                     NOT_CODED])
    roles = [(r, labels.value_label("visitor_role", r)) for r in ROLES]
    visitors = b.counts(
        "chat.visitors", _("Unique visitors by help question and who is chatting"),
        row_header=_("Help question about trafficking"), rows=questions, cols=roles,
        records=((p.question, p.role) for p in people), ids=("AL3-10", "AL3-03", "AL3-11"),
        notes=(_("A returning visitor is one person; an anonymous chat counts as its own "
                 "visitor, so the numbers are upper bounds."),))
    trafficking = [p for p in people if p.question == "yes"]
    role_shares = b.shares_from(
        "chat.roles", _("Visitors with a trafficking help question: victims and others"),
        source=visitors, row_header=_("Who is chatting"), rows=roles,
        raw=Counter(p.role for p in trafficking), whole=len(trafficking), cls="national",
        line="yes", ids=("AL3-11",))
    sections.append(Section(
        "visitors", _("Visitors and help questions"),
        _("Every unique visitor whose chat in %(y)s was coded, by whether they asked for help "
          "with trafficking and whether they chatted about themselves or about someone else.")
        % {"y": year}, tuple(t for t in (visitors, role_shares) if t is not None),
        notes=() if role_shares is not None else (_hidden_note(),)))
    progress(30, _("Visitors counted"))

    victims = [p for p in trafficking if p.role == "victim"]
    n = len(victims)

    # 2. Forms of exploitation.
    form_rows = [(f, labels.value_label("form", f)) for f in FORMS]
    group_rows = [(g, _form_label(g)) for g in [*FORMS, SEVERAL, NOT_CODED]]
    age_group_cols = [(g, AGE_GROUP_LABELS[g]()) for g in AGE_GROUPS]
    form_age = b.counts(
        "chat.form_age", _("Victims by form of exploitation and age"),
        row_header=_("Form of exploitation"), rows=group_rows, cols=age_group_cols,
        records=((p.form_group, p.age_group) for p in victims), cls="minors",
        ids=("AL3-12", "AL3-13"))
    form_sex = b.counts(
        "chat.form_sex", _("Victims by form of exploitation and gender"),
        row_header=_("Form of exploitation"), rows=group_rows, cols=gender_cols,
        records=((p.form_group, p.gender) for p in victims), ids=("AL3-12",))
    forms = b.multi_shares(
        "chat.forms", _("Victims by form of exploitation (share of victims)"),
        row_header=_("Form of exploitation"), rows=form_rows,
        raw={f: sum(1 for p in victims if f in p.forms) for f in FORMS}, whole=n,
        cls="national", ids=("AL3-12",),
        notes=(_("A victim can name several forms, so the shares add up to more than "
                 "100%."),))
    sections.append(Section(
        "forms", _("Forms of exploitation"),
        _("Victims are visitors with a trafficking help question who chatted about "
          "themselves. In the cross-tables, a victim who named more than one form is counted "
          "once, under 'Several forms'."), (forms, form_age, form_sex),
        charts=(bar_chart(forms),)))
    progress(45, _("Forms of exploitation counted"))

    # 3. Minors: age groups for all victims, then the minors' own age bands. The minors'
    # table repeats the group's total, so it is protected together with it.
    age_sex = b.counts(
        "chat.age_sex", _("Victims by age group and gender"), row_header=_("Age"),
        rows=age_group_cols, cols=gender_cols, records=((p.age_group, p.gender)
                                                         for p in victims),
        cls="minors", ids=("AL3-13",))
    young = [p for p in victims if p.age_group == "minor"]
    bands_sex = b.counts(
        "chat.minor_bands_sex", _("Minor victims by age and gender"), row_header=_("Age"),
        rows=_pairs("age_band", ["under_12", "12_15", "16_17"]), cols=gender_cols,
        records=((p.age, p.gender) for p in young), cls="minors", ids=("AL3-13",))
    minors = b.shares_from(
        "chat.minors", _("Minors among victims"), source=age_sex, row_header=_("Age"),
        rows=age_group_cols, raw={**Counter(p.age_group for p in victims),
                                  **Counter(p.age for p in young)},
        whole=n, cls="minors", aggregate_source=bands_sex,
        aggregates=[("up_to_15", _("15 or younger"), sorted(compute.UP_TO_15_BANDS))],
        ids=("AL3-13",))
    sections.append(Section(
        "minors", _("Minors"),
        _("Age as coded in the chat. Every cell about minors is protected with the threshold "
          "for minors."), tuple(t for t in (minors, age_sex, bands_sex) if t is not None),
        notes=() if minors is not None else (_hidden_note(),)))
    progress(55, _("Minors counted"))

    # 4. Perpetrators: parents, and every relation named.
    parent_rows = [("yes", _("A parent named as perpetrator")),
                   ("no", _("No parent named"))]
    parent_sex = b.counts(
        "chat.parent_sex", _("Victims naming a parent as perpetrator, by gender"),
        row_header=_("Parent as perpetrator"), rows=parent_rows, cols=gender_cols,
        records=(("yes" if p.parent else "no", p.gender) for p in victims), ids=("AL3-04",))
    parent = b.shares_from(
        "chat.parent", _("Parents as perpetrators (share of victims)"), source=parent_sex,
        row_header=_("Parent as perpetrator"), rows=parent_rows[:1],
        raw={"yes": sum(1 for p in victims if p.parent)}, whole=n, cls="national",
        ids=("AL3-04",))
    relation_values = [o.value for o in _codebook().field("perpetrator_relation").options]
    relations = b.multi_shares(
        "chat.relations", _("Relation to the perpetrator (share of victims)"),
        row_header=_("Relation to the perpetrator"),
        rows=_pairs("perpetrator_relation", relation_values),
        raw={r: sum(1 for p in victims if r in p.relations) for r in relation_values},
        whole=n, cls="national",
        notes=(_("A victim can name several perpetrators, so the shares add up to more than "
                 "100%."),))
    sections.append(Section(
        "parents", _("Parents as perpetrators"),
        _("A parent as perpetrator means that the usual routes (reporting to the police, "
          "help through the family) are closed; the counsellor records an alternative route."),
        tuple(t for t in (parent, parent_sex, relations) if t is not None),
        notes=() if parent is not None else (_hidden_note(),)))

    # 5. First disclosure.
    disclosure_rows = _pairs("first_disclosure", [*PRIORITY["first_disclosure"], NOT_CODED])
    disclosure_sex = b.counts(
        "chat.disclosure_sex", _("First disclosure by gender"),
        row_header=_("First time told anyone"), rows=disclosure_rows, cols=gender_cols,
        records=((p.disclosure, p.gender) for p in victims), ids=("AL3-05",))
    disclosure = b.shares_from(
        "chat.disclosure", _("First disclosure (share of victims)"), source=disclosure_sex,
        row_header=_("First time told anyone"), rows=disclosure_rows,
        raw=Counter(p.disclosure for p in victims), whole=n, cls="national",
        ids=("AL3-05",))
    sections.append(Section(
        "disclosure", _("First disclosure"),
        _("Victims who told their story for the first time in the chat: no agency knew of "
          "them before."), tuple(t for t in (disclosure, disclosure_sex) if t is not None),
        charts=(bar_chart(disclosure),) if disclosure is not None else (),
        notes=() if disclosure is not None else (_hidden_note(),)))

    # 6. Duration.
    duration_rows = _pairs("duration", [*PRIORITY["duration"], NOT_CODED])
    duration_sex = b.counts(
        "chat.duration_sex", _("Duration of the exploitation by gender"),
        row_header=_("Duration"), rows=duration_rows, cols=gender_cols,
        records=((p.duration, p.gender) for p in victims), ids=("AL3-06",))
    duration = b.shares_from(
        "chat.duration", _("Duration of the exploitation (share of victims)"),
        source=duration_sex, row_header=_("Duration"),
        rows=duration_rows, raw=Counter(p.duration for p in victims), whole=n,
        cls="national", ids=("AL3-06",),
        aggregates=[("1y_plus", labels.value_label("duration", "1y_plus"),
                     sorted(compute.OVER_1Y))])
    sections.append(Section(
        "duration", _("Duration of the exploitation"),
        _("How long the exploitation had lasted when the victim chatted."),
        tuple(t for t in (duration, duration_sex) if t is not None),
        notes=() if duration is not None else (_hidden_note(),)))
    progress(65, _("Cross-tables protected"))

    # 7. Series over recent years (as stored by the platform; the CKM reports as context).
    sections.append(_series_section(year, audience=audience, organisation=organisation))
    progress(75, _("Series read"))

    figures = [
        KeyFigure(_("Unique chat visitors"), cell(visitors, "total", "total").text),
        KeyFigure(_("Unique visitors with a trafficking help question"),
                  cell(visitors, "yes", "total").text),
        KeyFigure(_("Of whom victims"), cell(visitors, "yes", "victim").text),
        KeyFigure(_("Of whom someone else reporting"), cell(visitors, "yes", "reporter").text),
    ]
    for table, row, label in ((minors, "minor", _("Minors among victims")),
                              (parent, "yes", _("Parent(s) as perpetrator")),
                              (disclosure, "yes", _("First disclosure in the chat")),
                              (duration, "1y_plus", _("Exploited for more than a year"))):
        if table is not None and row in table.row_keys:
            figures.append(KeyFigure(label, cell(table, row, "percent").text, "%"))
    return sections, figures


def _codebook() -> Any:
    from zichtbaar.helpline import codebook

    return codebook.load()


def _series_section(year: int, *, audience: publish.Audience, organisation: Any) -> Section:
    periods = publish.year_periods(year - SERIES_YEARS + 1, year)
    tables = [publish.indicator_table(i, audience=audience, organisation=organisation,
                                      source="platform", periods=periods)
              for i in ("AL3-10", "AL3-03")]
    if audience != "internal":
        ckm_periods = publish.year_periods(FIRST_YEAR, year)
        tables.append(publish.indicator_table("AL3-03", audience=audience, source="ckm",
                                              periods=ckm_periods))
        tables.append(publish.indicator_table("AL3-11", audience=audience, source="ckm",
                                              filters={"visitor_role": "victim"},
                                              periods=ckm_periods))
    return Section(
        "series", _("Over the years"),
        _("The platform's figures as stored each year (the daily computation); the figures "
          "CKM published in its reports are shown beside them as context. They are different "
          "series and are not added up."), tuple(tables),
        charts=tuple(series_chart(t, internal=audience == "internal") for t in tables[:2]))


# --- charts --------------------------------------------------------------------------------

SVG_RC = {"svg.hashsalt": "zichtbaar-report",  # same input, same bytes
          "svg.fonttype": "none",  # text stays text: searchable in the PDF
          "font.family": "DejaVu Sans"}


def _svg(figure: Any) -> bytes:
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, height))


def bar_chart(table: Table) -> Chart:
    """Shares as horizontal bars; a hidden share gets no bar, only its mark."""
    col = table.col_keys.index("percent")
    rows = [(label, line[col]) for label, line, key in
            zip(table.row_labels, table.cells, table.row_keys, strict=True) if key != "total"]
    figure = _figure(0.45 * max(len(rows), 1) + 0.8)
    axes = figure.subplots()
    names = [label for label, _c in rows][::-1]
    values = [c.value or 0.0 for _l, c in rows][::-1]
    bars = axes.barh(names, values, color="#1f5f8b")
    for bar, (_label, c) in zip(bars, rows[::-1], strict=True):
        axes.annotate(c.text + ("%" if c.shown else ""), (bar.get_width(), bar.get_y()
                      + bar.get_height() / 2), xytext=(4, 0), textcoords="offset points",
                      va="center", fontsize=9)
    axes.set_xlim(0, 110)
    axes.set_xlabel(_("Share of victims (%)"))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return Chart(table.title, _svg(figure))


def series_chart(table: Table, *, internal: bool = False) -> Chart:
    """The shared dashboard line chart (``charts.py``); a hidden year is a gap."""
    from . import charts

    mark = _("Internal: not for publication") if internal else ""
    return Chart(table.title, charts.line_chart(table, mark=mark))


# --- the report ----------------------------------------------------------------------------

def _quiet(_percent: int, _text: str) -> None:
    return None


def build(year: int, *, organisation: Any = None, language: str = "nl",
          progress: Progress | None = None, now: dt.datetime | None = None) -> ChatReport:
    """The report for ``year``: national (protected) or one organisation's own (internal)."""
    from zichtbaar.helpline import codebook

    from . import services

    year = check_input(year, "pdf", language)
    step = progress or _quiet
    audience: publish.Audience = "internal" if organisation is not None else "national"
    with translation.override(language):
        step(5, _("Reading the coded chats"))
        codings = _codings(year, organisation)
        digest, rows = input_digest(codings)
        people = persons(codings)
        step(20, _("Counting persons"))
        sections, figures = _sections(people, audience=audience, year=year,
                                      organisation=organisation, progress=step)
        catalogue_version = services.current_catalogue().version
        rules = "internal" if audience == "internal" else publish.rules().version
        sources = (
            _("zichtbaar helpline: complete codings of chats in %(y)s, codebook %(v)s")
            % {"y": year, "v": codebook.CURRENT_VERSION},
            _("Method after CKM / Fier, 'Onzichtbare slachtoffers van mensenhandel' (unique "
              "visitors with a trafficking help question; victims and others reporting)"),
            _("Indicator catalogue %(v)s (AL3-03 to AL3-06, AL3-10 to AL3-13)")
            % {"v": catalogue_version},
            *sorted({note for s in sections for t in s.tables for note in t.notes
                     if note.startswith(_("Source"))}),
        )
        version = DataVersion(
            catalogue_version=catalogue_version, codebook_version=codebook.CURRENT_VERSION,
            codebook_versions_used=tuple(sorted({c.codebook_version for c in codings})),
            disclosure_rules=rules, generated_at=now or timezone.now(), input_sha256=digest,
            input_rows=rows, software=f"zichtbaar {__version__}", sources=sources)
        name = organisation.name if organisation is not None else _("National")
        title = (_("Invisible victims: the chat in %(y)s") % {"y": year})
        return ChatReport(
            year=year, language=language, audience=audience, organisation_name=name,
            organisation_slug=organisation.slug if organisation is not None else "",
            title=title, key_figures=tuple(figures), sections=tuple(sections),
            version=version)


@dataclass(frozen=True)
class _Row:
    label: str
    cells: tuple[Cell, ...]
    total: bool


@dataclass(frozen=True)
class _TableView:
    table: Table
    rows: tuple[_Row, ...]
    legend: tuple[str, ...]


def _view(table: Table) -> _TableView:
    rows = tuple(_Row(label, line, key == "total") for label, line, key in
                 zip(table.row_labels, table.cells, table.row_keys or table.row_labels,
                     strict=True))
    return _TableView(table, rows, tuple(table.legend()))


def render_html(report: ChatReport) -> str:
    """One self-contained document (styles and charts inside), for the browser and the PDF."""
    with translation.override(report.language):
        sections = [(s, [_view(t) for t in s.tables]) for s in report.sections]
        return render_to_string("monitor/report/chat.html",
                                {"report": report, "sections": sections})


def render_pdf(html: str) -> bytes:
    """The PDF from the same HTML; the renderer may read ``data:`` URIs only, so a report
    never fetches anything from anywhere."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()  # type: ignore[no-any-return]


def filename(report: ChatReport, fmt: str) -> str:
    scope = report.organisation_slug or "national"
    return f"chat-report-{report.year}-{scope}-{report.language}.{fmt}"


def generate(year: int, *, fmt: str, language: str, organisation: Any = None,
             progress: Progress | None = None) -> tuple[bytes, ChatReport]:
    """Build and render; the caller records the audit entry (it knows who asked)."""
    check_input(year, fmt, language)
    step = progress or _quiet
    report = build(year, organisation=organisation, language=language, progress=step)
    with translation.override(language):
        step(80, _("Rendering"))
    html = render_html(report)
    if fmt == "html":
        return html.encode("utf-8"), report
    with translation.override(language):
        step(88, _("Making the PDF"))
    return render_pdf(html), report


def audit_generated(report: ChatReport, *, actor: Any, fmt: str, via: str,
                    job: str = "") -> None:
    from zichtbaar.audit.record import record

    from .report_events import ReportAuditEvent

    record(ReportAuditEvent.REPORT_GENERATED, actor=actor, object_type="monitor_report",
           object_id=job or f"chat-{report.year}", purpose=_("annual chat report"),
           detail={"kind": "chat", "year": report.year, "audience": report.audience,
                   "organisation": report.organisation_slug, "format": fmt,
                   "language": report.language, "via": via,
                   "input_sha256": report.version.input_sha256,
                   "rows": report.version.input_rows})
