"""``zichtbaar report chat`` as a subprocess on a fresh data folder, as an operator runs it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.test_cli import base_env, run

pytestmark = pytest.mark.slow
YEAR = dt.date.today().year

SEED = f"""
import datetime as dt
from zichtbaar.accounts.services import organisation_create
from zichtbaar.helpline.models import Coding, Conversation
org = organisation_create(name="Hulplijn CLI", type="care_ngo")
def chat(values, times):
    for _ in range(times):
        c = Conversation.objects.create(organisation=org, status="ended", consent=True)
        Coding.objects.create(conversation=c, organisation=org, codebook_version="2026.1",
                              values=values, complete=True, chat_date=dt.date({YEAR}, 2, 1))
v = {{"help_question_trafficking": "yes", "visitor_role": "victim", "gender": "girl_woman",
     "age_band": "16_17", "risk_level": "high", "exploitation_forms": ["sexual"]}}
chat(v, 40)
chat({{**v, "exploitation_forms": ["labour"], "age_band": "24_plus"}}, 3)
print(org.slug)
"""


def test_report_chat_pdf_and_html_on_a_fresh_data_folder(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    out = tmp_path / "report.pdf"
    empty = run(["report", "chat", "--year", str(YEAR), "--format", "pdf", "--lang", "en",
                 "--out", str(out)], env)  # migrates itself; no chats yet
    assert empty.returncode == 0, empty.stderr
    assert "written to" in empty.stdout and out.read_bytes().startswith(b"%PDF")
    seeded = run(["manage", "shell", "-c", SEED], env)
    assert seeded.returncode == 0, seeded.stderr
    slug = seeded.stdout.strip().splitlines()[-1]
    made = run(["report", "chat", "--year", str(YEAR), "--format", "pdf", "--lang", "en",
                "--out", str(out)], env)
    assert made.returncode == 0, made.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "Key figures" in text and "Data version" in text
    labour = next(line for line in text.splitlines() if line.startswith("Labour exploitation "))
    assert "<5" in labour and " 3 " not in f" {labour} "
    html = tmp_path / "intern.html"
    internal = run(["report", "chat", "--year", str(YEAR), "--format", "html", "--lang", "nl",
                    "--out", str(html), "--organisation", slug], env)
    assert internal.returncode == 0, internal.stderr
    page = html.read_text(encoding="utf-8")
    assert '<html lang="nl">' in page and "niet voor publicatie" in page
    verify = run(["audit", "verify"], env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "1999"], "choose a year from 2018"),
    (["--year", "soon"], "invalid int value"),
    (["--year", str(YEAR), "--format", "docx"], "invalid choice: 'docx'"),
    (["--year", str(YEAR), "--lang", "de"], "invalid choice: 'de'"),
    (["--year", str(YEAR), "--organisation", "nobody"], "Unknown organisation 'nobody'"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, args: list[str],
                                                message: str) -> None:
    result = run(["report", "chat", "--out", str(tmp_path / "r.pdf"), *args],
                 base_env(tmp_path / "data"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unwritable_out_exits_2_before_any_work(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    for out, message in ((tmp_path / "missing" / "r.pdf", "does not exist"),
                         (tmp_path, "it is a folder")):
        result = run(["report", "chat", "--year", str(YEAR), "--out", str(out)], env)
        assert result.returncode == 2
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before Django was even set up
