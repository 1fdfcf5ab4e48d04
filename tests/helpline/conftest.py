"""Helpline fixtures: an open helpline, staff with verified 2FA, websocket clients."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.conftest import verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.helpline import services
from zichtbaar.helpline.start_tokens import start_token_issue

ORIGIN = (b"origin", b"http://testserver")


def application() -> Any:
    from zichtbaar.project.asgi import application as app

    return app


@pytest.fixture
def helpline(make_org) -> Organisation:  # type: ignore[no-untyped-def]
    organisation = make_org("Hulplijn Test", OrganisationType.CARE_NGO)
    config = services.settings_for(organisation.pk)
    config.always_open = True
    config.save()
    return organisation


def session_cookie(user: User) -> bytes:
    client = verified_client(user)
    return f"zb_session={client.cookies['zb_session'].value}".encode()


class Client:
    """A websocket client that keeps every frame it receives, in order."""

    def __init__(self, communicator: WebsocketCommunicator, start_token: str = "") -> None:
        self.ws = communicator
        self.frames: list[dict[str, Any]] = []
        self.start_token = start_token  # as the visitor page hands it out (one page session)

    async def send(self, **frame: Any) -> None:
        await self.ws.send_to(text_data=json.dumps(frame))

    async def raw(self, text: str) -> None:
        await self.ws.send_to(text_data=text)

    # Generous: the whole suite shares two cores with crawler processes and property tests,
    # and a frame that comes is read at once; only a missing frame waits this long.
    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        frame = json.loads(await self.ws.receive_from(timeout=timeout))
        self.frames.append(frame)
        return frame

    async def expect(self, kind: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """Read until a frame of ``kind`` (matching ``match``) arrives."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def drain(self, timeout: float = 0.2) -> list[dict[str, Any]]:
        got = []
        while not await self.ws.receive_nothing(timeout=timeout):
            got.append(await self.receive())
        return got

    def messages(self) -> list[tuple[int, str, str]]:
        return [(f["seq"], f["sender"], f["text"]) for f in self.frames if f["type"] == "message"]

    async def close(self) -> None:
        await self.ws.disconnect()


@pytest.fixture
def visitor_ws(helpline) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    async def connect(slug: str | None = None, headers: list[tuple[bytes, bytes]] | None = None
                      ) -> Client:
        communicator = WebsocketCommunicator(
            application(), f"/ws/helpline/visitor/{slug or helpline.slug}/",
            headers=[ORIGIN, *(headers or [])])
        connected, _code = await communicator.connect(timeout=10)  # generous, as receive
        assert connected
        return Client(communicator, start_token_issue(slug or helpline.slug))

    return connect


@pytest.fixture
def staff_ws() -> Callable[..., Any]:
    async def connect(user: User, *, expect_ok: bool = True,
                      cookie: bytes | None = None) -> Client | int:
        if cookie is None:
            cookie = await database_sync_to_async(session_cookie)(user)
        communicator = WebsocketCommunicator(application(), "/ws/helpline/staff/",
                                             headers=[ORIGIN, (b"cookie", cookie)])
        connected, code = await communicator.connect(timeout=10)
        if not expect_ok:
            return code if not connected else 0
        assert connected, code
        client = Client(communicator)
        await client.expect("hello")
        await client.expect("snapshot")
        return client

    return connect


@pytest.fixture
def counsellor(make_user, helpline) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.COUNSELLOR, helpline, password=None, first_name="Sanne")


@pytest.fixture
def supervisor(make_user, helpline) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.SUPERVISOR, helpline, password=None)


def page_start_token(html: str) -> str:
    """The start token a visitor page hands out (``data-start-token``)."""
    match = re.search(r'data-start-token="([^"]+)"', html)
    assert match, "the visitor page carries no start token"
    return match.group(1)


async def start_chat(visitor: Client, text: str | None = None, **extra: Any) -> dict[str, Any]:
    extra.setdefault("start_token", visitor.start_token)
    await visitor.send(type="start", consent=True, nickname="Vlinder", **extra)
    started = await visitor.expect("started")
    await visitor.expect("queue")
    if text:
        await visitor.send(type="message", text=text, client_id="v-first")
        await visitor.expect("ack")
    return started


async def accept(staff: Client, conversation: int) -> None:
    await staff.send(type="availability", available=True)
    await staff.send(type="accept", conversation=conversation)
    await staff.expect("chat", conversation=conversation)
