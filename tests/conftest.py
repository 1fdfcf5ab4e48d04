"""Organisations and users for every role, built through the services (not raw ORM calls)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from zichtbaar.accounts import services
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role

PASSWORD = "correct-horse-battery-7"


def pytest_configure(config: pytest.Config) -> None:
    """Tests read the compiled catalogues; compile them from the committed .po files first."""
    from zichtbaar.core.i18n_build import compile_catalogues

    if compile_catalogues():
        # Django may have cached catalogues read before these files existed.
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None


@pytest.fixture
def fresh_cache(settings):  # type: ignore[no-untyped-def]
    """A cache of this test's own, so rate limits start empty.

    Never ``cache.clear()``: on Redis that is FLUSHDB, which also wipes the channel layer's
    groups that another worker's websocket test is using at that moment.
    """
    import uuid

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def make_org(db) -> Callable[..., Organisation]:  # type: ignore[no-untyped-def]
    def make(name: str = "Hulplijn Test", kind: OrganisationType = OrganisationType.CARE_NGO):
        return Organisation.objects.filter(name=name).first() or services.organisation_create(
            name=name, type=kind)

    return make


@pytest.fixture
def make_user(db, make_org) -> Callable[..., User]:  # type: ignore[no-untyped-def]
    counter = {"n": 0}

    def make(role: Role = Role.COUNSELLOR, organisation: Organisation | None = None,
             *, enrolled: bool = True, username: str | None = None,
             password: str | None = PASSWORD, **extra) -> User:
        counter["n"] += 1
        user = services.user_create(
            username=username or f"{role}-{counter['n']}",
            password=password,
            organisation=organisation or make_org(),
            roles={role},
            **extra,
        )
        if enrolled:
            services.totp_device_create_confirmed(user=user)
        return user

    return make


def verified_client(user: User) -> Client:
    """A client signed in with password and a confirmed second factor."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client(make_user) -> Callable[..., Client]:  # type: ignore[no-untyped-def]
    def make(role: Role = Role.COUNSELLOR, organisation: Organisation | None = None) -> Client:
        # No password: these clients sign in directly, and Argon2 is slow on purpose.
        return verified_client(make_user(role, organisation, password=None))

    return make


# --- Browser tests: headless Debian chromium driven by Playwright (no download) -------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("ZICHTBAAR_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError(
            "Debian's chromium is required for browser tests: apt-get install chromium"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium per test module, shut down after it.

    Playwright's sync API runs an event loop in this thread while it is open; keeping it open
    for the whole session would break every asyncio test (websockets) that runs after it.
    Django's ORM in the same thread (the live server's test data) must be allowed beside it.
    """
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=chromium_path(),
                                                  args=CHROMIUM_FLAGS)
            try:
                yield instance
            finally:
                instance.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
