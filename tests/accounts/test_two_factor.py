from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD
from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import Role
from zichtbaar.audit.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def current_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_password_alone_does_not_open_staff_pages(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.ADMIN)
    client = Client()
    response = sign_in(client, user.username)
    assert response.status_code == 302 and "/accounts/verify/" in response["Location"]
    for url in ["/", "/accounts/members/", "/audit/", "/accounts/security/"]:
        page = client.get(url)
        assert page.status_code == 302, url
        assert page["Location"].startswith("/accounts/verify/"), url


def test_staff_without_confirmed_device_is_sent_to_enrolment(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR, enrolled=False)
    client = Client()
    response = sign_in(client, user.username)
    assert response["Location"].startswith("/accounts/2fa/setup/")
    for url in ["/", "/audit/", "/accounts/security/"]:
        assert client.get(url)["Location"].startswith("/accounts/2fa/setup/"), url


def test_full_sign_in_with_totp_reaches_dashboard(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    client = Client()
    sign_in(client, user.username)
    response = client.post("/accounts/verify/", {"token": current_code(user), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(event="otp_verified", actor_id=user.pk).exists()


def test_enrolment_with_qr_code_then_recovery_code_signs_in_once(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.ANALYST, enrolled=False)
    client = Client()
    sign_in(client, user.username)
    page = client.get("/accounts/2fa/setup/")
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/accounts/2fa/setup/", {"token": "000000" if current_code_of(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows retries after a wrong code
    confirmed = client.post("/accounts/2fa/setup/", {"token": current_code_of(device)})
    assert confirmed.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", confirmed.content.decode())
    assert len(codes) == 10
    assert client.get("/").status_code == 200

    fresh = Client()
    sign_in(fresh, user.username)
    assert fresh.post("/accounts/verify/", {"token": codes[0]}).status_code == 302
    assert fresh.get("/").status_code == 200
    for device in TOTPDevice.objects.filter(user=user):
        device.throttle_reset()
    again = Client()
    sign_in(again, user.username)
    reused = again.post("/accounts/verify/", {"token": codes[0]})
    assert reused.status_code == 400
    assert again.get("/").status_code == 302


def current_code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@override_settings(LOCKOUT_FAILURES=3)
def test_delay_after_configured_password_failures(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    client = Client()
    for _ in range(3):
        response = sign_in(client, user.username, "wrong-password")
        assert response.status_code == 400
        assert "onjuist" in response.content.decode()
    user.refresh_from_db()
    assert user.is_locked()
    # Even the right password is refused while the delay runs, with the same answer.
    locked = sign_in(client, user.username, PASSWORD)
    assert locked.status_code == 400
    assert "te veel pogingen" in locked.content.decode()
    assert AuditEntry.objects.filter(event="account_locked", object_id=str(user.pk)).count() == 1


@override_settings(LOCKOUT_FAILURES=3)
def test_lockout_counts_wrong_authenticator_codes(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    client = Client()
    sign_in(client, user.username)
    good = current_code(user)
    bad = "123456" if good != "123456" else "654321"
    assert client.post("/accounts/verify/", {"token": bad}).status_code == 400
    assert client.post("/accounts/verify/", {"token": bad}).status_code == 400
    final = client.post("/accounts/verify/", {"token": bad})
    assert final.status_code == 302 and final["Location"] == "/accounts/login/"
    assert "te veel pogingen" in client.get("/accounts/login/").content.decode()
    user.refresh_from_db()
    assert user.is_locked()
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_passwords_are_hashed_with_argon2(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    assert user.password.startswith("argon2")


def test_weak_password_is_refused_by_validators(db) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("12345678")


def test_idle_session_expires(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == settings.IDLE_TIMEOUT_MINUTES * 60


def test_sign_out_needs_post_and_ends_session(staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.COUNSELLOR)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
