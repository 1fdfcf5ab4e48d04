"""Findings of the outside probe (issue 13): session renewal at the code step, no account
enumeration through the lock-out, a growing per-account delay instead of a hard lock, a
per-client throttle that stores no address, and `next` passed on intact."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from tests.accounts.test_two_factor import current_code
from tests.conftest import PASSWORD
from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

ADDRESS = "203.0.113.77"


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def refusal(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """What an outsider sees: the status and the form's error text."""
    html = response.content.decode()
    start = html.index('<div class="alert" role="alert">')
    return response.status_code, html[start:html.index("</div>", start)]


# --- 13.2: session fixation ----------------------------------------------------------------

def test_session_key_is_renewed_when_the_code_is_accepted(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    client = Client()
    sign_in(client, user.username)
    before = client.cookies["zb_session"].value
    response = client.post("/accounts/verify/", {"token": current_code(user), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    after = client.cookies["zb_session"].value
    assert after != before
    assert client.get("/").status_code == 200
    # Whoever knew the session key of the half-signed-in session has nothing.
    fixed = Client()
    fixed.cookies["zb_session"] = before
    assert fixed.get("/").status_code == 302


def test_session_key_is_renewed_when_enrolment_is_confirmed(make_user) -> None:  # type: ignore[no-untyped-def]
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = make_user(Role.COUNSELLOR, enrolled=False)
    client = Client()
    sign_in(client, user.username)
    client.get("/accounts/2fa/setup/")
    before = client.cookies["zb_session"].value
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post("/accounts/2fa/setup/", {"token": code}).status_code == 200
    assert client.cookies["zb_session"].value != before
    assert client.get("/").status_code == 200


# --- 13.4: lock-out without enumeration, growing delay, per-client throttle -----------------

@override_settings(LOCKOUT_FAILURES=3)
def test_unknown_name_is_answered_like_a_delayed_account(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    answers: dict[str, list[tuple[int, str]]] = {}
    for name in [user.username, "niemand-bekend"]:
        client = Client()
        answers[name] = [refusal(sign_in(client, name, "wrong-password")) for _ in range(5)]
    assert answers[user.username] == answers["niemand-bekend"]
    assert answers[user.username][0][0] == 400


@override_settings(LOCKOUT_FAILURES=3, LOCKOUT_MINUTES=15)
def test_failures_bring_a_growing_delay_not_a_long_lock(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    client = Client()
    delays = []
    for _ in range(6):
        for _ in range(3 if not delays else 1):
            sign_in(client, user.username, "wrong-password")
        user.refresh_from_db()
        assert user.locked_until is not None
        delays.append((user.locked_until - timezone.now()).total_seconds())
        # While the delay runs, even the right password is refused, with the same answer.
        assert refusal(sign_in(client, user.username)) == refusal(
            sign_in(client, "niemand-bekend", "wrong-password"))
        User.objects.filter(pk=user.pk).update(
            locked_until=timezone.now() - timedelta(seconds=1))
    assert delays[0] <= 60, delays
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[:5])), delays
    assert max(delays) <= 15 * 60 + 1, delays
    # Once the delay has passed, the right password works.
    assert sign_in(client, user.username).status_code == 302


@override_settings(SIGNIN_CLIENT_FAILURES=4)
def test_one_client_is_throttled_without_storing_its_address(make_user, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    user = make_user(Role.COUNSELLOR)
    client = Client()
    for n in range(4):
        assert sign_in(client, f"gok-{n}", "wrong-password", REMOTE_ADDR=ADDRESS).status_code \
            == 400
    throttled = sign_in(client, user.username, REMOTE_ADDR=ADDRESS)
    assert throttled.status_code == 400
    assert refusal(throttled) == refusal(sign_in(Client(), "niemand", "x" * 12))
    # Another client signs in to the same account as usual: the outsider did not lock it.
    assert sign_in(Client(), user.username, REMOTE_ADDR="198.51.100.20").status_code == 302
    # The address is nowhere: not in any table, not in the logs, not in a cache key.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            assert ADDRESS not in repr(cursor.fetchall()), table
    assert ADDRESS not in caplog.text
    keys = list(getattr(cache, "_cache", {}).keys())
    assert keys and not any(ADDRESS in str(key) for key in keys)


# --- 13.5: `next` passed on to the code step ------------------------------------------------

def test_next_is_url_encoded_on_the_way_to_the_code_step(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.AUDITOR)
    target = "/audit/?q=a&event=login_failed#top"
    client = Client()
    response = client.post("/accounts/login/?" + "next=%2Faudit%2F%3Fq%3Da%26event%3Dlogin_failed",
                           {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["next"] == [target.split("#")[0]]
    done = client.post(response["Location"], {"token": current_code(user)})
    assert done.status_code == 302 and done["Location"] == target.split("#")[0]
