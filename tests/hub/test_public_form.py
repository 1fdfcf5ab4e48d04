"""The public reporting form: anonymous, receipt code, rate limit, no address, safe files."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client, override_settings

from zichtbaar.audit.models import AuditEntry
from zichtbaar.hub.models import Attachment, Channel, Signal, SignalUpdate

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.77"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
PE = b"MZ" + b"\x90" * 58 + b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00" + b"\x00" * 200


def post(client: Client, **data):  # type: ignore[no-untyped-def]
    body = {"description": "Synthetisch: buurman werkt 14 uur per dag.", "minor": "unknown",
            **data}
    return client.post("/melden/", body, REMOTE_ADDR=ADDRESS)


def uploaded(name: str, content: bytes):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_form_is_dutch_and_asks_plain_questions(world) -> None:  # type: ignore[no-untyped-def]
    html = Client().get("/melden/").content.decode()
    assert "Mensenhandel melden" in html or "mensenhandel" in html
    assert "Heeft iemand anders het paspoort of ID-bewijs van de persoon?" in html
    assert "FL07" not in html.split("<form")[0]


def test_anonymous_report_is_stored_coded_and_gets_a_receipt(world) -> None:  # type: ignore[no-untyped-def]
    response = post(Client(), ind_ilo=["FL07", "FL11"], forms_=["labour"], municipality="Zwolle")
    assert response.status_code == 201
    receipt = response.context["receipt"]
    assert len(receipt) == 19 and receipt.count("-") == 3
    signal = Signal.objects.get()
    assert signal.channel == Channel.PUBLIC_FORM and signal.organisation == world.desk
    assert signal.indicators == ["FL07", "FL11"] and signal.score == 4
    assert signal.reporter_contact == "" and signal.submitted_by is None
    assert receipt not in (signal.receipt_hash or "")
    assert signal.routing_proposal == [{"partner_type": "labour_inspectorate",
                                        "rules": ["labour"]}]
    assert AuditEntry.objects.filter(event="hub_signal_submitted",
                                     object_id=str(signal.pk)).exists()


def test_receipt_code_adds_information_later(world) -> None:  # type: ignore[no-untyped-def]
    receipt = post(Client()).context["receipt"]
    client = Client()
    wrong = client.post("/melden/aanvullen/", {"receipt_code": "AAAA-BBBB-CCCC-DDDD",
                                               "text": "x"})
    assert wrong.status_code == 400 and "id_receipt_code_error" in wrong.content.decode()
    added = client.post("/melden/aanvullen/", {"receipt_code": receipt.lower().replace("-", " "),
                                               "text": "Synthetisch: het busje komt vrijdag.",
                                               "attachments": [uploaded("a.pdf", PDF)]})
    assert added.status_code == 201
    update = SignalUpdate.objects.get()
    assert update.text == "Synthetisch: het busje komt vrijdag."
    assert Attachment.objects.get().content_type == "application/pdf"


@override_settings(HUB_RATE_LIMITS={"report": (3, 3600)})
def test_rate_limit_refuses_the_fourth_report_in_the_window(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert [post(client).status_code for _ in range(3)] == [201, 201, 201]
    refused = post(client)
    assert refused.status_code == 429
    assert "112" in refused.content.decode()
    assert Signal.objects.count() == 3
    other = Client().post("/melden/", {"description": "x", "minor": "unknown"},
                          REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 201


def test_no_ip_address_is_stored_or_logged(world, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    post(Client(), contact_email="melder@example.invalid")
    assert ADDRESS not in caplog.text
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # table names from introspection
            for row in cursor.fetchall():
                assert ADDRESS not in repr(row), table
                assert "melder@example.invalid" not in repr(row), table  # encrypted at rest


def test_hostile_input_is_escaped_on_the_staff_page(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.accounts.roles import Role

    post(Client(), description="<script>alert('x')</script>", municipality="<b>Zwolle</b>")
    signal = Signal.objects.get()
    html = staff_client(Role.ANALYST, world.desk).get(f"/hub/signalen/{signal.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Zwolle&lt;/b&gt;" in html


@pytest.mark.parametrize(("name", "content"), [("rapport.pdf", ELF), ("foto.pdf", PE),
                                               ("leeg.png", b"")])
def test_files_are_judged_by_content_not_name(world, name, content) -> None:  # type: ignore[no-untyped-def]
    response = post(Client(), attachments=[uploaded(name, content)])
    assert response.status_code == 400
    html = response.content.decode()
    assert "id_attachments_error" in html
    assert name in html
    assert Signal.objects.count() == 0


def test_oversized_file_is_refused_with_a_clear_message(world) -> None:  # type: ignore[no-untyped-def]
    response = post(Client(), attachments=[uploaded("groot.pdf", PDF + b"0" * (4 * 1024 * 1024))])
    assert response.status_code == 400
    assert "groter dan 4 MB" in response.content.decode()


def test_a_real_pdf_is_accepted_and_stored_encrypted(world) -> None:  # type: ignore[no-untyped-def]
    assert post(Client(), attachments=[uploaded("brief.pdf", PDF)]).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM hub_attachment")
        (stored,) = cursor.fetchone()
    assert "%PDF" not in stored and "JVBER" not in stored  # neither raw nor plain base64


def test_missing_description_and_garbage_get_field_errors(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/melden/", {"minor": "maybe", "ind_ilo": ["ZZ99"],
                                          "victim_date_of_birth": "2999-01-01",
                                          "contact_email": "geen-adres",
                                          "description": "a\x00b"})
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("description", "minor", "ind_ilo", "victim_date_of_birth", "contact_email"):
        assert f'id="id_{field}_error"' in html, field
    assert Signal.objects.count() == 0
