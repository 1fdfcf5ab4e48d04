"""Decoy profiles end to end: the signed webhook, what is (not) stored, admin pages, counts.

Everything goes through the real test client and the real templates file. Success and
refusal cases share one setup (one decoy, one secret), so a refusal cannot pass for the
wrong reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.audit.models import AuditEntry
from zichtbaar.watch import decoys as decoy_services
from zichtbaar.watch.decoys import current_templates, decoy_counts, signature_for
from zichtbaar.watch.events import WatchAuditEvent
from zichtbaar.watch.models import Decoy, DecoyContact

pytestmark = pytest.mark.django_db

SENDER = "+31 6 9911 2233"  # synthetic
OTHER_SENDER = "gateway-user-5550001"
TEXT = "Hallo Lisa, wat is je prijs voor vanavond? groetjes Kwartelkoning"


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_cache) -> None:  # type: ignore[no-untyped-def]
    """Rate limits start empty in every test (see ``fresh_cache``)."""


@pytest.fixture
def desk(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Meldpunt Lokprofiel Test", OrganisationType.REPORTING_POINT)


@pytest.fixture
def police(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Politie Eenheid Lokprofiel", OrganisationType.POLICE)


@pytest.fixture
def care(make_org: Callable[..., Organisation]) -> Organisation:
    return make_org("Zorg Lokprofiel", OrganisationType.CARE_NGO)


@pytest.fixture
def desk_admin(make_user: Callable[..., User], desk: Organisation) -> User:
    return make_user(Role.ADMIN, desk, password=None)


@pytest.fixture
def admin_client(desk_admin: User) -> Client:
    return verified_client(desk_admin)


@pytest.fixture
def decoy(desk_admin: User, desk: Organisation) -> tuple[Decoy, str]:
    return decoy_services.decoy_create(actor=desk_admin, organisation=desk, name="Lisa",
                                       profile="Synthetische advertentietekst.",
                                       persona_age=24)


def payload(message_id: str = "m-1", sender: str = SENDER, text: str = TEXT,
            **extra: Any) -> dict[str, Any]:
    return {"message_id": message_id, "sender": sender, "text": text,
            "sent_at": "2026-02-03T21:15:00+01:00", **extra}


def deliver(decoy: Decoy, secret: str, data: Any = None, *, body: bytes | None = None,
            signature: str | None = None, sign: bool = True, pk: int | None = None) -> Any:
    """Post as the gateway does: JSON body, HMAC-SHA256 of the raw body in the header."""
    raw = body if body is not None else json.dumps(data if data is not None
                                                   else payload()).encode()
    headers = {}
    if sign:
        headers["X-Zichtbaar-Signature"] = signature or signature_for(secret, raw)
    return Client().post(f"/watch/decoys/{pk or decoy.pk}/webhook", data=raw,
                         content_type="application/json", headers=headers)


def contact_audits() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=WatchAuditEvent.DECOY_CONTACT).order_by("seq"))


def every_stored_value() -> list[str]:
    """Every value of every table in the database, read raw (as stored, before decryption)."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(str(v) for row in cursor.fetchall() for v in row if v is not None)
    return values


# --- the webhook ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "persona_age", "category", "minor_age"), [
    ("Hoi, hoe gaat het?", 24, "neutral", False),
    ("Wat is je prijs? Kan ik langskomen?", 24, "purchase", False),
    ("ben je 16?", 24, "minor", True),
    ("Ik zoek een jong meisje", 24, "minor", True),
    ("Hoi, hoe gaat het?", 15, "minor", False),
])
def test_signed_message_is_answered_with_the_template_for_what_it_shows(
        decoy: tuple[Decoy, str], text: str, persona_age: int, category: str,
        minor_age: bool) -> None:
    row, secret = decoy
    Decoy.objects.filter(pk=row.pk).update(persona_age=persona_age)
    row.refresh_from_db()
    response = deliver(row, secret, payload(text=text))
    assert response.status_code == 200, response.content
    body = response.json()
    templates = current_templates()
    expected = templates.category(category)
    assert body == {"reply": templates.render(expected, "nl"),  # type: ignore[arg-type]
                    "template": f"{templates.version}:{category}", "language": "nl",
                    "duplicate": False}
    contact = DecoyContact.objects.get()
    assert (contact.decoy_id, contact.category, contact.minor_age, contact.returning,
            contact.reply_template) == (row.pk, category, minor_age, False, body["template"])
    [audit] = contact_audits()
    assert audit.object_id == str(row.pk) and audit.organisation_id == row.organisation_id
    assert audit.actor_id is None
    assert audit.detail == {"contact": contact.pk, "category": category,
                            "template": body["template"], "minor_age": minor_age,
                            "returning": False}


