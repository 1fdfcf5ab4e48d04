"""A desk (reporting point) with partners and agreements, built through the services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from zichtbaar.accounts.models import Organisation
from zichtbaar.accounts.roles import OrganisationType
from zichtbaar.hub import services
from zichtbaar.hub.models import Channel
from zichtbaar.hub.services import PersonInput, SignalInput
from zichtbaar.hub.sharing import LegalBasis

POLICE_FIELDS = ["reference", "received_at", "urgency", "forms", "indicators", "minor",
                 "municipality", "description", "victim_identity"]
INSPECTORATE_FIELDS = ["reference", "received_at", "forms", "indicators", "municipality"]


@dataclass
class World:
    desk: Organisation
    police: Organisation
    inspectorate: Organisation
    veilig_thuis: Organisation
    municipality: Organisation
    outsider: Organisation


@pytest.fixture(autouse=True)
def _clear_cache(fresh_cache) -> None:  # type: ignore[no-untyped-def]
    """Rate limits start empty in every test (see ``fresh_cache``)."""


@pytest.fixture
def world(make_org) -> World:  # type: ignore[no-untyped-def]
    w = World(
        desk=make_org("Meldpunt Test", OrganisationType.REPORTING_POINT),
        police=make_org("Politie Test", OrganisationType.POLICE),
        inspectorate=make_org("Inspectie Test", OrganisationType.LABOUR_INSPECTORATE),
        veilig_thuis=make_org("Veilig Thuis Test", OrganisationType.VEILIG_THUIS),
        municipality=make_org("Gemeente Test", OrganisationType.MUNICIPALITY),
        outsider=make_org("Hulplijn Test", OrganisationType.CARE_NGO),
    )
    services.agreement_create(actor=None, organisation=w.desk, partner=w.police,
                              legal_basis=LegalBasis.WPG, purpose="Opsporing mensenhandel",
                              allowed_fields=POLICE_FIELDS)
    services.agreement_create(actor=None, organisation=w.desk, partner=w.inspectorate,
                              legal_basis=LegalBasis.PUBLIC_TASK,
                              purpose="Toezicht arbeidsuitbuiting",
                              allowed_fields=INSPECTORATE_FIELDS)
    return w


def submit(*, indicators=(), forms=(), minor=None, description="Synthetisch signaal",
           persons=(), channel=Channel.PROFESSIONAL, source=None, **extra):  # type: ignore[no-untyped-def]
    return services.signal_submit(
        channel=channel, source_organisation=source,
        data=SignalInput(indicators=list(indicators), forms=list(forms), minor=minor,
                         description=description, persons=list(persons), **extra)).signal


def person(**fields: str) -> PersonInput:
    return PersonInput(**fields)
