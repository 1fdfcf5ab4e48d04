from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from zichtbaar.accounts.roles import Role
from zichtbaar.audit.events import AuditEvent
from zichtbaar.audit.models import AppendOnlyError, AuditEntry
from zichtbaar.audit.record import record
from zichtbaar.audit.verify import chain_problems

pytestmark = pytest.mark.django_db


def test_viewing_a_member_record_writes_an_entry_with_purpose(make_user, staff_client) -> None:  # type: ignore[no-untyped-def]
    member = make_user(Role.COUNSELLOR, password=None, work_phone="+31 6 00000099")
    client = staff_client(Role.ADMIN)
    before = AuditEntry.objects.filter(event=AuditEvent.USER_VIEWED).count()
    response = client.get(f"/accounts/members/{member.pk}/")
    assert response.status_code == 200
    assert "+31 6 00000099" in response.content.decode()
    entry = AuditEntry.objects.filter(event=AuditEvent.USER_VIEWED).latest("seq")
    assert AuditEntry.objects.filter(event=AuditEvent.USER_VIEWED).count() == before + 1
    assert entry.object_type == "user" and entry.object_id == str(member.pk)
    assert entry.role == "admin"
    assert entry.purpose
    assert entry.action == "view"


def test_entries_cannot_be_changed_or_deleted_through_the_orm(db) -> None:  # type: ignore[no-untyped-def]
    entry = record(AuditEvent.AUDIT_SEARCHED, purpose="test")
    entry.purpose = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(purpose="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).purpose == "test"


def test_chain_is_intact_after_normal_use(db) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        record(AuditEvent.AUDIT_SEARCHED, purpose=f"p{i}", detail={"n": i})
    assert list(chain_problems()) == []
    call_command("audit_verify")


def _raw(sql: str, params: list) -> None:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_detects_a_manually_altered_row(db) -> None:  # type: ignore[no-untyped-def]
    entries = [record(AuditEvent.AUDIT_SEARCHED, purpose=f"p{i}") for i in range(4)]
    _raw("UPDATE audit_auditentry SET purpose = %s WHERE id = %s", ["tampered", entries[1].pk])
    problems = list(chain_problems())
    assert [p.seq for p in problems] == [entries[1].seq]
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code == 1


def test_verify_detects_a_removed_row(db) -> None:  # type: ignore[no-untyped-def]
    entries = [record(AuditEvent.AUDIT_SEARCHED, purpose=f"p{i}") for i in range(4)]
    _raw("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].pk])
    assert any("missing" in p.reason for p in chain_problems())


def test_verify_detects_removal_of_the_newest_row(db) -> None:  # type: ignore[no-untyped-def]
    entries = [record(AuditEvent.AUDIT_SEARCHED, purpose=f"p{i}") for i in range(3)]
    _raw("DELETE FROM audit_auditentry WHERE id = %s", [entries[-1].pk])
    assert any("removed" in p.reason for p in chain_problems())


def test_auditor_can_search_and_sees_only_own_organisation(make_user, staff_client, make_org) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.accounts.roles import OrganisationType

    other = make_org("Ander", OrganisationType.POLICE)
    theirs = make_user(Role.COUNSELLOR, other, password=None, username="their-member")
    client = staff_client(Role.AUDITOR)
    response = client.get("/audit/", {"event": "user_created"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Gebruiker {theirs.pk}<" not in html
    assert AuditEntry.objects.filter(event=AuditEvent.AUDIT_SEARCHED).exists()


def test_platform_operator_auditor_sees_every_organisation(make_user, make_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.accounts.roles import OrganisationType

    operator = make_org("Beheer", OrganisationType.PLATFORM_OPERATOR)
    theirs = make_user(Role.COUNSELLOR, make_org("Ander", OrganisationType.POLICE), password=None)
    client = staff_client(Role.AUDITOR, operator)
    html = client.get("/audit/", {"event": "user_created"}).content.decode()
    assert f"Gebruiker {theirs.pk}<" in html


def test_audit_search_rejects_bad_dates_with_field_errors(staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.AUDITOR)
    response = client.get("/audit/", {"date_from": "not-a-date", "event": "<script>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_date_from_error"' in html
    assert 'id="id_event_error"' in html
    assert "<script>" not in html.split("</head>")[1]


def test_export_neutralises_formula_cells(make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import verified_client

    admin = make_user(Role.ADMIN, password=None, username="=HYPERLINK(1)")
    body = verified_client(admin).get("/audit/export.csv").content.decode()
    rows = [line for line in body.splitlines() if "HYPERLINK" in line]
    assert rows, "the export should contain the admin's own export entry"
    assert all(",'=HYPERLINK(1)," in line for line in rows)