def test_minor_age_gets_the_strongest_warning_with_help_information(
        decoy: tuple[Decoy, str]) -> None:
    row, secret = decoy
    reply = deliver(row, secret, payload(text="is ze echt 15 jaar? hoeveel?")).json()["reply"]
    assert "geen echt profiel" in reply
    assert "onder de 18" in reply and "misdrijf" in reply
    assert "Zoek anoniem hulp via" in reply
    assert current_templates().resources["help"]["nl"] in reply
    assert "112" in reply


def test_reply_in_english_when_the_gateway_asks_for_it(decoy: tuple[Decoy, str]) -> None:
    row, secret = decoy
    body = deliver(row, secret, payload(text="how much?", language="en")).json()
    assert body["language"] == "en"
    assert body["reply"].startswith("This is not a real profile.")


def test_returning_sender_is_counted_without_storing_sender_or_text(
        decoy: tuple[Decoy, str], desk_admin: User, desk: Organisation) -> None:
    row, secret = decoy
    second, second_secret = decoy_services.decoy_create(
        actor=desk_admin, organisation=desk, name="Mila", persona_age=22)
    assert deliver(row, secret, payload("gw-msg-0001")).status_code == 200
    # The same buyer, formatted differently by the gateway, now writing to another decoy.
    assert deliver(second, second_secret, payload("gw-msg-0002", sender="+316 99112233",
                                                  text="ben je 16")).status_code == 200
    assert deliver(row, secret, payload("gw-msg-0003", sender=OTHER_SENDER)).status_code == 200
    flags = list(DecoyContact.objects.order_by("id").values_list("returning", flat=True))
    assert flags == [False, True, False]
    assert [a.detail["returning"] for a in contact_audits()] == [False, True, False]

    stored = every_stored_value()
    for needle in (SENDER, "+31699112233", "99112233", OTHER_SENDER, TEXT, "Kwartelkoning",
                   "ben je 16", "gw-msg-"):
        assert not [v for v in stored if needle in v], f"{needle!r} was stored"


def test_returning_is_counted_per_organisation(decoy: tuple[Decoy, str], police: Organisation,
                                               make_user: Callable[..., User]) -> None:
    row, secret = decoy
    police_admin = make_user(Role.ADMIN, police, password=None)
    theirs, their_secret = decoy_services.decoy_create(actor=police_admin, organisation=police,
                                                       name="Noor")
    deliver(row, secret, payload("m-1"))
    deliver(theirs, their_secret, payload("m-1"))
    assert list(DecoyContact.objects.values_list("returning", flat=True)) == [False, False]


def test_retried_delivery_gets_the_same_reply_and_stores_nothing_new(
        decoy: tuple[Decoy, str]) -> None:
    row, secret = decoy
    first = deliver(row, secret, payload("m-7", text="ben je 15?")).json()
    # A retry may even arrive re-encoded; the message id decides.
    again = deliver(row, secret, payload("m-7", text="ben je 15? ")).json()
    assert again == {**first, "duplicate": True}
    assert DecoyContact.objects.count() == 1
    assert len(contact_audits()) == 1
    # A new message id from the same sender is a new contact, and a returning one.
    deliver(row, secret, payload("m-8", text="hoi"))
    assert DecoyContact.objects.count() == 2
    assert DecoyContact.objects.order_by("-id").first().returning is True  # type: ignore[union-attr]


