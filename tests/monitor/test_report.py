"""The annual chat report: counts, protection, rendering (HTML and PDF, both languages)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType
from zichtbaar.helpline.models import Coding, Conversation, ReturningVisitor
from zichtbaar.monitor import compute, report, services
from zichtbaar.monitor.report import ChatReport

pytestmark = pytest.mark.django_db


def year() -> int:
    return timezone.localdate().year


VICTIM = {"help_question_trafficking": "yes", "visitor_role": "victim", "risk_level": "high"}


def chat(organisation: Organisation, values: dict[str, Any], *, times: int = 1,
         visitor: ReturningVisitor | None = None, when: dt.date | None = None) -> None:
    for _ in range(times):
        conversation = Conversation.objects.create(organisation=organisation, status="ended",
                                                   consent=True, visitor=visitor)
        Coding.objects.create(conversation=conversation, organisation=organisation,
                              codebook_version="2026.1", values=values, complete=True,
                              chat_date=when or dt.date(year(), 3, 10))


@dataclass
class Chats:
    helpline: Organisation
    other: Organisation


def make_chats(make_org: Callable[..., Organisation]) -> Chats:
    """77 visitors, 62 with a trafficking question, 55 victims; a few small groups.

    Labour: 3 victims (national threshold 5); under 12: 2 victims (minors threshold 10).
    """
    helpline = make_org("Hulplijn Test", OrganisationType.CARE_NGO)
    other = make_org("Tweede Hulplijn", OrganisationType.CARE_NGO)
    young = {**VICTIM, "exploitation_forms": ["sexual"], "age_band": "12_15",
             "gender": "girl_woman", "first_disclosure": "yes", "duration": "1_5y"}
    chat(helpline, {**young, "perpetrator_relation": ["parent"],
                    "alternative_route": "police_avim"}, times=6)
    chat(helpline, young, times=23)
    returning = ReturningVisitor.objects.create(organisation=helpline, code_hash="b" * 64,
                                                first_seen=dt.date(year(), 1, 5))
    chat(helpline, young, visitor=returning, times=2)  # one person, two chats
    chat(helpline, {**VICTIM, "exploitation_forms": ["sexual"], "age_band": "16_17",
                    "gender": "girl_woman", "first_disclosure": "no",
                    "duration": "5y_plus"}, times=12)
    chat(other, {**VICTIM, "exploitation_forms": ["criminal"], "age_band": "18_23",
                 "gender": "boy_man", "first_disclosure": "no", "duration": "under_1y"},
         times=8)
    chat(other, {**VICTIM, "exploitation_forms": ["labour"], "age_band": "24_plus",
                 "gender": "boy_man", "first_disclosure": "unknown",
                 "duration": "under_1y"}, times=3)
    chat(helpline, {**VICTIM, "exploitation_forms": ["sexual", "criminal"],
                    "age_band": "under_12", "gender": "girl_woman"}, times=2)
    chat(helpline, {**VICTIM, "visitor_role": "reporter", "age_band": "unknown",
                    "gender": "unknown"}, times=7)
    chat(helpline, {**VICTIM, "help_question_trafficking": "no", "visitor_role": "unknown",
                    "age_band": "unknown", "gender": "unknown"}, times=15)
    chat(helpline, VICTIM, when=dt.date(year() - 1, 6, 1))  # another year
    return Chats(helpline, other)


@pytest.fixture
def chats(make_org: Callable[..., Organisation], fresh_cache: None) -> Chats:
    return make_chats(make_org)


@pytest.fixture
def national(chats: Chats) -> ChatReport:
    return report.build(year(), language="en")


def table(rep: ChatReport, key: str) -> Any:
    return next(t for t in rep.tables() if t.key == key)


def texts(rep: ChatReport, key: str, row: str) -> list[str]:
    t = table(rep, key)
    return [c.text for c in t.cells[t.row_keys.index(row)]]


# --- counts --------------------------------------------------------------------------------

def test_key_figures_count_persons_like_the_computed_indicators(national: ChatReport) -> None:
    figures = {f.label: f.text for f in national.key_figures}
    assert figures["Unique chat visitors"] == "77"  # the returning visitor's chats: one
    assert figures["Unique visitors with a trafficking help question"] == "62"
    assert figures["Of whom victims"] == "55"
    assert figures["Of whom someone else reporting"] == "7"
    rows = compute.helpline(year())
    # compute works per organisation; the national report is the sum of both.
    assert sum(r.value for r in rows if r.indicator_id == "AL3-10") == 77
    assert sum(r.value for r in rows if r.indicator_id == "AL3-03") == 62


def test_shares_of_victims(national: ChatReport) -> None:
    assert texts(national, "chat.forms", "sexual") == ["44", "80"]  # 30 + 12 + 2 of 55
    assert texts(national, "chat.forms", "criminal") == ["10", "18"]
    assert texts(national, "chat.forms", "labour") == ["<5", "x"]
    assert texts(national, "chat.parent", "yes") == ["6", "11"]
    assert texts(national, "chat.disclosure", "yes") == ["30", "55"]
    assert texts(national, "chat.minors", "minor") == ["44", "80"]
    assert texts(national, "chat.duration", "1_5y") == ["30", "55"]
    # 5 years or more is hidden beside the 2 victims without a duration (secondary
    # suppression), so neither it nor the sum "more than a year" is shown as a share.
    assert texts(national, "chat.duration_sex", "5y_plus")[-1] == "x"
    assert not {"5y_plus", "1y_plus"} & set(table(national, "chat.duration").row_keys)
    assert "More than 1 year" in table(national, "chat.duration").notes[-1]
    assert texts(national, "chat.roles", "victim") == ["55", "89"]


def test_small_cells_are_marked_and_never_exact(national: ChatReport) -> None:
    under_12 = texts(national, "chat.minor_bands_sex", "under_12")
    assert "<10" in under_12 and "2" not in under_12  # minors: threshold 10
    labour = texts(national, "chat.form_sex", "labour")
    assert "<5" in labour and "3" not in labour
    assert table(national, "chat.minor_bands_sex").threshold == 10
    assert table(national, "chat.form_sex").threshold == 5
    # Secondary suppression: the hidden cell cannot be recovered from its row and column.
    form_sex = table(national, "chat.form_sex")
    assert sum(c.status == "secondary" for line in form_sex.cells for c in line) >= 1
    # The share of minors under 12 would reveal the hidden count: the sum is left out.
    assert "up_to_15" not in table(national, "chat.minors").row_keys
    assert any("15 or younger" in note for note in table(national, "chat.minors").notes)


def test_a_share_whose_complement_is_small_is_left_out(make_org: Callable[..., Organisation],
                                                       fresh_cache: None) -> None:
    helpline = make_org("Hulplijn Test", OrganisationType.CARE_NGO)
    chat(helpline, {**VICTIM, "exploitation_forms": ["sexual"], "age_band": "18_23",
                    "gender": "girl_woman"}, times=30)
    chat(helpline, {**VICTIM, "exploitation_forms": ["labour"], "age_band": "18_23",
                    "gender": "girl_woman"}, times=2)
    rep = report.build(year(), language="en")
    forms = table(rep, "chat.forms")
    assert "sexual" not in forms.row_keys  # 30 of 32 would name the 2 others
    assert texts(rep, "chat.forms", "labour") == ["<5", "x"]


def test_internal_report_has_exact_numbers_of_one_organisation(chats: Chats) -> None:
    rep = report.build(year(), organisation=chats.other, language="en")
    assert rep.internal and all(t.internal for t in rep.tables())
    assert texts(rep, "chat.forms", "labour") == ["3", "27"]
    assert {f.label: f.text for f in rep.key_figures}["Of whom victims"] == "11"
    html = report.render_html(rep)
    assert "Internal: not for publication" in html


def test_series_reads_the_stored_yearly_values(chats: Chats) -> None:
    services.values_compute(year() - 1)
    services.values_compute(year())
    rep = report.build(year(), language="en")
    series = table(rep, "AL3-10")
    assert series.row_keys[-2:] == (str(year() - 1), str(year()))
    assert [line[0].text for line in series.cells[-2:]] == ["<5", "77"]


def test_the_digest_changes_with_the_rows_and_only_then(chats: Chats) -> None:
    first = report.build(year(), language="en").version
    again = report.build(year(), language="nl").version
    assert first.input_sha256 == again.input_sha256 and first.input_rows == 78
    assert re.fullmatch(r"[0-9a-f]{64}", first.input_sha256)
    coding = Coding.objects.filter(chat_date__year=year()).first()
    assert coding is not None
    coding.values = {**coding.values, "duration": "unknown"}
    coding.save()
    assert report.build(year(), language="en").version.input_sha256 != first.input_sha256


def test_bad_input_is_a_sentence() -> None:
    with pytest.raises(report.ReportError, match="kies een jaar van 2018"):
        report.check_input(1999)
    with pytest.raises(report.ReportError, match="kies pdf of html"):
        report.check_input(2024, "docx")
    with pytest.raises(report.ReportError, match="kies nl of en"):
        report.check_input(2024, "pdf", "de")


# --- rendering -----------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def row_line(text: str, label: str) -> str:
    """The table line that starts with ``label``; a label wrapped in its narrow column
    ("Jonger dan" / "12 <10 …") is joined first."""
    words = label.split(" ")
    for cut in range(1, len(words)):
        text = text.replace(" ".join(words[:cut]) + "\n" + " ".join(words[cut:]), label)
    return next(line for line in text.splitlines() if line.startswith(label + " "))


def test_html_in_both_languages(chats: Chats) -> None:
    english, rep = report.generate(year(), fmt="html", language="en")
    html = english.decode()
    assert '<html lang="en">' in html
    for heading in ("Key figures", "Forms of exploitation", "Parents as perpetrators",
                    "First disclosure", "Data version", rep.version.input_sha256,
                    "data:image/svg+xml;base64,", "&lt;10: fewer than 10", "&lt;5"):
        assert heading in html
    assert "<script" not in html
    dutch = report.generate(year(), fmt="html", language="nl")[0].decode()
    assert '<html lang="nl">' in dutch
    for word in ("Meisje/vrouw", "Jonger dan 12", "Unieke bezoekers van de chat",
                 "5 jaar of langer"):
        assert word in dutch


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "nl"])
def test_pdf_text_has_headings_numbers_and_marks(chats: Chats, language: str) -> None:
    data, rep = report.generate(year(), fmt="pdf", language=language)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    girl = "Girl/woman" if language == "en" else "Meisje/vrouw"
    assert girl in text.replace("/\n", "/")  # a narrow column wraps after the slash
    if language == "en":
        for heading in ("Key figures", "Visitors and help questions", "Minors",
                        "Data version", "Sources"):
            assert heading in text
    else:
        assert "Unieke bezoekers van de chat met een hulpvraag over mensenhandel" in text
    flat = re.sub(r"\s+", "", text)
    assert rep.version.input_sha256 in flat
    assert rep.version.catalogue_version in text and "disclosure-2026-1" in text
    under_12 = row_line(text, "Under 12" if language == "en" else "Jonger dan 12")
    assert "<10" in under_12 and " 2 " not in f" {under_12} "
    labour = row_line(text, "Labour exploitation" if language == "en" else "Arbeidsuitbuiting")
    assert "<5" in labour and " 3 " not in f" {labour} "
    for figure in ("77", "62", "55"):
        assert figure in text

