"""The home page's live work: each card per role, only the user's own organisation, no audit.

Two of everything (helplines, desks, partners, research groups), A and B, with different
numbers of items each, so a count that leaks across organisations shows up as a wrong number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.core import home
from zichtbaar.estimate.web import engine
from zichtbaar.estimate.web import services as estimate_services
from zichtbaar.estimate.web.models import EstimateRun, RunStatus
from zichtbaar.helpline import services as helpline_services
from zichtbaar.hub import services as hub_services
from zichtbaar.hub.models import Channel, Signal
from zichtbaar.hub.services import SignalInput
from zichtbaar.hub.sharing import LegalBasis
from zichtbaar.watch.models import Cluster

THREE_LISTS = Path(__file__).resolve().parents[1] / "estimate_web" / "data" / "three_lists.csv"
SECRET_TEXT = "Geheime beschrijving van het slachtoffer"
NICKNAME = "Roos-bijnaam"


@pytest.fixture(autouse=True)
def _clear_cache(fresh_cache) -> None:  # type: ignore[no-untyped-def]
    """Rate limits and the helpline's queue caches start empty (see ``fresh_cache``)."""


@dataclass
class Side:
    helpline: Organisation
    desk: Organisation
    police: Organisation
    research: Organisation


@dataclass
class World:
    a: Side
    b: Side
    chat_a: int  # the chat counsellor A accepted


def _side(make_org, tag: str) -> Side:  # type: ignore[no-untyped-def]
    side = Side(helpline=make_org(f"Hulplijn {tag}", OrganisationType.CARE_NGO),
                desk=make_org(f"Meldpunt {tag}", OrganisationType.REPORTING_POINT),
                police=make_org(f"Politie {tag}", OrganisationType.POLICE),
                research=make_org(f"Onderzoek {tag}", OrganisationType.RESEARCH))
    config = helpline_services.settings_for(side.helpline.pk)
    config.always_open = True
    config.save()
    hub_services.agreement_create(actor=None, organisation=side.desk, partner=side.police,
                                  legal_basis=LegalBasis.WPG, purpose="Opsporing",
                                  allowed_fields=["reference", "received_at", "urgency"])
    return side


def _chats(organisation: Organisation, n: int) -> list[int]:
    return [helpline_services.conversation_start(organisation_id=organisation.pk, consent=True,
                                                 nickname=NICKNAME)[0].pk for _ in range(n)]


def _signal(desk: Organisation, *, urgent: bool = False, hours_ago: float = 0) -> Signal:
    data = SignalInput(minor=True if urgent else None, description=SECRET_TEXT,
                       received_at=timezone.now() - dt.timedelta(hours=hours_ago))
    return hub_services.signal_submit(channel=Channel.PROFESSIONAL, data=data,
                                      organisation=desk).signal


def _run(actor: User, status: str) -> EstimateRun:
    run = estimate_services.run_create(
        actor=actor, input_name="drie-lijsten.csv", data=THREE_LISTS.read_bytes(),
        parameters=engine.parameters_from({}))
    # The worker's part, without running a bootstrap: only the state matters here.
    EstimateRun.objects.filter(pk=run.pk).update(
        status=status, progress=0.4 if status == RunStatus.RUNNING else 0,
        started_at=timezone.now(),
        finished_at=timezone.now() if status in (RunStatus.DONE, RunStatus.FAILED) else None)
    return run


