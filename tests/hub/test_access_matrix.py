"""Every hub page × every role × own desk, another desk, or a partner with an agreement.

Own = the desk that owns the signal; other = an unrelated reporting point; partner = the
police, who received the signal under a sharing agreement. Anything not theirs is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client

from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.hub import services

from .conftest import person, submit

R = Role
ALL = frozenset(Role)
DESK = frozenset({R.ANALYST, R.SUPERVISOR, R.ADMIN})
SUBMIT = frozenset({R.ANALYST, R.SUPERVISOR, R.ADMIN, R.PARTNER, R.COORDINATOR, R.COUNSELLOR})
INBOX = frozenset({R.PARTNER, R.COORDINATOR, R.ANALYST, R.SUPERVISOR, R.ADMIN})
RIGHTS = frozenset({R.ADMIN, R.SUPERVISOR})
SIDES = ("own", "other", "partner")


def everywhere(roles: frozenset[Role]) -> dict[str, frozenset[Role]]:
    return dict.fromkeys(SIDES, roles)


@dataclass(frozen=True)
class ViewRule:
    name: str
    url: str
    ok: dict[str, frozenset[Role]]
    not_found: dict[str, frozenset[Role]] = field(default_factory=dict)


MATRIX = [
    ViewRule("queue", "/hub/", everywhere(DESK)),
    ViewRule("new signal", "/hub/signalen/nieuw/", everywhere(SUBMIT)),
    ViewRule("signal", "/hub/signalen/{signal}/", {"own": DESK},
             {"other": DESK, "partner": DESK}),
    ViewRule("attachment", "/hub/signalen/{signal}/bijlagen/{attachment}/", {"own": DESK},
             {"other": DESK, "partner": DESK}),
    ViewRule("handover confirmation", "/hub/signalen/{signal}/overdragen/", {"own": DESK},
             {"other": DESK, "partner": DESK}),
    ViewRule("inbox", "/hub/inbox/", everywhere(INBOX)),
    ViewRule("handover", "/hub/inbox/{handover}/", {"partner": INBOX},
             {"own": INBOX, "other": INBOX}),
    ViewRule("agreements", "/hub/afspraken/", everywhere(frozenset({R.ADMIN}))),
    ViewRule("codebook", "/hub/codeboek/", {"own": frozenset({R.ADMIN}),
                                            "other": frozenset({R.ADMIN})}),
    ViewRule("routing rules", "/hub/routering/", {"own": frozenset({R.ADMIN}),
                                                  "other": frozenset({R.ADMIN})}),
    ViewRule("api tokens", "/hub/api-tokens/", everywhere(frozenset({R.ADMIN}))),
    ViewRule("duplicates", "/hub/dubbelen/", everywhere(frozenset({R.ANALYST}))),
    ViewRule("capture histories", "/hub/vangstgeschiedenissen/",
             everywhere(frozenset({R.ANALYST, R.RESEARCHER}))),
    # Rights and retention exist only at a desk; the police's admin gets a 403.
    ViewRule("retention", "/hub/bewaartermijnen/", {"own": frozenset({R.ADMIN}),
                                                    "other": frozenset({R.ADMIN})}),
    ViewRule("rights", "/hub/rechten/", {"own": RIGHTS, "other": RIGHTS}),
    ViewRule("person rights", "/hub/rechten/personen/{person}/", {"own": RIGHTS},
             {"other": RIGHTS}),
]


def expected(rule: ViewRule, role: Role, side: str) -> int:
    if role in rule.ok.get(side, frozenset()):
        return 200
    if role in rule.not_found.get(side, frozenset()):
        return 404
    return 403


@pytest.fixture
def records(world):  # type: ignore[no-untyped-def]
    from zichtbaar.hub.services import AttachmentInput

    signal = submit(forms=["sexual"], minor=True, description="Synthetisch",
                    persons=[person(given_name="Ana", surname="Testova")],
                    attachments=[AttachmentInput("a.pdf", "application/pdf", "pdf",
                                                 b"%PDF-1.4\n%%EOF")])
    handover = services.handover_create(actor=None, signal=signal, partner=world.police)
    return {"signal": signal.pk, "attachment": signal.attachments.get().pk,
            "handover": handover.pk, "person": signal.persons.get().pk}


@pytest.fixture
def side_org(world, make_org):  # type: ignore[no-untyped-def]
    def pick(side: str):  # type: ignore[no-untyped-def]
        return {"own": world.desk, "partner": world.police,
                "other": make_org("Ander Meldpunt", OrganisationType.REPORTING_POINT)}[side]
    return pick


CASES = [pytest.param(rule, side, id=f"{rule.name}-{side}") for rule in MATRIX for side in SIDES]


@pytest.mark.parametrize(("rule", "side"), CASES)
def test_access_matrix(rule, side, records, side_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    organisation = side_org(side)
    url = rule.url.format(**records)
    answers = {role: staff_client(role, organisation).get(url).status_code for role in Role}
    assert answers == {role: expected(rule, role, side) for role in Role}


@pytest.mark.parametrize("rule", MATRIX, ids=[r.name for r in MATRIX])
def test_anonymous_is_sent_to_sign_in(rule, records) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(rule.url.format(**records))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_actions_on_another_desks_signal_are_404(records, side_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(R.ANALYST, side_org("other"))
    for action, data in [("close", {"reason": "other"}), ("assign", {}),
                         ("request-info", {"text": "x"}), ("handover", {"partner": 1}),
                         ("overdragen", {"partner": 1, "agreement": 1, "confirm": "on"}),
                         ("suggestion-accept", {"code": "NS01"}),
                         ("suggestion-dismiss", {"code": "NS01"})]:
        response = client.post(f"/hub/signalen/{records['signal']}/{action}/", data)
        assert response.status_code == 404, action
    missing = client.get(f"/hub/signalen/{records['signal'] + 1000}/")
    assert missing.status_code == 404


def test_public_pages_are_open(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get("/melden/").status_code == 200
    assert Client().get("/melden/aanvullen/").status_code == 200
    assert Client().get("/api/v1/schema/").status_code == 200


def test_rights_actions_on_another_desks_records_are_404(records, side_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.hub import rights
    from zichtbaar.hub.models import Person

    client = staff_client(R.ADMIN, side_org("other"))
    person = Person.objects.get(pk=records["person"])
    for url, data in [(f"/hub/rechten/personen/{person.pk}/inzage/",
                       {"purpose": "x", "format": "json"}),
                      (f"/hub/rechten/personen/{person.pk}/wissen/", {"note": "x"})]:
        assert client.post(url, data).status_code == 404, url
    from zichtbaar.hub.models import Handover

    services.handover_report_outcome(actor=None, handover=Handover.objects.get(
        pk=records["handover"]), outcome="no_action")
    own_admin = staff_client(R.ADMIN, person.signal.organisation)
    own_admin.post(f"/hub/rechten/personen/{person.pk}/wissen/", {"note": "Verzoek"})
    request = rights.ErasureRequest.objects.get()
    assert request.state == "pending"
    answer = client.post(f"/hub/rechten/verzoeken/{request.pk}/", {"decision": "approve"})
    assert answer.status_code == 404
    request.refresh_from_db()
    assert request.state == "pending"


def test_desk_only_entries_are_not_in_other_admins_navigation(world, staff_client) -> None:  # type: ignore[no-untyped-def]
    desk = staff_client(R.ADMIN, world.desk).get("/").content.decode()
    police = staff_client(R.ADMIN, world.police).get("/").content.decode()
    for url in ("/hub/codeboek/", "/hub/routering/", "/hub/rechten/", "/hub/bewaartermijnen/"):
        assert f'href="{url}"' in desk, url
        assert f'href="{url}"' not in police, url
    assert 'href="/hub/afspraken/"' in police  # agreements are for every organisation
