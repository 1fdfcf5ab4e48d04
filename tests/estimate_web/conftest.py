"""A research organisation, its researcher and stored runs on synthetic fixture files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.estimate.web import engine, services
from zichtbaar.estimate.web.models import EstimateRun

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def three_lists() -> bytes:
    """Synthetic: 3 lists, stratum 'noord' estimable, stratum 'zuid' without overlaps."""
    return (DATA / "three_lists.csv").read_bytes()


@pytest.fixture
def research_org(make_org) -> Organisation:  # type: ignore[no-untyped-def]
    return make_org("Onderzoek Test", OrganisationType.RESEARCH)


@pytest.fixture
def researcher(make_user, research_org) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.RESEARCHER, research_org, password=None, username="onderzoeker")


@pytest.fixture
def make_run(three_lists) -> Callable[..., EstimateRun]:  # type: ignore[no-untyped-def]
    def make(actor: User, data: bytes | None = None, *, execute: bool = True,
             **parameters: object) -> EstimateRun:
        run = services.run_create(actor=actor, input_name="drie-lijsten.csv",
                                  data=three_lists if data is None else data,
                                  parameters=engine.parameters_from(parameters))
        if execute:
            services.run_execute(run_id=run.pk, workers=1)
            run.refresh_from_db()
        return run

    return make