@pytest.fixture
def world(make_org, make_user) -> World:  # type: ignore[no-untyped-def]
    a, b = _side(make_org, "A"), _side(make_org, "B")
    # Helplines: A has 3 chats started, one accepted by its counsellor; B has 4 waiting.
    chats_a = _chats(a.helpline, 3)
    _chats(b.helpline, 4)
    counsellor_a = make_user(Role.COUNSELLOR, a.helpline, username="counsellor-a", password=None)
    helpline_services.conversation_accept(conversation_id=chats_a[0], actor=counsellor_a)
    # Desks: A has one urgent signal past its target (4 h) and one fresh normal one;
    # B has three, one handed over to B's police.
    _signal(a.desk, urgent=True, hours_ago=10)
    _signal(a.desk)
    signals_b = [_signal(b.desk, urgent=True), _signal(b.desk, hours_ago=200),
                 _signal(b.desk)]
    hub_services.handover_create(actor=None, signal=signals_b[0], partner=b.police)
    # A's police gets two handovers from A's desk.
    for signal in Signal.objects.filter(organisation=a.desk):
        hub_services.handover_create(actor=None, signal=signal, partner=a.police)
    # Research: A one running, one queued, one done; B one queued.
    researcher_a = make_user(Role.RESEARCHER, a.research, username="researcher-a",
                             password=None)
    researcher_b = make_user(Role.RESEARCHER, b.research, username="researcher-b",
                             password=None)
    for status in (RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.DONE):
        _run(researcher_a, status)
    _run(researcher_b, RunStatus.QUEUED)
    # Watch: one shared national queue; two new clusters, one grown, one seen.
    Cluster.objects.create(key="new-1", size=4, score=2.5)
    Cluster.objects.create(key="new-2", size=3, score=1.0)
    Cluster.objects.create(key="grown", size=5, reviewed_size=3, score=1.5)
    Cluster.objects.create(key="seen", size=3, reviewed_size=3, score=0.5, label="spam")
    return World(a=a, b=b, chat_a=chats_a[0])


def user(username: str) -> User:
    return User.objects.get(username=username)


# --- selectors per role --------------------------------------------------------------------

def test_counsellor_card_counts_own_queue_and_own_chats(world, make_user) -> None:  # type: ignore[no-untyped-def]
    work = home.live_work(user("counsellor-a"))
    assert work.helpline is not None
    assert work.helpline.waiting == 2  # B's four never count
    assert [i.reference for i in work.helpline.my_chats] == [f"Chat {world.chat_a}"]
    assert work.helpline.team_live is None  # the team figure is for supervisors
    other = make_user(Role.COUNSELLOR, world.b.helpline, password=None)
    card_b = home.live_work(other).helpline
    assert card_b is not None and (card_b.waiting, card_b.my_chats) == (4, [])
    assert (work.signals, work.inbox, work.watch, work.estimates) == (None, None, None, None)


def test_supervisor_card_adds_the_team_live_chats(world, make_user) -> None:  # type: ignore[no-untyped-def]
    card = home.live_work(make_user(Role.SUPERVISOR, world.a.helpline, password=None)).helpline
    assert card is not None and card.team_live == 1 and card.waiting == 2


def test_analyst_card_counts_open_urgent_and_overdue_of_own_desk(world, make_user) -> None:  # type: ignore[no-untyped-def]
    card = home.live_work(make_user(Role.ANALYST, world.a.desk, password=None)).signals
    assert card is not None
    assert (card.open, card.urgent, card.overdue, card.urgent_overdue) == (2, 1, 1, 1)
    assert card.oldest[0].urgent and card.oldest[0].overdue  # oldest first
    assert not card.oldest[1].overdue
    assert card.target_hours == {"urgent": 4, "elevated": 48, "normal": 120}
    card_b = home.live_work(make_user(Role.ANALYST, world.b.desk, password=None)).signals
    assert card_b is not None
    assert (card_b.open, card_b.urgent, card_b.overdue, card_b.urgent_overdue) == (3, 1, 1, 0)


def test_closed_signals_leave_the_analyst_card(world, make_user) -> None:  # type: ignore[no-untyped-def]
    analyst = make_user(Role.ANALYST, world.a.desk, password=None)
    signal = Signal.objects.filter(organisation=world.a.desk, urgent=False).get()
    Signal.objects.filter(pk=signal.pk).update(status="closed")
    card = home.live_work(analyst).signals
    assert card is not None and card.open == 1


