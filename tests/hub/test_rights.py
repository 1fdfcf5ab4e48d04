"""Retention, the data subject's access export and erasure: checked in the database itself
(raw SQL counts, encrypted columns read back) and in the audit trail."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from zichtbaar.accounts.roles import Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.hub import rights, services
from zichtbaar.hub.models import (
    DuplicateCandidate,
    ErasureRequest,
    Handover,
    Person,
    RetentionPolicy,
    Signal,
    Status,
)
from zichtbaar.hub.services import AttachmentInput

from .conftest import person, submit

pytestmark = pytest.mark.django_db

PDF = AttachmentInput("a.pdf", "application/pdf", "pdf", b"%PDF-1.4\n%%EOF")
ANA = {"given_name": "Ana", "surname": "Testova", "date_of_birth": "1999-04-01",
       "phone": "+31612345678"}


def rows(table: str, where: str = "", params: tuple = ()) -> int:  # type: ignore[type-arg]
    """Count in the table itself, past the ORM: what a deletion left behind."""
    assert table.startswith("hub_") and table.isidentifier()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} {where}", params)  # noqa: S608
        return int(cursor.fetchone()[0])


def close(signal: Signal, days_ago: int) -> None:
    """Closed ``days_ago`` days ago (the service closes now; the clock is moved here)."""
    services.signal_close(actor=None, signal=signal, reason="no_indication")
    Signal.objects.filter(pk=signal.pk).update(
        closed_at=timezone.now() - dt.timedelta(days=days_ago))


# --- retention -----------------------------------------------------------------------------

def test_retention_deletes_expired_signals_with_everything_and_keeps_the_audit(world) -> None:  # type: ignore[no-untyped-def]
    old = submit(forms=["labour"], persons=[person(**ANA)], attachments=[PDF])
    handed = submit(forms=["labour"], persons=[person(given_name="Bo", surname="Test",
                                                      date_of_birth="1990-01-01")])
    handover = services.handover_create(actor=None, signal=handed, partner=world.inspectorate)
    services.handover_report_outcome(actor=None, handover=handover, outcome="no_action")
    recent = submit(forms=["labour"], persons=[person(given_name="Cy", surname="Test")])
    still_open = submit(forms=["labour"], persons=[person(given_name="Di", surname="Test")])
    close(old, 400)          # past 365 days, no handover
    close(handed, 400)       # handed over: 730 days, so kept
    close(recent, 10)
    assert rows("hub_signal") == 4 and rows("hub_person") == 4 and rows("hub_attachment") == 1

    call_command("hub_retention", "--dry-run")
    assert rows("hub_signal") == 4
    assert not AuditEntry.objects.filter(event="hub_retention_run").exists()

    call_command("hub_retention")
    assert rows("hub_signal", "WHERE id = %s", (old.pk,)) == 0
    assert rows("hub_person", "WHERE signal_id = %s", (old.pk,)) == 0
    assert rows("hub_attachment") == 0
    assert rows("hub_signal") == 3 and rows("hub_person") == 3
    assert {still_open.pk, recent.pk, handed.pk} == set(Signal.objects.values_list("pk",
                                                                                   flat=True))
    entry = AuditEntry.objects.get(event="hub_signal_deleted", object_id=str(old.pk))
    assert entry.detail["state"] == "closed_no_action" and entry.detail["persons"] == 1
    assert entry.detail["attachments"] == 1 and entry.detail["linkage_keys"] >= 2
    run = AuditEntry.objects.get(event="hub_retention_run")
    assert run.detail["signals"]["closed_no_action"] == 1

    # Two years on, the handed-over signal goes too; its handover row with it, while the
    # handover's audit entry (basis, purpose, when) stays in the trail.
    Signal.objects.filter(pk=handed.pk).update(closed_at=timezone.now() - dt.timedelta(days=800))
    call_command("hub_retention")
    assert rows("hub_signal", "WHERE id = %s", (handed.pk,)) == 0
    assert rows("hub_handover") == 0
    kept = AuditEntry.objects.get(event="hub_handover_created", object_id=str(handover.pk))
    assert kept.detail["legal_basis"] == "public_task" and kept.purpose
    deleted = AuditEntry.objects.get(event="hub_signal_deleted", object_id=str(handed.pk))
    assert deleted.detail["handovers"] == [handover.pk]


def test_retention_holds_a_signal_whose_partner_has_not_reported_back(world, capsys) -> None:  # type: ignore[no-untyped-def]
    signal = submit(forms=["labour"], persons=[person(**ANA)])
    services.handover_create(actor=None, signal=signal, partner=world.inspectorate)
    close(signal, 5000)
    call_command("hub_retention")
    assert rows("hub_signal", "WHERE id = %s", (signal.pk,)) == 1
    assert "held (a partner has not reported an outcome yet): 1" in capsys.readouterr().out


def test_retention_periods_are_per_desk_and_editable(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    signal = submit(forms=["labour"])
    close(signal, 40)
    client = staff_client(Role.ADMIN, world.desk)
    bad = client.post("/hub/bewaartermijnen/", {"closed_no_action_days": "5",
                                                "closed_handed_over_days": "x",
                                                "merged_days": "60"})
    assert bad.status_code == 400 and "30" in bad.content.decode()
    response = client.post("/hub/bewaartermijnen/", {"closed_no_action_days": "30",
                                                     "closed_handed_over_days": "365",
                                                     "merged_days": "60"})
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(organisation=world.desk).closed_no_action_days == 30
    assert AuditEntry.objects.filter(event="hub_retention_policy_changed").exists()
    report = rights.retention_apply()
    assert report.signals["closed_no_action"] == 1
    assert rows("hub_signal") == 0


def test_merged_shell_is_deleted_after_its_period(world, make_user) -> None:  # type: ignore[no-untyped-def]
    analyst = make_user(Role.ANALYST, world.desk, password=None)
    shell, into = submit(indicators=["VU02"]), submit(indicators=["FL07"])
    services.signal_merge(actor=analyst, signal=shell, into=into)
    Signal.objects.filter(pk=shell.pk).update(closed_at=timezone.now() - dt.timedelta(days=400))
    rights.retention_apply()
    assert rows("hub_signal", "WHERE id = %s", (shell.pk,)) == 0
    assert rows("hub_signal", "WHERE id = %s", (into.pk,)) == 1


# --- access export -------------------------------------------------------------------------

@pytest.fixture
def ana(world):  # type: ignore[no-untyped-def]
    """Ana appears in two signals (linked by her keyed hashes); one went to the police."""
    first = submit(forms=["sexual"], persons=[person(**ANA),
                                              person(role="suspect", given_name="Max",
                                                     surname="Dader")])
    second = submit(forms=["labour"], persons=[person(**ANA)])
    handover = services.handover_create(actor=None, signal=first, partner=world.police)
    return {"first": first, "second": second, "handover": handover,
            "person": first.persons.get(role="victim")}


def test_access_export_json_has_decrypted_data_signals_and_handovers(world, ana,
                                                                      staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ADMIN, world.desk)
    url = f"/hub/rechten/personen/{ana['person'].pk}/inzage/"
    missing = client.post(url, {"purpose": "", "format": "json"})
    assert missing.status_code == 400
    assert not AuditEntry.objects.filter(event="hub_subject_access_exported").exists()
    response = client.post(url, {"purpose": "Inzageverzoek 2026-03", "format": "json"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert {r["signal"] for r in data["records"]} == {ana["first"].reference,
                                                      ana["second"].reference}
    assert all(r["given_name"] == "Ana" and r["phone"] == "+31612345678"
               for r in data["records"])
    assert "Max" not in response.content.decode()  # the suspect is someone else
    (handover,) = data["handovers"]
    assert handover["partner"] == world.police.name and handover["legal_basis"] == "wpg"
    assert handover["purpose"] == "Opsporing mensenhandel"
    assert handover["your_identity_included"] is True
    assert "victim_identity" in handover["fields"] and "reporter_contact" not in handover["fields"]
    entry = AuditEntry.objects.get(event="hub_subject_access_exported")
    assert entry.purpose == "Inzageverzoek 2026-03" and entry.detail["format"] == "json"
    assert "Ana" not in json.dumps(entry.detail)


def test_access_export_html_is_readable_in_dutch(world, ana, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.SUPERVISOR, world.desk)
    response = client.post(f"/hub/rechten/personen/{ana['person'].pk}/inzage/",
                           {"purpose": "Inzageverzoek", "format": "html"})
    page = response.content.decode()
    assert response.status_code == 200 and "Testova" in page
    assert "Wie uw gegevens ontving" in page and world.police.name in page


def test_lookup_by_identifiers_finds_the_records_through_keyed_hashes(world, ana,
                                                                       staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ADMIN, world.desk)
    response = client.post("/hub/rechten/", {"phone": "06 12345678"})
    table = response.content.decode().split('data-testid="persons"')[1].split("</table>")[0]
    assert ana["first"].reference in table and ana["second"].reference in table
    assert "Dader" not in table
    entry = AuditEntry.objects.get(event="hub_persons_looked_up")
    assert len(entry.detail["matches"]) == 2 and "0612345678" not in json.dumps(entry.detail)
    empty = client.post("/hub/rechten/", {"given_name": "Ana"})
    assert empty.status_code == 400 and "geboortedatum" in empty.content.decode()


# --- erasure -------------------------------------------------------------------------------

def test_erasure_is_refused_while_the_police_handover_is_open(world, ana, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, world.desk, password=None)
    request = rights.erasure_request(actor=admin, person=ana["person"], note="Verzoek")
    assert request.state == ErasureRequest.State.REFUSED
    assert request.refusal == rights.HOLD_HANDOVER_OPEN
    assert AuditEntry.objects.get(event="hub_erasure_refused").detail["reason"] == "handover_open"
    assert Person.objects.get(pk=ana["person"].pk).surname == "Testova"

    services.handover_report_outcome(actor=None, handover=ana["handover"],
                                     outcome="case_opened")
    again = rights.erasure_request(actor=admin, person=ana["person"], note="Verzoek")
    assert again.refusal == rights.HOLD_CASE_OPENED


def test_erasure_needs_a_second_person_then_removes_identity_and_keys(world, ana, make_user,
                                                                      staff_client) -> None:  # type: ignore[no-untyped-def]
    services.handover_report_outcome(actor=None, handover=ana["handover"], outcome="no_action")
    first = make_user(Role.ADMIN, world.desk, password=None)
    request = rights.erasure_request(actor=first, person=ana["person"], note="Verzoek per brief")
    assert request.state == ErasureRequest.State.PENDING
    with pytest.raises(services.HubError, match="erasure_second_person"):
        rights.erasure_decide(actor=first, request=request, approve=True)

    client = staff_client(Role.SUPERVISOR, world.desk)
    response = client.post(f"/hub/rechten/verzoeken/{request.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == ErasureRequest.State.ERASED
    assert request.result["notify_partners"] == [world.police.pk]

    ids = [ana["person"].pk, ana["second"].persons.get().pk]
    assert sorted(request.result["records"]) == sorted(ids)
    for pk in ids:
        p = Person.objects.get(pk=pk)
        assert (p.given_name, p.surname, p.date_of_birth, p.phone) == ("", "", "", "")
        assert (p.key_name_dob, p.key_phone, p.key_email, p.bloom) == ("", "", "", "")
    placeholders = ",".join(["%s"] * len(ids))
    assert rows("hub_person", f"WHERE id IN ({placeholders}) AND (key_name_dob <> '' OR "
                f"key_phone <> '' OR bloom <> '')", tuple(ids)) == 0
    suspect = ana["first"].persons.get(role="suspect")
    assert suspect.surname == "Dader"  # someone else's data stays
    payload = services.handover_payload(Handover.objects.get(pk=ana["handover"].pk))
    assert all(entry.get("surname") != "Testova" for entry in payload["victim_identity"])
    entry = AuditEntry.objects.get(event="hub_person_erased")
    assert entry.detail["requested_by"] == first.pk and "Testova" not in json.dumps(entry.detail)
    # Her identifiers no longer find anything.
    found = staff_client(Role.ADMIN, world.desk).post("/hub/rechten/", {"phone": "0612345678"})
    assert ana["first"].reference not in found.content.decode().split(
        'data-testid="persons"')[1].split("</table>")[0]


def test_erasure_request_can_be_rejected_and_drops_duplicate_candidates(world, make_user) -> None:  # type: ignore[no-untyped-def]
    a = submit(persons=[person(**ANA)])
    b = submit(persons=[person(given_name="Anna", surname="Testova", date_of_birth="1999-04-01")])
    pa, pb = a.persons.get(), b.persons.get()
    DuplicateCandidate.objects.create(organisation=world.desk, person_a=pa, person_b=pb,
                                      probability=0.95)
    first, second = (make_user(Role.ADMIN, world.desk, password=None) for _ in range(2))
    rejected = rights.erasure_decide(
        actor=second, request=rights.erasure_request(actor=first, person=pa), approve=False)
    assert rejected.state == ErasureRequest.State.REJECTED
    assert AuditEntry.objects.filter(event="hub_erasure_rejected").exists()
    erased = rights.erasure_decide(
        actor=second, request=rights.erasure_request(actor=first, person=pa), approve=True)
    assert erased.state == ErasureRequest.State.ERASED
    assert rows("hub_duplicatecandidate") == 0
    assert Signal.objects.get(pk=a.pk).status == Status.NEW  # the signal itself stays


def test_malformed_input_on_rights_pages_is_answered_not_crashed(world, ana, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ADMIN, world.desk)
    assert client.get(f"/hub/rechten/personen/{'9' * 30}/").status_code == 404
    assert client.post(f"/hub/rechten/verzoeken/{'9' * 30}/",
                       {"decision": "approve"}).status_code == 404
    bad = client.post("/hub/rechten/", {"reference": "S-12ab", "email": "geen-adres"})
    assert bad.status_code == 400 and "S-000123" in bad.content.decode()
    huge = client.post(f"/hub/rechten/personen/{ana['person'].pk}/inzage/",
                       {"purpose": "x" * 5000, "format": "pdf"})
    assert huge.status_code == 400
    assert not AuditEntry.objects.filter(event="hub_subject_access_exported").exists()
