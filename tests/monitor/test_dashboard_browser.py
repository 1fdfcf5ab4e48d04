"""The national monitor dashboard in headless Debian chromium: a ministry coordinator sees the
five action lines, every chart image loads, every chart has its table, the CSP is sent and
the browser reports no console errors (nothing inline was blocked)."""

from __future__ import annotations

import pytest

from tests.conftest import verified_client
from tests.monitor.conftest import load_monitor_demo
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.monitor import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/monitor-dashboard.png"


def _images_load(page) -> int:  # type: ignore[no-untyped-def]
    images = page.locator("img.monitor-svg").all()
    for image in images:
        image.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle(), timeout=30_000)
    return len(images)


def test_ministry_coordinator_sees_the_five_action_lines(browser, live_server, make_user,
                                                         make_org, artifacts) -> None:  # type: ignore[no-untyped-def]
    load_monitor_demo(make_org)
    ministry = make_org("Ministerie van Justitie en Veiligheid (demo)", OrganisationType.MINISTRY)
    coordinator = make_user(Role.COORDINATOR, ministry, password=None)
    session = verified_client(coordinator).cookies["zb_session"].value
    context = browser.new_context(locale="nl-NL", viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "zb_session", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    response = page.goto(f"{live_server.url}/monitor/?year_from=2014")
    assert response is not None and response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    for line in ("AL1", "AL2", "AL3", "AL4", "AL5"):
        assert page.locator(f"[data-testid=section-{line}]").is_visible()
    assert page.get_by_role("link", name="Monitor").first.is_visible()
    loaded = _images_load(page)
    assert loaded >= 12
    # Every chart image has a table beside it, with rows.
    for chart in page.locator(".monitor-chart:has(img.monitor-svg)").all():
        assert chart.locator("table.monitor-table tbody tr").count() >= 1
        assert chart.locator("img.monitor-svg").get_attribute("alt")
    page.evaluate("window.scrollTo(0, document.getElementById('AL1').offsetTop - 10)")
    page.screenshot(path=SCREENSHOT, full_page=False)
    page.screenshot(path=str(artifacts / "monitor-dashboard-full.png"), full_page=True)

    # The public view, signed out, also loads its charts under the same CSP.
    public = browser.new_context(locale="nl-NL").new_page()
    public.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = public.goto(f"{live_server.url}/monitor/public/")
    assert response is not None and response.status == 200
    assert "content-security-policy" in response.headers
    assert _images_load(public) >= 12
    assert errors == []
    context.close()


def test_own_organisation_page_is_marked_not_for_publication(browser, live_server, make_user,
                                                             make_org, artifacts) -> None:  # type: ignore[no-untyped-def]
    load_monitor_demo(make_org)
    helpline = make_org(demo.HELPLINE, OrganisationType.CARE_NGO)
    supervisor = make_user(Role.SUPERVISOR, helpline, password=None)
    session = verified_client(supervisor).cookies["zb_session"].value
    context = browser.new_context(locale="nl-NL", viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "zb_session", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(f"{live_server.url}/monitor/organisation/")
    assert response is not None and response.status == 200
    assert page.locator("[data-testid=internal-mark]").is_visible()
    assert _images_load(page) >= 3
    page.screenshot(path=str(artifacts / "monitor-organisation.png"), full_page=True)
    assert errors == []
    context.close()
