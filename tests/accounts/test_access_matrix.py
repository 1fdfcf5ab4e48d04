"""Every staff view × every role × own or other organisation, in one declarative table.

A product app adds its views to ``MATRIX``; the rule is written once, as the set of roles that
get each answer, so a change in the roles table shows up here as a failing row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from zichtbaar.accounts.roles import OrganisationType, Role

R = Role
ALL = frozenset(Role)


@dataclass(frozen=True)
class ViewRule:
    name: str
    url: str  # may contain {member} for a record of the owning organisation
    own_ok: frozenset[Role]
    # Roles of another organisation that get 404 (record exists but is not theirs to know);
    # all other roles of another organisation get the same answer as in their own one.
    other_404: frozenset[Role] = frozenset()
    other_ok: frozenset[Role] = frozenset()


MATRIX = [
    ViewRule("dashboard", "/", ALL, other_ok=ALL),
    ViewRule("own account", "/accounts/security/", ALL, other_ok=ALL),
    ViewRule("members", "/accounts/members/", frozenset({R.ADMIN, R.SUPERVISOR}),
             other_ok=frozenset({R.ADMIN, R.SUPERVISOR})),
    ViewRule("member record", "/accounts/members/{member}/", frozenset({R.ADMIN, R.SUPERVISOR}),
             other_404=frozenset({R.ADMIN, R.SUPERVISOR})),
    ViewRule("audit search", "/audit/", frozenset({R.ADMIN, R.AUDITOR}),
             other_ok=frozenset({R.ADMIN, R.AUDITOR})),
    ViewRule("audit export", "/audit/export.csv", frozenset({R.ADMIN, R.AUDITOR}),
             other_ok=frozenset({R.ADMIN, R.AUDITOR})),
]


def expected_status(rule: ViewRule, role: Role, side: str) -> int:
    if side == "own":
        return 200 if role in rule.own_ok else 403
    if role in rule.other_ok:
        return 200
    if role in rule.other_404:
        return 404
    return 403


CASES = [
    pytest.param(rule, role, side, id=f"{rule.name}-{role.value}-{side}")
    for rule in MATRIX for role in Role for side in ("own", "other")
]


@pytest.fixture
def owner(make_org):  # type: ignore[no-untyped-def]
    return make_org("Eigenaar", OrganisationType.CARE_NGO)


@pytest.fixture
def member(make_user, owner):  # type: ignore[no-untyped-def]
    return make_user(Role.COUNSELLOR, owner, password=None, username="target-member")


@pytest.mark.parametrize(("rule", "role", "side"), CASES)
def test_access_matrix(rule, role, side, owner, member, make_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    organisation = owner if side == "own" else make_org("Ander", OrganisationType.POLICE)
    client = staff_client(role, organisation)
    response = client.get(rule.url.format(member=member.pk))
    assert response.status_code == expected_status(rule, role, side)


@pytest.mark.parametrize("rule", MATRIX, ids=[r.name for r in MATRIX])
def test_anonymous_is_sent_to_sign_in(rule, client, member) -> None:  # type: ignore[no-untyped-def]
    url = rule.url.format(member=member.pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_health_is_public(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_navigation_shows_only_what_the_role_may_use(staff_client) -> None:  # type: ignore[no-untyped-def]
    counsellor_html = staff_client(Role.COUNSELLOR).get("/").content.decode()
    auditor_html = staff_client(Role.AUDITOR).get("/").content.decode()
    assert 'href="/audit/"' not in counsellor_html
    assert 'href="/accounts/members/"' not in counsellor_html
    assert 'href="/audit/"' in auditor_html


def test_guessing_ids_of_another_organisation_reveals_nothing(staff_client, make_org,
                                                             make_user) -> None:  # type: ignore[no-untyped-def]
    theirs = make_user(Role.COUNSELLOR, make_org("Ander", OrganisationType.POLICE), password=None)
    client = staff_client(Role.ADMIN)
    missing = client.get(f"/accounts/members/{theirs.pk + 1000}/")
    existing = client.get(f"/accounts/members/{theirs.pk}/")
    assert missing.status_code == existing.status_code == 404