def test_partner_card_counts_unacknowledged_handovers_to_own_organisation(world, make_user
                                                                         ) -> None:  # type: ignore[no-untyped-def]
    partner_a = make_user(Role.PARTNER, world.a.police, password=None)
    card = home.live_work(partner_a).inbox
    assert card is not None and card.unacknowledged == 2
    hub_services.handover_acknowledge(actor=partner_a,
                                      handover=world.a.police.hub_handovers.first())
    card = home.live_work(partner_a).inbox
    assert card is not None and card.unacknowledged == 1 and len(card.oldest) == 1
    card_b = home.live_work(make_user(Role.PARTNER, world.b.police, password=None)).inbox
    assert card_b is not None and card_b.unacknowledged == 1


def test_coordinator_gets_the_inbox_card_once_an_agreement_names_the_municipality(
        world, make_org, make_user) -> None:  # type: ignore[no-untyped-def]
    municipality = make_org("Gemeente A", OrganisationType.MUNICIPALITY)
    coordinator = make_user(Role.COORDINATOR, municipality, password=None)
    assert home.live_work(coordinator).inbox is None
    hub_services.agreement_create(actor=None, organisation=world.a.desk, partner=municipality,
                                  legal_basis=LegalBasis.PUBLIC_TASK, purpose="Zorg",
                                  allowed_fields=["reference"])
    card = home.live_work(coordinator).inbox
    assert card is not None and card.unacknowledged == 0  # A's police handovers stay A's


def test_researcher_card_shows_own_running_queued_and_finished_runs(world) -> None:  # type: ignore[no-untyped-def]
    card = home.live_work(user("researcher-a")).estimates
    assert card is not None
    assert (card.running, card.queued) == (1, 1)
    assert [i.note for i in card.active] == ["Bezig · 40%", "In de wachtrij"]
    assert [i.note for i in card.finished] == ["Klaar"]
    card_b = home.live_work(user("researcher-b")).estimates
    assert card_b is not None and (card_b.running, card_b.queued, card_b.finished) == (0, 1, [])


def test_watch_card_for_analysts_of_watching_organisations(world, make_user) -> None:  # type: ignore[no-untyped-def]
    card = home.live_work(make_user(Role.ANALYST, world.a.desk, password=None)).watch
    assert card is not None and (card.new, card.grown) == (2, 1)
    assert [i.reference for i in card.top] == [Cluster.objects.get(key=k).reference
                                               for k in ("new-1", "new-2")]
    police_analyst = make_user(Role.ANALYST, world.a.police, password=None)
    assert home.live_work(police_analyst).watch is not None
    helpline_analyst = make_user(Role.ANALYST, world.a.helpline, password=None)
    assert home.live_work(helpline_analyst).watch is None  # a care NGO does not watch ads


@pytest.mark.parametrize(("role", "kind", "card"), [
    (Role.AUDITOR, OrganisationType.CARE_NGO, None),
    (Role.ADMIN, OrganisationType.CARE_NGO, None),
    (Role.COUNSELLOR, OrganisationType.POLICE, None),  # helpline roles count only in a helpline
    (Role.PARTNER, OrganisationType.POLICE, "inbox"),
    (Role.COORDINATOR, OrganisationType.MUNICIPALITY, None),  # no agreement: no inbox
    (Role.ADMIN, OrganisationType.PLATFORM_OPERATOR, None),
    (Role.RESEARCHER, OrganisationType.RESEARCH, "estimates"),
])
def test_a_role_gets_only_the_cards_its_capabilities_allow(db, make_org, make_user, role, kind,
                                                           card) -> None:  # type: ignore[no-untyped-def]
    work = home.live_work(make_user(role, make_org(f"Org {kind}", kind), password=None))
    got = [name for name, _build in home.CARDS if getattr(work, name) is not None]
    assert got == ([card] if card else [])


# --- the page and its partial --------------------------------------------------------------

def test_home_page_shows_only_own_numbers_and_no_personal_data(world) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(user("counsellor-a"))
    before = AuditEntry.objects.count()
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Je werk nu" in body and 'data-card="helpline"' in body
    assert '<dd data-count="waiting">2</dd>' in body
    assert '<dd data-count="my-chats">1</dd>' in body
    assert 'hx-trigger="every 30s"' in body and 'hx-get="/?part=live"' in body
    assert NICKNAME not in body and SECRET_TEXT not in body
    assert 'data-card="signals"' not in body
    partial = client.get("/?part=live")
    assert partial.status_code == 200
    text = partial.content.decode()
    assert text.lstrip().startswith('<div id="home-live"') and "<html" not in text
    assert '<dd data-count="waiting">2</dd>' in text
    assert AuditEntry.objects.count() == before  # counts only: nothing to audit


