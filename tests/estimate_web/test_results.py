"""Downloads, charts, reproduction, failures and the job runner of stored estimate runs."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import verified_client
from zichtbaar.audit.models import AuditEntry
from zichtbaar.estimate.web import jobs, services
from zichtbaar.estimate.web.models import EstimateRun, RunStatus


def audit_events(run: EstimateRun) -> list[str]:
    return list(AuditEntry.objects.filter(object_type="estimate_run", object_id=str(run.pk))
                .order_by("seq").values_list("event", flat=True))


@pytest.mark.django_db
def test_json_and_csv_downloads_carry_the_stored_result_and_are_audited(researcher,
                                                                        make_run) -> None:
    run = make_run(researcher, strata="groep")
    client = verified_client(researcher)
    payload = json.loads(client.get(f"/estimate/{run.pk}/result.json").content)
    assert payload["result"] == run.result
    assert payload["input_sha256"] == run.input_sha256
    assert payload["parameters"]["strata"] == "groep"
    response = client.get(f"/estimate/{run.pk}/result.csv")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["scope"] for r in rows] == ["total", "stratum", "stratum"]
    assert float(rows[0]["estimate"]) == pytest.approx(run.result["estimate"])
    assert rows[2]["status"] == "insufficient_data" and rows[2]["estimate"] == ""
    assert client.get(f"/estimate/{run.pk}/input.csv").content == run.input_bytes
    assert audit_events(run) == ["estimate_run_created", "estimate_result_downloaded",
                                 "estimate_result_downloaded", "estimate_input_downloaded"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["strata", "observed_hidden", "overlap"])
def test_charts_are_png_rendered_from_the_stored_result(researcher, make_run, kind) -> None:  # type: ignore[no-untyped-def]
    run = make_run(researcher, strata="groep")
    client = verified_client(researcher)
    inline = client.get(f"/estimate/{run.pk}/plot/{kind}.png")
    assert inline.status_code == 200
    assert inline["Content-Type"] == "image/png"
    assert inline.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Content-Disposition" not in inline
    assert audit_events(run) == ["estimate_run_created"]  # the <img> is part of the page view
    download = client.get(f"/estimate/{run.pk}/plot/{kind}.png?download=1")
    assert download.content == inline.content
    assert download["Content-Disposition"].startswith("attachment")
    assert audit_events(run)[-1] == "estimate_result_downloaded"


@pytest.mark.django_db
def test_strata_chart_is_not_offered_without_strata(researcher, make_run) -> None:
    run = make_run(researcher)
    client = verified_client(researcher)
    assert "plot/strata.png" not in client.get(f"/estimate/{run.pk}/").content.decode()
    assert client.get(f"/estimate/{run.pk}/plot/strata.png").status_code == 404
    assert client.get(f"/estimate/{run.pk}/plot/nonsense.png").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("parameters", [
    pytest.param({"strata": "groep"}, id="stepwise-strata"),
    pytest.param({"ci": "bootstrap", "n_boot": 200, "seed": 99}, id="seeded-bootstrap"),
])
def test_reproduce_gives_identical_result_on_identical_input(researcher, make_run,
                                                              parameters) -> None:  # type: ignore[no-untyped-def]
    original = make_run(researcher, **parameters)
    response = verified_client(researcher).post(f"/estimate/{original.pk}/reproduce/")
    copy = EstimateRun.objects.exclude(pk=original.pk).get()
    assert response["Location"] == f"/estimate/{copy.pk}/"
    assert copy.reproduces_id == original.pk
    assert copy.input_sha256 == original.input_sha256
    assert copy.parameters == original.parameters
    call_command("run_estimates")
    copy.refresh_from_db()
    assert copy.status == RunStatus.DONE
    assert copy.result == original.result


@pytest.mark.django_db
def test_inestimable_data_fail_with_the_library_sentence_not_a_traceback(researcher,
                                                                         make_run) -> None:
    never_overlap = b"A,B,C,count\n1,0,0,5\n0,1,0,7\n0,0,1,4\n"
    run = make_run(researcher, never_overlap)
    assert run.status == RunStatus.FAILED
    assert "in common" in run.error_en and "Traceback" not in run.error_en
    client = verified_client(researcher)
    html = client.get(f"/estimate/{run.pk}/").content.decode()
    assert run.error_nl in html.replace("&#x27;", "'")
    assert client.get(f"/estimate/{run.pk}/result.json").status_code == 404


@pytest.mark.django_db
def test_unexpected_failure_is_logged_and_the_user_gets_a_plain_sentence(researcher, make_run,
                                                                          caplog) -> None:  # type: ignore[no-untyped-def]
    run = make_run(researcher, execute=False)
    # A stored parameter that the library refuses with a programming error, not a data error.
    EstimateRun.objects.filter(pk=run.pk).update(parameters={**run.parameters, "seed": "x"})
    services.run_execute(run_id=run.pk, workers=1)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error_nl == services.UNEXPECTED_NL
    assert "estimate run" in caplog.text


@pytest.mark.django_db
def test_a_run_is_claimed_once(researcher, make_run) -> None:
    run = make_run(researcher, execute=False)
    assert services.run_execute(run_id=run.pk, workers=1) is True
    assert services.run_execute(run_id=run.pk, workers=1) is False
    assert services.runs_process_queued() == 0


@pytest.mark.django_db
def test_stale_running_runs_are_requeued_by_the_command(researcher, make_run) -> None:
    run = make_run(researcher, execute=False)
    EstimateRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    fresh = make_run(researcher, execute=False)
    EstimateRun.objects.filter(pk=fresh.pk).update(status=RunStatus.RUNNING,
                                                   started_at=timezone.now())
    call_command("run_estimates", "--requeue-after", "60")
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert fresh.status == RunStatus.RUNNING


@pytest.mark.django_db
def test_progress_partial_polls_until_done_then_redirects(researcher, make_run) -> None:
    run = make_run(researcher, execute=False)
    client = verified_client(researcher)
    EstimateRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress=0.4,
                                                 progress_text="bootstrap 400/1000")
    partial = client.get(f"/estimate/{run.pk}/progress/", headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="40"' in html
    assert "bootstrap 400/1000" in html
    EstimateRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    services.run_execute(run_id=run.pk, workers=1)
    done = client.get(f"/estimate/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert done.status_code == 204
    assert done["HX-Redirect"] == f"/estimate/{run.pk}/"
    assert audit_events(run) == ["estimate_run_created"]  # polling is not a view


@pytest.mark.django_db(transaction=True)
def test_submitted_run_is_computed_by_the_in_process_worker(researcher, three_lists) -> None:
    client = verified_client(researcher)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/estimate/new/", {
        "method": "stepwise", "ci": "bootstrap", "seed": "5", "level": "0.95",
        "n_boot": "300", "pthresh": "0.02",
        "file": SimpleUploadedFile("drie.csv", three_lists, content_type="text/csv")})
    run = EstimateRun.objects.get()
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.1)
    assert run.status == RunStatus.DONE, run.error_en
    assert run.result["ci_method"] == "bootstrap"
    assert run.progress == 1.0
    assert run.started_at is not None and run.finished_at >= run.started_at
    jobs._pool().submit(lambda: None).result(timeout=10)  # the worker is idle again
