"""Every estimate view × every role × own or other organisation, in one declarative table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.estimate.web.models import EstimateRun

R = Role
ESTIMATORS = frozenset({R.RESEARCHER, R.ANALYST, R.ADMIN})


@dataclass(frozen=True)
class ViewRule:
    name: str
    url: str  # may contain {run}: a finished run of the owning organisation
    own_ok: frozenset[Role] = ESTIMATORS
    # Roles of another organisation that get 404; the rest of them get own_ok's answer.
    other_404: frozenset[Role] = frozenset()
    other_ok: frozenset[Role] = frozenset()
    method: str = "get"
    ok_status: int = 200


MATRIX = [
    ViewRule("list", "/estimate/", other_ok=ESTIMATORS),
    ViewRule("new", "/estimate/new/", other_ok=ESTIMATORS),
    # The hub source also needs the hub's capture-history export (not given to admins).
    ViewRule("new from hub", "/estimate/new/hub/", own_ok=frozenset({R.RESEARCHER, R.ANALYST}),
             other_ok=frozenset({R.RESEARCHER, R.ANALYST})),
    ViewRule("detail", "/estimate/{run}/", other_404=ESTIMATORS),
    # A finished run's progress sends the browser on to the result page.
    ViewRule("progress", "/estimate/{run}/progress/", other_404=ESTIMATORS, ok_status=302),
    ViewRule("json", "/estimate/{run}/result.json", other_404=ESTIMATORS),
    ViewRule("csv", "/estimate/{run}/result.csv", other_404=ESTIMATORS),
    ViewRule("input", "/estimate/{run}/input.csv", other_404=ESTIMATORS),
    ViewRule("plot", "/estimate/{run}/plot/observed_hidden.png", other_404=ESTIMATORS),
    ViewRule("reproduce", "/estimate/{run}/reproduce/", other_404=ESTIMATORS, method="post",
             ok_status=302),
]


def expected_status(rule: ViewRule, role: Role, side: str) -> int:
    if side == "own":
        return rule.ok_status if role in rule.own_ok else 403
    if role in rule.other_ok:
        return rule.ok_status
    if role in rule.other_404:
        return 404
    return 403


CASES = [
    pytest.param(rule, role, side, id=f"{rule.name}-{role.value}-{side}")
    for rule in MATRIX for role in Role for side in ("own", "other")
]


@pytest.fixture
def run(researcher, make_run) -> EstimateRun:  # type: ignore[no-untyped-def]
    return make_run(researcher)


@pytest.mark.django_db
@pytest.mark.parametrize(("rule", "role", "side"), CASES)
def test_access_matrix(rule, role, side, run, research_org, make_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    organisation = research_org if side == "own" else make_org("Ander", OrganisationType.POLICE)
    client = staff_client(role, organisation)
    before = EstimateRun.objects.count()
    response = getattr(client, rule.method)(rule.url.format(run=run.pk))
    assert response.status_code == expected_status(rule, role, side)
    if rule.method == "post" and response.status_code != 302:
        assert EstimateRun.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("rule", MATRIX, ids=[r.name for r in MATRIX])
def test_anonymous_is_sent_to_sign_in(rule, client, run) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, rule.method)(rule.url.format(run=run.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_navigation_shows_estimate_only_to_estimators(staff_client) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/estimate/"' in staff_client(Role.RESEARCHER).get("/").content.decode()
    assert 'href="/estimate/"' not in staff_client(Role.COUNSELLOR).get("/").content.decode()


@pytest.mark.django_db
def test_list_shows_only_own_organisation(run, staff_client, make_org) -> None:  # type: ignore[no-untyped-def]
    other = staff_client(Role.RESEARCHER, make_org("Ander", OrganisationType.RESEARCH))
    html = other.get("/estimate/").content.decode()
    assert f'href="/estimate/{run.pk}/"' not in html
    assert "drie-lijsten.csv" not in html


@pytest.mark.django_db
def test_guessing_run_ids_reveals_nothing(run, staff_client, make_org) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.RESEARCHER, make_org("Ander", OrganisationType.RESEARCH))
    missing = client.get(f"/estimate/{run.pk + 1000}/")
    existing = client.get(f"/estimate/{run.pk}/")
    assert missing.status_code == existing.status_code == 404
