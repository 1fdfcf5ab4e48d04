"""The report page: start, progress, download; access per capability and organisation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.monitor import report_jobs
from zichtbaar.monitor.report_events import ReportAuditEvent

from .test_report import Chats, make_chats, year

pytestmark = pytest.mark.django_db


@pytest.fixture
def chats(make_org: Callable[..., Organisation], fresh_cache: None, settings,  # type: ignore[no-untyped-def]
          tmp_path: Path) -> Chats:
    settings.DATA_DIR = tmp_path
    settings.ZICHTBAAR_REPORT_WORKER = "none"  # the test runs the job itself
    return make_chats(make_org)


def start(client: Client, **fields: str) -> str:
    data = {"year": str(year()), "language": "en", "format": "pdf", "scope": "national",
            **fields}
    response = client.post(reverse("monitor:reports"), data)
    assert response.status_code == 302, response.content
    return response["Location"].rstrip("/").split("/")[-1]


def events(name: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=name))


def test_start_progress_download(chats: Chats, staff_client: Callable[..., Client]) -> None:
    client = staff_client(Role.SUPERVISOR, chats.helpline)
    page = client.get(reverse("monitor:reports"))
    assert page.status_code == 200 and b"<form" in page.content
    job_id = start(client)
    status = client.get(reverse("monitor:report_status", args=[job_id]))
    assert status.status_code == 200
    body = status.content.decode()
    assert 'hx-get="/monitor/reports/' in body and "<noscript><meta http-equiv" in body
    assert "<script>" not in body and ' style="' not in body  # CSP: nothing inline
    progress_url = reverse("monitor:report_progress", args=[job_id])
    waiting = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert waiting.status_code == 200 and b"<progress" in waiting.content
    assert client.get(reverse("monitor:report_download", args=[job_id])).status_code == 404
    job = report_jobs.run(job_id)
    assert job is not None and job.status == "done", job
    finished = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert finished.status_code == 204
    assert finished["HX-Redirect"] == reverse("monitor:report_status", args=[job_id])
    assert b"chat-report-" in client.get(
        reverse("monitor:report_status", args=[job_id])).content
    download = client.get(reverse("monitor:report_download", args=[job_id]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    for name in (ReportAuditEvent.REPORT_REQUESTED, ReportAuditEvent.REPORT_GENERATED,
                 ReportAuditEvent.REPORT_DOWNLOADED):
        (entry,) = events(name)
        assert entry.object_id == job_id and entry.detail["year"] == year()
    assert events(ReportAuditEvent.REPORT_DOWNLOADED)[0].action == "export"


def test_internal_report_is_marked_and_stays_in_its_organisation(
        chats: Chats, staff_client: Callable[..., Client], make_org: Callable[...,
                                                                              Organisation],
        settings) -> None:  # type: ignore[no-untyped-def]
    settings.ZICHTBAAR_REPORT_WORKER = "inline"
    own = staff_client(Role.SUPERVISOR, chats.helpline)
    job_id = start(own, scope="internal", format="html", language="nl")
    download = own.get(reverse("monitor:report_download", args=[job_id]))
    html = b"".join(download.streaming_content).decode()  # type: ignore[attr-defined]
    assert "Intern: niet voor publicatie" in html and '<html lang="nl">' in html
    research = make_org("Onderzoek Elders", OrganisationType.RESEARCH)
    outsider = staff_client(Role.RESEARCHER, research)
    for name in ("monitor:report_status", "monitor:report_progress",
                 "monitor:report_download"):
        assert outsider.get(reverse(name, args=[job_id])).status_code == 404
    assert job_id not in outsider.get(reverse("monitor:reports")).content.decode()
    assert job_id in own.get(reverse("monitor:reports")).content.decode()


def test_without_monitor_view_nothing_is_reachable(
        chats: Chats, staff_client: Callable[..., Client]) -> None:
    job_id = start(staff_client(Role.SUPERVISOR, chats.helpline))
    counsellor = staff_client(Role.COUNSELLOR, chats.helpline)
    assert counsellor.get(reverse("monitor:reports")).status_code == 403
    assert counsellor.post(reverse("monitor:reports"), {"year": str(year())}).status_code == 403
    for name in ("monitor:report_status", "monitor:report_progress",
                 "monitor:report_download"):
        assert counsellor.get(reverse(name, args=[job_id])).status_code == 403
    assert Client().get(reverse("monitor:reports")).status_code in (302, 403)


def test_bad_request_and_unknown_job(chats: Chats, staff_client: Callable[..., Client]) -> None:
    client = staff_client(Role.RESEARCHER, chats.helpline)
    refused = client.post(reverse("monitor:reports"), {"year": "1999", "language": "de",
                                                        "format": "docx", "scope": "x"})
    assert refused.status_code == 400 and b"errorlist" in refused.content
    assert not events(ReportAuditEvent.REPORT_REQUESTED)
    for job_id in ("0" * 32, "../../etc", "not-a-job"):
        assert client.get(f"/monitor/reports/{job_id}/").status_code == 404


def test_a_failed_job_says_so(chats: Chats, staff_client: Callable[..., Client],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    client = staff_client(Role.RESEARCHER, chats.helpline)
    job_id = start(client)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer missing")

    monkeypatch.setattr("zichtbaar.monitor.report.generate", broken)
    assert report_jobs.run(job_id).status == "failed"  # type: ignore[union-attr]
    page = client.get(reverse("monitor:report_status", args=[job_id]))
    assert b"kon niet worden gemaakt" in page.content
    assert client.get(reverse("monitor:report_download", args=[job_id])).status_code == 404
