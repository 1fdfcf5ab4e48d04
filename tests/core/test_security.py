"""Headers and page rules: strict CSP, no inline scripts, nothing from other origins."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from zichtbaar.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_strict_security_headers_on_every_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/audit/", "/accounts/members/",
                                 "/accounts/security/"])
def test_pages_have_no_inline_script_and_no_third_party_assets(url, staff_client) -> None:  # type: ignore[no-untyped-def]
    html = staff_client(Role.ADMIN).get(url).content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "pages load their scripts from files"
    assert all('src="/static/' in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), "no other origins"
    assert "style=" not in html


def test_session_cookie_is_http_only_and_strict(client, make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD

    user = make_user(Role.COUNSELLOR)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    cookie = response.cookies["zb_session"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"


def test_navigation_leaves_out_parts_of_another_kind_of_organisation(make_org, make_user) -> None:  # type: ignore[no-untyped-def]
    """A researcher of a research institute has no helpline; the menu must not offer one."""
    from zichtbaar.accounts.roles import OrganisationType, Role
    from zichtbaar.core.navigation import items

    from ..conftest import verified_client

    assert any(item.url_name == "helpline:stats" for item in items())
    ngo = make_org("Hulplijn Nav", OrganisationType.CARE_NGO)
    institute = make_org("Onderzoek Nav", OrganisationType.RESEARCH)
    in_ngo = verified_client(make_user(Role.RESEARCHER, ngo, password=None)).get("/")
    in_institute = verified_client(make_user(Role.RESEARCHER, institute, password=None)).get("/")
    urls_ngo = {i["url"] for i in in_ngo.context["nav_items"]}
    urls_institute = {i["url"] for i in in_institute.context["nav_items"]}
    stats = reverse("helpline:stats")
    assert stats in urls_ngo
    assert stats not in urls_institute
    assert reverse("estimate:list") in urls_institute  # researchers keep what they may use
