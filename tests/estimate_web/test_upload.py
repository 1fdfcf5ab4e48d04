"""The upload form: good files become queued runs; bad files get a sentence and store nothing."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.conftest import verified_client
from zichtbaar.audit.models import AuditEntry
from zichtbaar.estimate.web.models import EstimateRun, RunStatus

pytestmark = pytest.mark.django_db


def post(client, data: bytes, name: str = "lijsten.csv", **fields: object):  # type: ignore[no-untyped-def]
    form = {"method": "stepwise", "ci": "default", "seed": "1234", "level": "0.95",
            "n_boot": "1000", "pthresh": "0.02", **fields,
            "file": SimpleUploadedFile(name, data, content_type="text/csv")}
    return client.post("/estimate/new/", form)


def test_upload_queues_run_with_exact_input_and_worker_finishes_it(researcher,
                                                                   three_lists) -> None:
    client = verified_client(researcher)
    response = post(client, three_lists, strata="groep", seed="77")
    run = EstimateRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/estimate/{run.pk}/"
    assert run.status == RunStatus.QUEUED
    assert run.organisation_id == researcher.organisation_id
    assert run.input_bytes == three_lists
    assert run.input_sha256 == hashlib.sha256(three_lists).hexdigest()
    assert run.parameters == {"method": "stepwise", "ci": "default", "strata": "groep",
                              "covariates": [], "seed": 77, "level": 0.95, "n_boot": 1000,
                              "pthresh": 0.02}
    # The input is encrypted at rest: the raw column holds no readable CSV.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT input_data FROM estimate_estimaterun WHERE id = %s", [run.pk])
        raw = cursor.fetchone()[0]
    assert "noord" not in raw and raw.startswith("gAAAA")
    assert AuditEntry.objects.filter(event="estimate_run_created", object_id=str(run.pk)).exists()

    waiting = client.get(f"/estimate/{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in waiting

    call_command("run_estimates")
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.result["observed"] == 236
    assert run.result["seed"] == 77
    assert [s["stratum"] for s in run.result["strata"]] == ["noord", "zuid"]


def test_result_page_shows_numbers_warnings_strata_and_plots(researcher, make_run) -> None:
    run = make_run(researcher, strata="groep")
    html = verified_client(researcher).get(f"/estimate/{run.pk}/").content.decode()
    estimate = run.result["estimate"]
    assert f"{estimate:,.0f}".replace(",", ".") in html  # Dutch thousands separator
    assert "geschatte slachtoffers" in html
    assert "Te weinig gegevens voor een schatting." in html  # stratum 'zuid'
    assert "de lijsten overlappen niet" in html
    assert f"/estimate/{run.pk}/plot/strata.png" in html
    assert f"/estimate/{run.pk}/plot/overlap.png" in html
    assert "hx-trigger" not in html
    assert AuditEntry.objects.filter(event="estimate_run_viewed", object_id=str(run.pk)).count() == 1


def test_result_page_in_english(researcher, make_run) -> None:
    run = make_run(researcher, ci="model")  # SparseMSE's interval carries an English warning
    client = verified_client(researcher)
    client.cookies["zb_lang"] = "en"
    html = client.get(f"/estimate/{run.pk}/").content.decode()
    assert "estimated victims" in html
    assert "This interval takes the chosen model as given" in html


BAD = [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "file", "geen CSV", id="not-csv"),
    pytest.param(b"A,B,count\n" + b"1,0,1\n" * 900_000, {}, "file", "groter dan 5 MB",
                 id="oversized"),
    pytest.param(b"   \n\n", {}, "file", "leeg", id="empty"),
    pytest.param(b"A,A,count\n1,0,3\n0,1,4\n", {}, "file", "komt twee keer voor",
                 id="duplicate-column"),
    pytest.param(b"A,count\n1,3\n", {}, "file", "minstens twee lijsten", id="one-list"),
    pytest.param(b"A,B,count\n1,0,3.5\n0,1,2\n1,1,1\n", {}, "file", "Regel 2",
                 id="fractional-count"),
    pytest.param(b"A,B,count\n1,0,-3\n0,1,2\n1,1,1\n", {}, "file", "negatief",
                 id="negative-count"),
    pytest.param(b"A,B,count\n0,0,3\n0,1,4\n1,1,2\n", {}, "file", "geen enkele lijst",
                 id="all-zero-history"),
    pytest.param(None, {"strata": "leeftijd"}, "strata", "geen kolom 'leeftijd'",
                 id="unknown-strata-column"),
    pytest.param(None, {"strata": "groep; DROP"}, "strata", "kolomnaam",
                 id="hostile-column-name"),
    pytest.param(None, {"method": "lcmcr", "ci": "bootstrap"}, "ci", "past niet",
                 id="interval-not-for-method"),
    pytest.param(None, {"method": "magic"}, "method", "geen beschikbare keuze",
                 id="unknown-method"),
    pytest.param(None, {"seed": "-1"}, "seed", "minstens 0", id="bad-seed"),
]


@pytest.mark.parametrize(("data", "fields", "field", "message"), BAD)
def test_bad_input_gets_clear_message_and_stores_nothing(researcher, three_lists, data, fields,
                                                         field, message) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(researcher)
    entries = AuditEntry.objects.count()
    response = post(client, three_lists if data is None else data, **fields)
    assert response.status_code == 400
    errors = response.context["form"].errors.get(field) or [response.context.get("upload_error")]
    assert message in " ".join(map(str, errors)), errors
    assert EstimateRun.objects.count() == 0
    assert AuditEntry.objects.count() == entries
    assert "Traceback" not in response.content.decode()


def test_bad_input_message_in_english(researcher) -> None:
    client = verified_client(researcher)
    client.cookies["zb_lang"] = "en"
    response = post(client, b"A,B,count\n1,0,3.5\n0,1,2\n1,1,1\n")
    assert response.status_code == 400
    assert "a count must be a whole number" in response.content.decode()
    assert EstimateRun.objects.count() == 0


def test_missing_file_is_a_form_error(researcher) -> None:
    client = verified_client(researcher)
    response = client.post("/estimate/new/", {"method": "stepwise", "ci": "default",
                                              "seed": "1", "level": "0.95", "n_boot": "1000",
                                              "pthresh": "0.02"})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert EstimateRun.objects.count() == 0
