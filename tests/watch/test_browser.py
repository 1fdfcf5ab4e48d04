"""The analyst queue in headless Debian chromium: open a cluster, look at the image hashes,
label it and hand it to the hub, in Dutch, with the CSP intact (no console errors)."""

from __future__ import annotations

import pytest

from tests.conftest import verified_client
from zichtbaar.accounts.roles import Role
from zichtbaar.hub.models import Channel, Signal
from zichtbaar.watch.models import Cluster

from .conftest import store_synth

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_labels_a_cluster_and_hands_it_to_the_hub(browser, live_server, make_user,
                                                          watch_org, artifacts) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.watch import services

    store_synth(networks=3, independents=6, seed=21)
    services.link_pending()
    top = Cluster.objects.order_by("-score", "id").first()
    analyst = make_user(Role.ANALYST, watch_org, password=None)
    session = verified_client(analyst).cookies["zb_session"].value
    context = browser.new_context(locale="nl-NL")
    context.add_cookies([{"name": "zb_session", "value": session, "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/watch/")
    assert page.get_by_role("heading", name="Online monitoring: advertentienetwerken").is_visible()
    page.screenshot(path=str(artifacts / "watch-queue.png"), full_page=True)
    page.get_by_role("link", name=top.reference).click()
    assert page.locator("[data-testid=explanation] tbody tr").count() >= 1
    assert page.locator("mark").count() >= 1
    page.get_by_role("button", name="Afbeeldingshashes tonen").click()
    page.locator("[data-testid=image-hashes]").wait_for()
    page.get_by_role("combobox", name="Label").select_option("trafficking")
    page.get_by_role("button", name="Label opslaan").click()
    assert page.locator("[data-testid=label]").inner_text().strip() == "Mensenhandel vermoed"
    page.get_by_label("Ik heb gecontroleerd wat er wordt gedeeld").check()
    page.get_by_role("button", name="Overdragen aan de hub").click()
    page.locator(".messages").wait_for()
    page.screenshot(path=str(artifacts / "watch-cluster-handed-over.png"), full_page=True)
    top.refresh_from_db()
    signal = Signal.objects.get(channel=Channel.ONLINE)
    assert top.signal == signal
    assert page.locator("[data-testid=signal]").inner_text().strip() == signal.reference
    # Every timeline plot loads (served as SVG from our own origin, allowed by the CSP).
    for image in page.locator("img.timeline").all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle(), timeout=30_000)
    assert errors == []
    context.close()
