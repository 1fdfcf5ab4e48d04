"""A researcher uploads a file in a real browser, watches the job and reads the estimate."""

from __future__ import annotations

import re

import pytest

from tests.conftest import verified_client
from zichtbaar.estimate.web.models import EstimateRun, RunStatus

from .conftest import DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_researcher_uploads_csv_and_sees_the_estimate(browser, live_server, researcher,
                                                      artifacts) -> None:  # type: ignore[no-untyped-def]
    session = verified_client(researcher).cookies["zb_session"].value
    context = browser.new_context(locale="nl-NL")
    context.add_cookies([{"name": "zb_session", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/estimate/")
    page.get_by_role("link", name="Nieuwe schatting").click()
    page.get_by_label("Vangstgeschiedenissen (CSV)").set_input_files(
        str(DATA / "three_lists.csv"))
    page.get_by_label("Kolom voor groepen (strata)").fill("groep")
    page.get_by_label("Interval").select_option("bootstrap")
    page.get_by_role("button", name="Schatting starten").click()
    page.wait_for_url(re.compile(r"/estimate/\d+/$"))
    # htmx polls the progress partial and loads the result page once the job is done.
    page.get_by_role("heading", name="Resultaat").wait_for(timeout=60_000)

    run = EstimateRun.objects.get()
    assert run.status == RunStatus.DONE
    estimate = f"{run.result['estimate']:,.0f}".replace(",", ".")
    headline = page.locator(".headline").inner_text()
    assert estimate in headline and "geschatte slachtoffers" in headline
    assert page.get_by_role("cell", name="zuid").is_visible()
    for image in page.locator(".charts img").all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle(), timeout=30_000)
    page.screenshot(path=str(artifacts / "estimate-result.png"), full_page=True)
    # issue 14, point 6: the candidate table's df column is filled in, with the fit's df
    table = page.locator("table", has=page.locator(
        "caption", has_text="Kandidaatmodellen en selectiestappen"))
    assert table.locator("thead th").last.inner_text().strip() == "df"
    shown = [t.strip() for t in table.locator("tbody tr td:last-child").all_inner_texts()]
    expected = [str(c["df"]) for c in run.result["candidates"]]
    assert shown and all(t.isdigit() for t in shown)
    assert shown == expected[: len(shown)]
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "estimate-candidates-df.png"), full_page=True)
    assert errors == []  # CSP violations and script errors show up as console errors
    context.close()