def test_analyst_page_links_the_oldest_signals_without_their_texts(world, make_user) -> None:  # type: ignore[no-untyped-def]
    analyst = make_user(Role.ANALYST, world.a.desk, password=None)
    before = AuditEntry.objects.count()
    body = verified_client(analyst).get("/?part=live").content.decode()
    oldest = Signal.objects.filter(organisation=world.a.desk).order_by("received_at").first()
    assert f'href="/hub/signalen/{oldest.pk}/"' in body
    assert '<dd data-count="overdue" class="overdue">1</dd>' in body
    assert "te laat" in body  # the overdue mark, in Dutch
    for signal in Signal.objects.filter(organisation=world.b.desk):
        assert f"/hub/signalen/{signal.pk}/" not in body
    assert SECRET_TEXT not in body
    assert AuditEntry.objects.count() == before


def test_partial_needs_a_verified_sign_in(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/?part=live")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    unverified = Client()
    unverified.force_login(user("counsellor-a"))
    response = unverified.get("/?part=live")
    assert response.status_code == 302 and "/accounts/verify/" in response["Location"]


def test_a_refresh_after_the_session_ended_sends_the_whole_page_to_sign_in(world) -> None:  # type: ignore[no-untyped-def]
    """htmx would swap the sign-in form into the live region (or empty it): HX-Redirect."""
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/?tab=1"}
    response = Client().get("/?part=live", headers=headers)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F%3Ftab%3D1"
    unverified = Client()
    unverified.force_login(user("counsellor-a"))
    response = unverified.get("/?part=live", headers=headers)
    assert response["HX-Redirect"].startswith("/accounts/verify/?next=%2F")
    # Only the path is taken: another site's address is never the way back.
    response = Client().get("/?part=live", headers={
        "HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fx"


def test_partial_for_a_user_without_cards_is_empty_and_does_not_poll(db, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.AUDITOR)
    page = client.get("/").content.decode()
    assert "Je werk nu" not in page and "home-live" not in page
    body = client.get("/?part=live").content.decode()
    assert "data-card" not in body


def test_bad_input_never_breaks_the_home_page(world) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(user("counsellor-a"))
    assert client.get("/?part=%00%ff").status_code == 200
    assert client.get("/?part=live&part=x").status_code == 200
    assert client.post("/?part=live").status_code == 405


def test_refreshing_pauses_after_half_the_idle_timeout(world, settings) -> None:  # type: ignore[no-untyped-def]
    client = verified_client(user("counsellor-a"))
    client.get("/")
    assert "hx-trigger" in client.get("/?part=live").content.decode()
    session = client.session
    half = settings.IDLE_TIMEOUT_MINUTES * 60 / 2
    session[home.OPENED_KEY] = timezone.now().timestamp() - half - 1
    session.save()
    body = client.get("/?part=live").content.decode()
    assert "hx-trigger" not in body and "Verversen is gepauzeerd" in body
    assert "hx-trigger" in client.get("/").content.decode()  # a reload starts again


def test_share_links_give_own_chat_page_and_the_report_form(world, make_user) -> None:  # type: ignore[no-untyped-def]
    body = verified_client(user("counsellor-a")).get("/").content.decode()
    assert f'value="http://testserver/chat/{world.a.helpline.slug}/"' in body
    assert f"/chat/{world.b.helpline.slug}/" not in body
    assert 'value="http://testserver/melden/"' in body
    partner = verified_client(make_user(Role.PARTNER, world.a.police, password=None))
    body = partner.get("/").content.decode()
    assert f"/chat/{world.a.helpline.slug}/" in body and f"/chat/{world.b.helpline.slug}/" in body
    researcher = verified_client(user("researcher-a")).get("/").content.decode()
    assert "/melden/" not in researcher