def _bad_requests(row: Decoy, secret: str, other: Decoy) -> dict[str, Callable[[], Any]]:
    good = payload()

    def without(field: str) -> dict[str, Any]:
        return {k: v for k, v in good.items() if k != field}

    return {
        "get": lambda: Client().get(f"/watch/decoys/{row.pk}/webhook"),
        "unsigned": lambda: deliver(row, secret, good, sign=False),
        "wrong secret": lambda: deliver(row, "not-the-secret", good),
        "another decoy's secret": lambda: deliver(row, other.secret, good),
        "signature of another body": lambda: deliver(
            row, secret, good, signature=signature_for(secret, b'{"text": "x"}')),
        "bare hex signature": lambda: deliver(
            row, secret, good,
            signature=signature_for(secret, json.dumps(good).encode()).split("=", 1)[1]),
        "unknown decoy": lambda: deliver(row, secret, good, pk=999_999),
        "decoy id beyond any integer column": lambda: deliver(row, secret, good, pk=10**20),
        "inactive decoy": lambda: (Decoy.objects.filter(pk=row.pk).update(active=False),
                                   deliver(row, secret, good))[1],
        "oversized": lambda: deliver(row, secret, payload(text="x" * (16 * 1024))),
        "malformed json": lambda: deliver(row, secret, body=b'{"message_id": "m-1",'),
        "not utf-8": lambda: deliver(row, secret, body='{"text": "é"}'.encode("latin-1")),
        "json list": lambda: deliver(row, secret, body=b"[1, 2]"),
        "deeply nested json": lambda: deliver(row, secret, body=b"[" * 8000 + b"]" * 8000),
        "huge number": lambda: deliver(row, secret, body=b"9" * 10_000),
        "lone surrogate in sender": lambda: deliver(
            row, secret, body=b'{"message_id": "m-1", "sender": "\\ud800", "text": "hoi"}'),
        "missing message_id": lambda: deliver(row, secret, without("message_id")),
        "missing sender": lambda: deliver(row, secret, without("sender")),
        "missing text": lambda: deliver(row, secret, without("text")),
        "numeric message_id": lambda: deliver(row, secret, payload(message_id=12)),
        "null sender": lambda: deliver(row, secret, payload(sender=None)),
        "empty sender": lambda: deliver(row, secret, payload(sender="  ")),
        "text as list": lambda: deliver(row, secret, payload(text=["prijs"])),
        "long message_id": lambda: deliver(row, secret, payload(message_id="m" * 201)),
        "sent_at not a date": lambda: deliver(row, secret, payload(sent_at="gisteren")),
        "sent_at a number": lambda: deliver(row, secret, payload(sent_at=1706990100)),
        "unknown language": lambda: deliver(row, secret, payload(language="de")),
    }


