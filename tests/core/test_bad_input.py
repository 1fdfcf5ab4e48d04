"""Malformed, oversized or hostile input gets field messages, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from zichtbaar.accounts.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "username"),
        ({"username": "", "password": ""}, "username"),
        ({"username": "x" * 10_000, "password": "y"}, "username"),
        ({"username": "someone", "password": "p" * 5000}, "password"),
        ({"username": "a\x00b", "password": "pw"}, "username"),
    ],
)
def test_malformed_sign_in_gets_field_errors(data, field) -> None:  # type: ignore[no-untyped-def]
    response = Client().post("/accounts/login/", data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()


def test_unknown_user_gets_the_same_message_as_a_wrong_password(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR)
    unknown = Client().post("/accounts/login/", {"username": "nobody", "password": "whatever12"})
    wrong = Client().post("/accounts/login/", {"username": user.username, "password": "nope12"})
    assert unknown.status_code == wrong.status_code == 400
    assert "onjuist" in unknown.content.decode() and "onjuist" in wrong.content.decode()


def test_verify_with_garbage_token(make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD

    user = make_user(Role.COUNSELLOR)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    for token in ["", "x" * 500, "<script>alert(1)</script>", "   "]:
        response = client.post("/accounts/verify/", {"token": token})
        assert response.status_code == 400
        assert 'id="id_token_error"' in response.content.decode()


def test_missing_csrf_token_gets_a_friendly_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "formulier is verlopen" in response.content.decode()


def test_unknown_page_is_a_404_page_not_a_trace(staff_client) -> None:  # type: ignore[no-untyped-def]
    response = staff_client(Role.ADMIN).get("/does-not-exist/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_open_redirect_after_sign_in_is_refused(make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD

    user = make_user(Role.COUNSELLOR)
    response = Client().post("/accounts/login/?next=https://evil.example/",
                             {"username": user.username, "password": PASSWORD})
    assert "evil.example" not in response["Location"]


def test_too_many_form_fields_is_a_400(staff_client) -> None:  # type: ignore[no-untyped-def]
    client = staff_client(Role.ADMIN)
    response = client.get("/audit/", {f"f{i}": "x" for i in range(2500)})
    assert response.status_code == 400
