"""Computed indicators, each from fixture data made in the other parts (synthetic only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.helpline.models import Coding, Conversation, ReturningVisitor
from zichtbaar.hub import services as hub
from zichtbaar.hub.models import Channel
from zichtbaar.hub.sharing import LegalBasis
from zichtbaar.monitor import compute, selectors, services
from zichtbaar.monitor.models import IndicatorValue, IndicatorVintage, Kind

pytestmark = pytest.mark.django_db
THIRD = Decimal("33.333333")
TWO_THIRDS = Decimal("66.666667")


def year() -> int:
    return timezone.localdate().year


@dataclass
class World:
    helpline: Organisation
    desk: Organisation
    police: Organisation
    research: Organisation
    analyst: User


@pytest.fixture
def world(make_org, make_user, research_org, fresh_cache) -> World:  # type: ignore[no-untyped-def]
    desk = make_org("Meldpunt Test", OrganisationType.REPORTING_POINT)
    police = make_org("Politie Test", OrganisationType.POLICE)
    hub.agreement_create(actor=None, organisation=desk, partner=police,
                         legal_basis=LegalBasis.WPG, purpose="Opsporing mensenhandel",
                         allowed_fields=["reference", "received_at", "forms"])
    return World(helpline=make_org("Hulplijn Test", OrganisationType.CARE_NGO), desk=desk,
                 police=police, research=research_org,
                 analyst=make_user(Role.ANALYST, desk, password=None))


def platform(indicator_id: str, organisation: Any, dims: dict[str, str] | None = None
             ) -> Decimal | None:
    found = selectors.value_as_published(indicator_id, year(), dims or {}, source="platform",
                                         organisation=organisation)
    return found.value if found else None


# --- helpline ------------------------------------------------------------------------------

def _chat(world: World, values: dict[str, Any], *, visitor: ReturningVisitor | None = None,
          when: dt.date | None = None, complete: bool = True) -> None:
    conversation = Conversation.objects.create(organisation=world.helpline, status="ended",
                                               consent=True, visitor=visitor)
    Coding.objects.create(conversation=conversation, organisation=world.helpline,
                          codebook_version="2026.1", values=values, complete=complete,
                          chat_date=when or dt.date(year(), 3, 10))


VICTIM = {"help_question_trafficking": "yes", "visitor_role": "victim", "gender": "girl_woman",
          "risk_level": "high"}


@pytest.fixture
def chats(world: World) -> World:
    returning = ReturningVisitor.objects.create(organisation=world.helpline, code_hash="a" * 64,
                                                first_seen=dt.date(year(), 1, 5))
    first = {**VICTIM, "exploitation_forms": ["sexual"], "age_band": "12_15",
             "perpetrator_relation": ["parent"], "first_disclosure": "yes",
             "duration": "5y_plus"}
    _chat(world, first, visitor=returning)
    _chat(world, {**first, "first_disclosure": "no"}, visitor=returning)  # same person again
    _chat(world, {**VICTIM, "exploitation_forms": ["sexual", "criminal"], "age_band": "16_17",
                  "duration": "1_5y", "first_disclosure": "no"})
    _chat(world, {**VICTIM, "exploitation_forms": ["labour"], "age_band": "18_23",
                  "duration": "under_1y", "perpetrator_relation": ["partner_loverboy"]})
    _chat(world, {**VICTIM, "visitor_role": "reporter"})
    _chat(world, {**VICTIM, "help_question_trafficking": "no", "visitor_role": "unknown"})
    _chat(world, VICTIM, complete=False)  # not coded yet: not counted
    _chat(world, VICTIM, when=dt.date(year() - 1, 12, 31))  # last year
    return world


def test_helpline_counts_persons_and_shares_of_victims(chats: World) -> None:
    services.values_compute(year())
    org = chats.helpline
    assert platform("AL3-10", org) == 5  # the returning visitor's two chats are one person
    assert platform("AL3-03", org) == 4
    assert {r: platform("AL3-11", org, {"visitor_role": r})
            for r in ("victim", "reporter", "unknown")} == {"victim": 3, "reporter": 1,
                                                             "unknown": 0}
    assert platform("AL3-04", org) == THIRD  # parent as perpetrator
    assert platform("AL3-05", org) == THIRD  # first disclosure in any of their chats
    assert platform("AL3-06", org, {"duration": "1y_plus"}) == TWO_THIRDS
    assert platform("AL3-06", org, {"duration": "5y_plus"}) == THIRD
    assert {f: platform("AL3-12", org, {"form": f})
            for f in ("sexual", "labour", "criminal", "other")} == {
        "sexual": TWO_THIRDS, "labour": THIRD, "criminal": THIRD, "other": 0}
    assert platform("AL3-13", org) == TWO_THIRDS
    assert platform("AL3-13", org, {"age_band": "<=15"}) == THIRD
    share = selectors.vintages_of("AL3-04", year(), source="platform", organisation=org)[0]
    assert (share.numerator, share.denominator) == (1, 3)  # kept for disclosure rules
    assert platform("AL3-10", None) is None  # per organisation, not national


# --- hub -----------------------------------------------------------------------------------

def _signal(channel: str) -> Any:
    zone = timezone.get_current_timezone()
    received = max(timezone.now() - dt.timedelta(hours=5),
                   dt.datetime(year(), 1, 1, 1, tzinfo=zone))
    return hub.signal_submit(channel=channel, data=hub.SignalInput(
        received_at=received, description="Synthetisch signaal")).signal


def test_hub_signals_handovers_outcomes_and_time_to_handover(world: World) -> None:
    first, second = _signal(Channel.PUBLIC_FORM), _signal(Channel.PUBLIC_FORM)
    _signal(Channel.PROFESSIONAL)
    handed = [hub.handover_create(actor=world.analyst, signal=s, partner=world.police)
              for s in (first, second)]
    hub.handover_report_outcome(actor=None, handover=handed[0], outcome="case_opened")
    services.values_compute(year())
    desk, police = world.desk, world.police
    assert platform("AL1-19", desk, {"channel": "public_form"}) == 2
    assert platform("AL1-19", desk, {"channel": "professional"}) == 1
    assert platform("AL1-19", desk, {"channel": "api"}) == 0
    assert platform("AL1-20", police, {"partner_type": "police"}) == 2
    assert platform("AL1-21", police, {"outcome": "case_opened"}) == 1
    assert platform("AL1-21", police, {"outcome": "pending"}) == 1
    hours = sorted((h.created_at - h.signal.received_at).total_seconds() / 3600 for h in handed)
    median = platform("AL1-22", desk)
    assert median is not None and float(median) == pytest.approx(sum(hours) / 2, abs=1e-5)


def test_a_recompute_adds_vintages_only_where_a_value_changed(world: World) -> None:
    _signal(Channel.PUBLIC_FORM)
    first = services.values_compute(year())
    assert first.created == len(Channel.values) and first.unchanged == 0
    assert services.values_compute(year()).created == 0
    _signal(Channel.PUBLIC_FORM)
    third = services.values_compute(year())
    assert third.by_indicator == {"AL1-19": 1}
    cell = IndicatorValue.objects.get(indicator_id="AL1-19", dims_key='{"channel":"public_form"}')
    assert [v.value for v in cell.vintages.order_by("number")] == [1, 2]
    assert cell.value == 2 and cell.kind == Kind.COMPUTED
    assert AuditEntry.objects.filter(event="monitor_values_computed").count() == 3


# --- watch ---------------------------------------------------------------------------------

def test_watch_clusters_handovers_and_decoy_contacts(world: World) -> None:
    from zichtbaar.watch import decoys
    from zichtbaar.watch import services as watch
    from zichtbaar.watch.models import Cluster, DecoyContact

    suspect = Cluster.objects.create(key="c1", size=3, label="trafficking")
    Cluster.objects.create(key="c2", size=2, label="spam")
    Cluster.objects.create(key="c3", size=4)
    watch.cluster_handover(actor=world.analyst, cluster=suspect)
    decoy, _secret = decoys.decoy_create(actor=None, organisation=world.desk, name="Lisa")
    for n, sender in enumerate(["+31600000001", "+31600000001", "+31600000002"]):
        decoys.decoy_contact_receive(decoy=decoy, sender=sender, message_id=f"m{n}",
                                     text="Hoi, wat kost een uur?")
    services.values_compute(year())
    assert {label: platform("AL1-23", None, {"label": label})
            for label in ("trafficking", "spam", "unlabelled", "scam")} == {
        "trafficking": 1, "spam": 1, "unlabelled": 1, "scam": 0}
    assert platform("AL1-24", None) == 1
    assert platform("AL3-14", world.desk, {"measure": "contacts"}) == 3
    assert platform("AL3-14", world.desk, {"measure": "returning"}) == 1
    assert platform("AL3-14", world.desk, {"measure": "minor_age"}) == (
        DecoyContact.objects.filter(minor_age=True).count())


# --- estimate ------------------------------------------------------------------------------

def _run(world: World, *, name: str, estimate: float, ci: list[float] | None,
         status: str = "done", organisation: Organisation | None = None) -> Any:
    from zichtbaar.estimate.web.models import EstimateRun

    return EstimateRun.objects.create(
        organisation=organisation or world.research, input_name=name,
        input_data=EstimateRun.encode_input(b"a,b\n1,0\n"), input_sha256="0" * 64,
        parameters={"method": "main"}, status=status,
        result={"estimate": estimate, "ci": ci, "observed": 12} if status == "done" else None)


def test_estimate_runs_give_the_estimate_and_its_interval(world: World) -> None:
    y = year()
    _run(world, name=f"hub-{y}-01-01-{y}-06-30.csv", estimate=50.0, ci=[30.0, 90.0])
    newest = _run(world, name=f"hub-{y}-01-01-{y}-12-31.csv", estimate=18.67, ci=[14.0, 31.5])
    _run(world, name=f"hub-{y - 1}-01-01-{y - 1}-12-31.csv", estimate=99.0, ci=[80.0, 120.0])
    _run(world, name="upload.csv", estimate=0, ci=None, status="failed")
    upload = _run(world, name="lijsten.csv", estimate=40.0, ci=[50.0, 60.0],
                  organisation=world.desk)  # an interval that misses its estimate
    services.values_compute(y)
    found = selectors.value_as_published("AL1-18", y, source="platform",
                                         organisation=world.research)
    assert found is not None
    assert (found.value, found.lower, found.upper) == (Decimal("18.67"), 14, Decimal("31.5"))
    assert f"estimate run {newest.pk}" in found.note
    vintage = selectors.vintages_of("AL1-18", y, source="platform", organisation=world.research)
    assert vintage[0].numerator == 12  # observed persons
    other = selectors.value_as_published("AL1-18", y, source="platform", organisation=world.desk)
    assert other is not None and other.lower is None and "no usable interval" in other.note
    assert compute.run_year(upload) == y


def test_management_command_computes_a_year(chats: World) -> None:
    out = StringIO()
    call_command("monitor_compute", "--year", str(year()), stdout=out)
    assert f"Monitor {year()}:" in out.getvalue()
    assert platform("AL3-03", chats.helpline) == 4
    assert IndicatorVintage.objects.filter(series__kind=Kind.COMPUTED).exists()
    before = IndicatorVintage.objects.count()
    call_command("monitor_compute", "--year", str(year()), stdout=StringIO())
    assert IndicatorVintage.objects.count() == before