BAD = {
    "get": (405, "method_not_allowed"),
    "unsigned": (401, "signature_missing"),
    "wrong secret": (401, "signature_invalid"),
    "another decoy's secret": (401, "signature_invalid"),
    "signature of another body": (401, "signature_invalid"),
    "bare hex signature": (401, "signature_invalid"),
    "unknown decoy": (404, "unknown_decoy"),
    "decoy id beyond any integer column": (404, "unknown_decoy"),
    "inactive decoy": (404, "unknown_decoy"),
    "oversized": (413, "too_large"),
    "malformed json": (400, "malformed_json"),
    "not utf-8": (400, "malformed_json"),
    "json list": (400, "invalid_payload"),
    "deeply nested json": (400, "invalid_payload"),
    "huge number": (400, "malformed_json"),
    "lone surrogate in sender": (400, "invalid_field"),
    "missing message_id": (400, "missing_field"),
    "missing sender": (400, "missing_field"),
    "missing text": (400, "missing_field"),
    "numeric message_id": (400, "invalid_field"),
    "null sender": (400, "invalid_field"),
    "empty sender": (400, "invalid_field"),
    "text as list": (400, "invalid_field"),
    "long message_id": (400, "invalid_field"),
    "sent_at not a date": (400, "invalid_field"),
    "sent_at a number": (400, "invalid_field"),
    "unknown language": (400, "invalid_field"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(
        decoy: tuple[Decoy, str], desk_admin: User, desk: Organisation, case: str) -> None:
    row, secret = decoy
    other, _ = decoy_services.decoy_create(actor=desk_admin, organisation=desk, name="Mila")
    # The shared setup answers a good delivery, so each refusal below is for its own reason.
    control = deliver(row, secret, payload("control"))
    assert control.status_code == 200
    contacts, audits = DecoyContact.objects.count(), len(contact_audits())

    response = _bad_requests(row, secret, other)[case]()
    status, code = BAD[case]
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert DecoyContact.objects.count() == contacts == 1
    assert len(contact_audits()) == audits == 1


def test_error_messages_are_dutch_and_name_the_field(decoy: tuple[Decoy, str]) -> None:
    row, secret = decoy
    body = deliver(row, secret, {"message_id": "m-1", "text": "hoi"}).json()
    assert body == {"error": "missing_field", "message": "Het veld sender ontbreekt."}
    body = deliver(row, secret, sign=False).json()
    assert "ontbreekt" in body["message"]


def test_rate_limit_per_decoy_answers_429_and_stores_nothing(
        decoy: tuple[Decoy, str], desk_admin: User, desk: Organisation, settings: Any) -> None:
    settings.WATCH_DECOY_RATE_LIMIT = (3, 60)
    row, secret = decoy
    other, other_secret = decoy_services.decoy_create(actor=desk_admin, organisation=desk,
                                                      name="Mila")
    # Unsigned noise does not use up the gateway's allowance.
    for _ in range(5):
        assert deliver(row, "wrong", payload("noise")).status_code == 401
    for n in range(3):
        assert deliver(row, secret, payload(f"m-{n}")).status_code == 200
    refused = deliver(row, secret, payload("m-3"))
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused["Retry-After"] == "60"
    assert DecoyContact.objects.count() == 3
    assert len(contact_audits()) == 3
    # Another decoy has its own allowance.
    assert deliver(other, other_secret, payload("m-3")).status_code == 200


# --- admin pages: access --------------------------------------------------------------------

PAGES = {
    "list": ("get", "/watch/decoys/"),
    "new": ("get", "/watch/decoys/new/"),
    "detail": ("get", "/watch/decoys/{pk}/"),
    "rotate": ("post", "/watch/decoys/{pk}/rotate/"),
}
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
OTHERS = (Role.ANALYST, Role.COUNSELLOR, Role.COORDINATOR, Role.PARTNER, Role.AUDITOR,
          Role.RESEARCHER)


def _visit(client: Client, page: str, pk: int) -> int:
    method, url = PAGES[page]
    return getattr(client, method)(url.format(pk=pk)).status_code


@pytest.mark.parametrize("role", MANAGERS)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_own_organisations_admin_and_supervisor_may_manage_its_decoys(
        decoy: tuple[Decoy, str], staff_client: Callable[..., Client], desk: Organisation,
        role: Role, page: str) -> None:
    assert _visit(staff_client(role, desk), page, decoy[0].pk) == 200


@pytest.mark.parametrize("role", MANAGERS)
@pytest.mark.parametrize("page", ["detail", "rotate"])
def test_another_organisations_decoy_is_not_found(
        decoy: tuple[Decoy, str], staff_client: Callable[..., Client], police: Organisation,
        role: Role, page: str) -> None:
    row, secret = decoy
    assert _visit(staff_client(role, police), page, row.pk) == 404
    row.refresh_from_db()
    assert row.secret == secret


def test_unknown_decoy_page_is_not_found(admin_client: Client) -> None:
    assert admin_client.get("/watch/decoys/999999/").status_code == 404
    assert admin_client.get(f"/watch/decoys/{10**20}/").status_code == 404


def test_another_organisations_list_does_not_show_our_decoys(
        decoy: tuple[Decoy, str], staff_client: Callable[..., Client],
        police: Organisation) -> None:
    html = staff_client(Role.ADMIN, police).get("/watch/decoys/").content.decode()
    assert "Lisa" not in html


@pytest.mark.parametrize("role", OTHERS)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_roles_without_the_capability_are_refused(
        decoy: tuple[Decoy, str], staff_client: Callable[..., Client], desk: Organisation,
        role: Role, page: str) -> None:
    assert _visit(staff_client(role, desk), page, decoy[0].pk) in (403, 404)


@pytest.mark.parametrize(("role", "page", "status"), [
    (Role.ADMIN, "list", 403), (Role.ADMIN, "new", 403), (Role.ADMIN, "detail", 404),
    (Role.ADMIN, "rotate", 404), (Role.SUPERVISOR, "list", 403),
    (Role.COUNSELLOR, "list", 403), (Role.COUNSELLOR, "detail", 403),
])
def test_care_organisation_runs_no_decoys(
        decoy: tuple[Decoy, str], staff_client: Callable[..., Client], care: Organisation,
        role: Role, page: str, status: int) -> None:
    assert _visit(staff_client(role, care), page, decoy[0].pk) == status


@pytest.mark.parametrize("page", sorted(PAGES))
def test_unauthenticated_visitor_is_sent_to_sign_in(decoy: tuple[Decoy, str],
                                                    page: str) -> None:
    method, url = PAGES[page]
    response = getattr(Client(), method)(url.format(pk=decoy[0].pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_posting_to_a_page_without_csrf_token_is_refused(decoy: tuple[Decoy, str],
                                                         desk_admin: User) -> None:
    client = verified_client(desk_admin)
    client.handler.enforce_csrf_checks = True
    assert client.post(f"/watch/decoys/{decoy[0].pk}/rotate/").status_code == 403


# --- admin pages: behaviour -----------------------------------------------------------------

def test_create_shows_webhook_and_secret_once_and_is_audited(admin_client: Client,
                                                             desk: Organisation) -> None:
    response = admin_client.post("/watch/decoys/new/", {
        "name": "  Sanne ", "profile": "Synthetische tekst.", "persona_age": "16",
        "active": "on"})
    assert response.status_code == 201
    row = Decoy.objects.get()
    assert (row.organisation_id, row.name, row.persona_age, row.active) == (
        desk.pk, "Sanne", 16, True)
    html = response.content.decode()
    assert f'data-testid="secret">{row.secret}<' in html
    assert f"http://testserver/watch/decoys/{row.pk}/webhook" in html
    # Never again.
    assert row.secret not in admin_client.get(f"/watch/decoys/{row.pk}/").content.decode()
    # The gateway can use what was shown.
    assert deliver(row, row.secret, payload(text="hoi")).json()["template"].endswith(":minor")
    [audit] = AuditEntry.objects.filter(event=WatchAuditEvent.DECOY_SAVED)
    assert audit.object_id == str(row.pk)
    assert audit.detail == {"change": "created", "active": True, "persona_minor": True}
    assert row.secret not in json.dumps(audit.detail)


def test_invalid_form_is_answered_with_field_errors_and_saves_nothing(
        admin_client: Client) -> None:
    response = admin_client.post("/watch/decoys/new/", {"name": " ", "persona_age": "5"})
    assert response.status_code == 400
    assert Decoy.objects.count() == 0
    assert not AuditEntry.objects.filter(event=WatchAuditEvent.DECOY_SAVED).exists()


def test_edit_saves_changed_fields_and_audits_their_names(admin_client: Client,
                                                          decoy: tuple[Decoy, str]) -> None:
    row, _ = decoy
    response = admin_client.post(f"/watch/decoys/{row.pk}/", {
        "name": "Lisa", "profile": "Nieuwe synthetische tekst.", "persona_age": "24"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.profile, row.active) == ("Nieuwe synthetische tekst.", False)
    audit = AuditEntry.objects.filter(event=WatchAuditEvent.DECOY_SAVED).order_by("-seq")[0]
    assert audit.detail == {"change": "updated", "fields": ["profile", "active"],
                            "active": False, "persona_minor": False}
    bad = admin_client.post(f"/watch/decoys/{row.pk}/", {"name": "Lisa", "persona_age": "200"})
    assert bad.status_code == 400
    row.refresh_from_db()
    assert row.persona_age == 24


def test_rotating_the_secret_shows_the_new_one_once_and_retires_the_old(
        admin_client: Client, decoy: tuple[Decoy, str]) -> None:
    row, old = decoy
    response = admin_client.post(f"/watch/decoys/{row.pk}/rotate/")
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.secret != old
    assert f'data-testid="secret">{row.secret}<' in response.content.decode()
    assert deliver(row, old).status_code == 401
    assert deliver(row, row.secret).status_code == 200
    audit = AuditEntry.objects.filter(event=WatchAuditEvent.DECOY_SAVED).order_by("-seq")[0]
    assert audit.detail == {"change": "secret_rotated"}
    assert audit.actor_id is not None


def test_list_page_is_dutch_and_shows_this_months_counts(admin_client: Client,
                                                         decoy: tuple[Decoy, str]) -> None:
    row, secret = decoy
    deliver(row, secret, payload("m-1", text="ben je 15"))
    deliver(row, secret, payload("m-2", text="prijs?"))
    html = admin_client.get("/watch/decoys/").content.decode()
    assert "Lokprofielen" in html
    month = timezone.localdate().strftime("%Y-%m")
    assert f'<td data-period="{month}">2 · 1 · 1</td>' in html
    assert f'<td data-total="{month}">2 · 1 · 1</td>' in html


# --- counts for the monitor -----------------------------------------------------------------

def _contact(decoy: Decoy, when: dt.datetime, *, returning: bool = False,
             minor_age: bool = False) -> None:
    contact = DecoyContact.objects.create(
        decoy=decoy, sender_key="0" * 64, message_key="", returning=returning,
        minor_age=minor_age, category="minor" if minor_age else "neutral",
        reply_template="2026-1:neutral")
    DecoyContact.objects.filter(pk=contact.pk).update(created_at=when)


def test_decoy_counts_by_month(decoy: tuple[Decoy, str], police: Organisation,
                               make_user: Callable[..., User], desk: Organisation) -> None:
    row, _ = decoy
    theirs, _ = decoy_services.decoy_create(
        actor=make_user(Role.ADMIN, police, password=None), organisation=police, name="Noor")
    zone = timezone.get_current_timezone()

    def at(*args: int) -> dt.datetime:
        return dt.datetime(*args, tzinfo=zone)

    _contact(row, at(2026, 1, 5, 12))
    _contact(row, at(2026, 1, 31, 23, 30), returning=True)  # local date decides: January
    _contact(row, at(2026, 3, 1, 0, 15), minor_age=True)
    _contact(row, at(2026, 3, 20, 9), returning=True, minor_age=True)
    _contact(row, at(2026, 4, 1, 9))  # after the range
    _contact(theirs, at(2026, 1, 10, 9))

    counts = decoy_counts(organisation=desk, start=dt.date(2026, 1, 1),
                          end=dt.date(2026, 3, 31))
    assert counts == [
        {"period": dt.date(2026, 1, 1), "contacts": 2, "returning": 1, "minor_age": 0},
        {"period": dt.date(2026, 2, 1), "contacts": 0, "returning": 0, "minor_age": 0},
        {"period": dt.date(2026, 3, 1), "contacts": 2, "returning": 1, "minor_age": 2},
    ]
    everyone = decoy_counts(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    assert everyone == [{"period": dt.date(2026, 1, 1), "contacts": 3, "returning": 1,
                         "minor_age": 0}]
    # Both ends are included; a range inside a month still reports that month.
    assert decoy_counts(organisation=desk, start=dt.date(2026, 3, 20),
                        end=dt.date(2026, 3, 20))[0]["contacts"] == 1
    weeks = decoy_counts(organisation=desk, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31),
                         period="week")
    assert weeks[0]["period"] == dt.date(2026, 2, 23)  # the Monday of 1 March's week
    assert sum(w["contacts"] for w in weeks) == 2
    with pytest.raises(ValueError, match="period"):
        decoy_counts(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2), period="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="before"):
        decoy_counts(start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 1))
