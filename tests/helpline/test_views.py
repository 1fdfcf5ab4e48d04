"""HTTP pages of the helpline: access matrix, escaping, coding, referral, retention, stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.helpline import services, stats
from zichtbaar.helpline.models import Coding, Conversation, Message, Referral
from zichtbaar.helpline.signals import referral_created

pytestmark = pytest.mark.django_db
R = Role
ALL = frozenset(Role)
STATS = frozenset({R.SUPERVISOR, R.COORDINATOR, R.RESEARCHER, R.ADMIN})
COUNSEL = frozenset({R.COUNSELLOR, R.SUPERVISOR})
VALID = {"help_question_trafficking": "yes", "visitor_role": "victim", "age_band": "12_15",
         "gender": "girl_woman", "risk_level": "high", "exploitation_forms": ["sexual"]}


@dataclass(frozen=True)
class ViewRule:
    name: str
    url: str  # {chat} = an ended chat of the owning helpline, handled by its counsellor
    own_ok: frozenset[Role]
    other_404: frozenset[Role] = frozenset()  # roles of another helpline that get 404
    own_404: frozenset[Role] = frozenset()  # roles that may counsel but not this chat


MATRIX = [
    ViewRule("console", "/helpline/", COUNSEL),
    ViewRule("transcript", "/helpline/chats/{chat}/", frozenset({R.SUPERVISOR}),
             other_404=COUNSEL, own_404=frozenset({R.COUNSELLOR})),
    ViewRule("coding", "/helpline/chats/{chat}/coding/", frozenset({R.SUPERVISOR}),
             other_404=COUNSEL, own_404=frozenset({R.COUNSELLOR})),
    ViewRule("team", "/helpline/team/", frozenset({R.SUPERVISOR})),
    ViewRule("canned", "/helpline/canned/", frozenset({R.SUPERVISOR, R.ADMIN})),
    ViewRule("settings", "/helpline/settings/", frozenset({R.SUPERVISOR, R.ADMIN})),
    ViewRule("stats", "/helpline/stats/", STATS),
    ViewRule("stats csv", "/helpline/stats.csv", STATS),
]


def expected(rule: ViewRule, role: Role, side: str) -> int:
    if side == "police":  # same role in a non-helpline organisation: nothing here
        return 403
    if side == "other" and role in rule.other_404:
        return 404
    if side == "own" and role in rule.own_404:
        return 404
    return 200 if role in rule.own_ok or (side == "other" and role in rule.own_ok) else 403


# Every role in the owning helpline; in another helpline and in a police force, the roles
# that get anything at all here (the rest are refused everywhere, as the "own" rows show).
HELPLINE_ROLES = COUNSEL | STATS | frozenset({R.ADMIN})
CASES = [pytest.param(rule, role, side, id=f"{rule.name}-{role.value}-{side}")
         for rule in MATRIX for role in Role for side in ("own", "other", "police")
         if side == "own" or role in HELPLINE_ROLES]


@pytest.fixture
def ended_chat(helpline, make_user) -> Conversation:  # type: ignore[no-untyped-def]
    owner = make_user(Role.COUNSELLOR, helpline, password=None, username="chat-owner")
    conversation, _token = services.conversation_start(organisation_id=helpline.pk, consent=True)
    services.conversation_accept(conversation_id=conversation.pk, actor=owner)
    services.message_post(conversation_id=conversation.pk, sender="visitor",
                          text="<script>alert('x')</script><b>vet</b>")
    services.conversation_end(conversation_id=conversation.pk, reason="visitor")
    conversation.refresh_from_db()
    return conversation


@pytest.mark.parametrize(("rule", "role", "side"), CASES)
def test_access_matrix(rule, role, side, helpline, ended_chat, make_org, staff_client) -> None:  # type: ignore[no-untyped-def]
    organisation = {"own": helpline,
                    "other": make_org("Andere Hulplijn", OrganisationType.CARE_NGO),
                    "police": make_org("Politie", OrganisationType.POLICE)}[side]
    response = staff_client(role, organisation).get(rule.url.format(chat=ended_chat.pk))
    assert response.status_code == expected(rule, role, side)


@pytest.mark.parametrize("rule", MATRIX, ids=[r.name for r in MATRIX])
def test_anonymous_is_sent_to_sign_in(rule, client, ended_chat) -> None:  # type: ignore[no-untyped-def]
    response = client.get(rule.url.format(chat=ended_chat.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_visitor_pages_are_public_neutral_and_script_free(client, helpline) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/chat/{helpline.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Chat</title>" in html
    visible = html.replace("/static/zichtbaar/", "").lower()  # asset paths are not shown
    assert "mensenhandel" not in visible and "zichtbaar" not in visible
    assert "<script>" not in html  # only external, same-origin scripts (CSP)
    assert 'id="quick-exit"' in html and "Snel weg" in html
    assert client.get(f"/chat/{helpline.slug}/veilig-browsen/").status_code == 200
    assert client.get("/chat/bestaat-niet/").status_code == 404


def test_closed_helpline_shows_emergency_numbers_and_refuses_start(client, helpline) -> None:  # type: ignore[no-untyped-def]
    config = services.settings_for(helpline.pk)
    config.always_open = False
    config.opening_hours = {}
    config.save()
    html = client.get(f"/chat/{helpline.slug}/").content.decode()
    assert "112" in html and "0800-2000" in html
    with pytest.raises(services.HelplineError) as caught:
        services.conversation_start(organisation_id=helpline.pk, consent=True)
    assert caught.value.code == "closed"


def test_transcript_escapes_html_and_is_audited(staff_client, helpline, ended_chat) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.SUPERVISOR, helpline)
    html = client.get(f"/helpline/chats/{ended_chat.pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;vet&lt;/b&gt;" in html
    assert "<script>alert" not in html
    assert AuditEntry.objects.filter(event="helpline_transcript_viewed",
                                     object_id=str(ended_chat.pk)).count() == 1


def test_coding_form_requires_alternative_route_when_parent_is_perpetrator(
        helpline, ended_chat) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import verified_client

    client = verified_client(ended_chat.counsellor)
    url = f"/helpline/chats/{ended_chat.pk}/coding/"
    data = {**VALID, "perpetrator_relation": ["parent"], "complete": "1"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "alternatieve route" in response.content.decode()
    assert not Coding.objects.get(conversation=ended_chat).complete
    response = client.post(url, {**data, "alternative_route": "police_avim"})
    assert response.status_code == 302
    coding = Coding.objects.get(conversation=ended_chat)
    assert coding.complete and coding.values["alternative_route"] == "police_avim"
    assert coding.codebook_version == "2026.1"
    response = client.post(url, {**VALID, "risk_level": "<script>", "complete": "1"})
    assert response.status_code == 400  # an unknown value is refused, not stored


def test_referral_needs_consent_and_sends_coded_fields_only(helpline, ended_chat,
                                                            django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    counsellor = ended_chat.counsellor
    services.coding_save(conversation_id=ended_chat.pk, actor=counsellor, values=VALID,
                         complete=True)
    with pytest.raises(services.HelplineError):
        services.referral_create(conversation_id=ended_chat.pk, actor=counsellor,
                                 referred_to=["police"])
    received: list[dict] = []

    def listener(sender, **payload):  # type: ignore[no-untyped-def]
        received.append(payload)

    referral_created.connect(listener)
    try:
        services.referral_consent_record(conversation_id=ended_chat.pk, actor=counsellor,
                                         consent=True)
        with django_capture_on_commit_callbacks(execute=True):
            referral = services.referral_create(conversation_id=ended_chat.pk, actor=counsellor,
                                                referred_to=["veilig_thuis", "police"])
    finally:
        referral_created.disconnect(listener)
    assert received == [{"signal": referral_created, "referral_id": referral.pk,
                         "organisation_id": helpline.pk, "coding": Referral.objects.get().coding,
                         "codebook_version": "2026.1", "referred_to": ["police", "veilig_thuis"],
                         "consent": True, "actor_id": counsellor.pk}]
    assert "<script>" not in str(received) and "vet" not in str(received)


def test_retention_deletes_transcripts_keeps_codings_and_audits(helpline, ended_chat) -> None:  # type: ignore[no-untyped-def]
    services.coding_save(conversation_id=ended_chat.pk, actor=ended_chat.counsellor,
                         values=VALID, complete=True)
    recent, _t = services.conversation_start(organisation_id=helpline.pk, consent=True)
    services.message_post(conversation_id=recent.pk, sender="visitor", text="recent")
    services.conversation_end(conversation_id=recent.pk, reason="visitor")
    Conversation.objects.filter(pk=ended_chat.pk).update(
        ended_at=timezone.now() - timedelta(days=31))
    call_command("helpline_retention")
    assert not Message.objects.filter(conversation=ended_chat).exists()
    assert Message.objects.filter(conversation=recent).exists()  # within 30 days
    assert Coding.objects.get(conversation=ended_chat).complete
    assert Conversation.objects.get(pk=ended_chat.pk).transcript_deleted_at is not None
    entry = AuditEntry.objects.get(event="helpline_transcript_deleted")
    assert entry.object_id == str(ended_chat.pk) and entry.action == "delete"


def _coded_chat(helpline, counsellor, values, when: date) -> None:  # type: ignore[no-untyped-def]
    conversation = Conversation.objects.create(organisation=helpline, status="ended",
                                               counsellor=counsellor, consent=True)
    Coding.objects.create(conversation=conversation, organisation=helpline,
                          codebook_version="2026.1", values=values, complete=True,
                          coded_by=counsellor, chat_date=when)


def test_stats_suppress_small_cells_on_page_and_in_csv(helpline, make_user, staff_client) -> None:  # type: ignore[no-untyped-def]
    counsellor = make_user(Role.COUNSELLOR, helpline, password=None)
    day = date(2026, 3, 10)
    for _ in range(6):
        _coded_chat(helpline, counsellor, VALID, day)
    for _ in range(3):
        _coded_chat(helpline, counsellor, {**VALID, "perpetrator_relation": ["parent"],
                                           "alternative_route": "comensha"}, day)
    _coded_chat(helpline, counsellor, {**VALID, "help_question_trafficking": "no"}, day)
    result = stats.compute(helpline.pk, date(2026, 1, 1), date(2026, 12, 31))
    assert (result.chats, result.trafficking, result.unique_visitors) == (10, 9, 10)
    relation = next(b for b in result.breakdowns if b.field == "perpetrator_relation")
    assert dict((v, c) for v, _l, c in relation.rows)["parent"] == 3
    client = staff_client(Role.SUPERVISOR, helpline)
    query = "?start=2026-01-01&end=2026-12-31&population=trafficking"
    html = client.get("/helpline/stats/" + query).content.decode()
    assert 'id="stat-chats">10<' in html and 'id="stat-trafficking">9<' in html
    assert "&lt;5" in html
    rows = client.get("/helpline/stats.csv" + query).content.decode().splitlines()
    assert "trafficking:perpetrator_relation,parent,<5" in rows
    assert "total,chats,10" in rows
    assert AuditEntry.objects.filter(event="helpline_stats_exported").count() == 1
    bad = client.get("/helpline/stats/?start=2026-12-31&end=2026-01-01")
    assert bad.status_code == 400 and "begindatum" in bad.content.decode()


def test_settings_form_rejects_bad_hours_in_dutch(helpline, staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ADMIN, helpline)
    response = client.post("/helpline/settings/", {"max_concurrent_chats": 2,
                                                   "retention_days": 30,
                                                   "opening_hours": "mon 22:00-10:00"})
    assert response.status_code == 400 and "UU:MM" in response.content.decode()
    response = client.post("/helpline/settings/", {"max_concurrent_chats": 3,
                                                   "retention_days": 14,
                                                   "opening_hours": "mon 10:00-12:00, 19:00-23:00"})
    assert response.status_code == 302
    config = services.settings_for(helpline.pk)
    assert config.opening_hours == {"mon": [["10:00", "12:00"], ["19:00", "23:00"]]}
    assert config.retention_days == 14


def test_quick_exit_beacon_ends_the_chat_without_csrf(helpline) -> None:  # type: ignore[no-untyped-def]
    conversation, token = services.conversation_start(organisation_id=helpline.pk, consent=True)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/chat/{helpline.slug}/exit/", {"token": token})
    assert response.status_code == 204
    conversation.refresh_from_db()
    assert conversation.status == "ended" and conversation.end_reason == "quick_exit"
    assert client.post(f"/chat/{helpline.slug}/exit/", {"token": "x" * 500}).status_code == 204


def test_demo_history_loads_idempotently(make_org) -> None:  # type: ignore[no-untyped-def]
    from zichtbaar.helpline import demo

    make_org("Hulplijn Demo", OrganisationType.CARE_NGO)
    demo.load(lambda text: None)
    demo.load(lambda text: None)
    assert Coding.objects.count() == demo.DEMO_CHATS
