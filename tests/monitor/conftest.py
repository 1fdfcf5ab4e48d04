"""Monitor fixtures: a research organisation with a researcher, and an administrator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role


@pytest.fixture
def research_org(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Onderzoek Test", OrganisationType.RESEARCH)


@pytest.fixture
def researcher(make_user: Callable[..., User], research_org: Organisation) -> User:
    return make_user(Role.RESEARCHER, research_org, password=None, username="onderzoeker")


@pytest.fixture
def admin(make_user: Callable[..., User], make_org: Callable[..., Organisation]) -> User:
    operator = make_org("Platform Test", OrganisationType.PLATFORM_OPERATOR)
    return make_user(Role.ADMIN, operator, password=None, username="beheerder")


def load_monitor_demo(make_org: Callable[..., Organisation]) -> None:
    """The monitor demo (synthetic history included) on the demo organisations' names."""
    from zichtbaar.monitor import demo

    for name, kind in [(demo.HELPLINE, OrganisationType.CARE_NGO),
                       (demo.DESK, OrganisationType.REPORTING_POINT),
                       (demo.RESEARCH, OrganisationType.RESEARCH),
                       ("Politie AVIM Demo", OrganisationType.POLICE),
                       ("Arbeidsinspectie Demo", OrganisationType.LABOUR_INSPECTORATE),
                       ("Veilig Thuis Demo", OrganisationType.VEILIG_THUIS),
                       ("Gemeente Zorgcoördinatie Demo", OrganisationType.MUNICIPALITY)]:
        make_org(name, kind)
    demo.load(lambda text: None)
