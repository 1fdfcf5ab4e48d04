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
