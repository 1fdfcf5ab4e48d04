"""The server trusts X-Forwarded-For only from the configured proxy, and rejected requests
(bad Host header, oversized forms) are one log line, not a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.test import Client, override_settings

from zichtbaar import cli

pytestmark = pytest.mark.django_db


def served_with(monkeypatch, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The keyword arguments `zichtbaar serve ARGS` gives uvicorn (nothing is started)."""
    import uvicorn

    seen: dict = {}  # type: ignore[type-arg]
    monkeypatch.setenv("ZICHTBAAR_ENV", "development")  # this process's settings
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    monkeypatch.setattr(cli, "_manage", lambda *a: None)  # no collectstatic
    monkeypatch.setattr(cli, "_django", lambda *a: None)  # set up already, by pytest-django
    assert cli.main(["serve", *args]) == 0
    return seen


def client_seen_by_app(options: dict, peer: str, forwarded_for: str) -> str:  # type: ignore[type-arg]
    """Run uvicorn's own middleware stack, as configured by `serve`, for one request."""
    import uvicorn

    seen: list[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope["client"][0])

    config = uvicorn.Config(app, proxy_headers=options["proxy_headers"],
                            forwarded_allow_ips=options["forwarded_allow_ips"])
    config.load()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
             "client": (peer, 40000), "headers": [(b"x-forwarded-for", forwarded_for.encode())]}
    asyncio.run(config.loaded_app(scope, None, None))
    return seen[0]


def test_forwarded_for_is_trusted_only_from_the_configured_proxy(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    options = served_with(monkeypatch, "--forwarded-allow-ips", "10.0.0.5")
    assert options["forwarded_allow_ips"] == "10.0.0.5"
    assert client_seen_by_app(options, "10.0.0.5", "198.51.100.1") == "198.51.100.1"
    assert client_seen_by_app(options, "203.0.113.9", "198.51.100.1") == "203.0.113.9"
    # The default trusts only a proxy on the same machine.
    default = served_with(monkeypatch)
    assert client_seen_by_app(default, "203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert client_seen_by_app(default, "127.0.0.1", "198.51.100.1") == "198.51.100.1"


def test_no_forwarded_headers_are_read_when_not_behind_a_proxy(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BEHIND_PROXY = False  # ZICHTBAAR_BEHIND_PROXY=0
    options = served_with(monkeypatch)
    assert options["proxy_headers"] is False
    assert client_seen_by_app(options, "127.0.0.1", "198.51.100.1") == "127.0.0.1"


def rejected_lines(caplog) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    return [r for r in caplog.records if r.name.startswith("django.security")]


def assert_one_line(records: list[logging.LogRecord], needle: str) -> None:
    assert records, "the rejection is logged"
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    for record in records:
        text = formatter.format(record)
        assert "\n" not in text and "Traceback" not in text, text
        assert needle in text


def test_rejected_host_header_is_one_log_line(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    response = Client().get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert_one_line(rejected_lines(caplog), "DisallowedHost")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_form_is_one_log_line(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    response = Client().post("/accounts/login/", {"username": "a", "password": "x" * 5000})
    assert response.status_code == 400
    assert_one_line(rejected_lines(caplog), "RequestDataTooBig")


def test_too_many_fields_is_one_log_line(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    response = Client().get("/accounts/login/", {f"f{i}": "x" for i in range(2500)})
    assert response.status_code == 400
    assert_one_line(rejected_lines(caplog), "TooManyFieldsSent")
