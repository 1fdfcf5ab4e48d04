"""Helpline fixtures: an open helpline, staff with verified 2FA, websocket clients."""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from tests.conftest import verified_client
from zichtbaar.accounts.models import Organisation, User
from zichtbaar.accounts.roles import OrganisationType, Role
from zichtbaar.helpline import services
from zichtbaar.helpline.start_tokens import start_token_issue

from .servers import free_port

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
        self._console: dict[str, Any] = {}  # a staff console's state: snapshot + updates

    def _apply(self, frame: dict[str, Any]) -> None:
        """Keep the console state as console.js does: a snapshot, then diffs (``update``)."""
        if frame["type"] == "snapshot":
            self._console = {k: v for k, v in frame.items() if k not in ("type", "queue", "live")}
            self._console["queue"] = {item["conversation"]: item for item in frame["queue"]}
            self._console["live"] = {item["conversation"]: item
                                     for item in frame.get("live", [])}
        elif frame["type"] == "update":
            assert self._console, "an update before any snapshot"
            for key, value in frame.items():
                if key in ("queue", "live"):
                    part = self._console[key]
                    for pk in value["remove"]:
                        assert pk in part, f"{key}: removed {pk}, which the console never had"
                        del part[pk]
                    part.update({item["conversation"]: item for item in value["add"]})
                elif key != "type":
                    self._console[key] = value

    def console(self) -> dict[str, Any]:
        """The console's current state; ``queue`` in the server's order (risk, arrival)."""
        state = dict(self._console)
        state["queue"] = sorted(self._console.get("queue", {}).values(),
                                key=lambda i: (not i["risk"], i["queued_at"], i["conversation"]))
        state["live"] = sorted(self._console.get("live", {}).values(),
                               key=lambda i: i["conversation"])
        return state

    async def expect_console(self, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """Read frames until the console state matches (``queue_ids`` compares the ids)."""
        def matches() -> bool:
            if not self._console:
                return False
            state = self.console()
            for key, value in match.items():
                if key == "queue_ids":
                    if [i["conversation"] for i in state["queue"]] != value:
                        return False
                elif state.get(key) != value:
                    return False
            return True

        while not matches():
            await self.receive(timeout)
        return self.console()

    async def send(self, **frame: Any) -> None:
        await self.ws.send_to(text_data=json.dumps(frame))

    async def raw(self, text: str) -> None:
        await self.ws.send_to(text_data=text)

    # Generous: the whole suite shares two cores with crawler processes and property tests,
    # and a frame that comes is read at once; only a missing frame waits this long.
    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        frame = json.loads(await self.ws.receive_from(timeout=timeout))
        self.frames.append(frame)
        self._apply(frame)
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


@pytest.fixture
def asgi_server(db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    call_command("collectstatic", "--no-input", "-v", "0")
    from zichtbaar.project import asgi

    asgi = importlib.reload(asgi)  # static files are scanned when the app is built
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi.application, host="127.0.0.1", port=port,
                                           lifespan="off", access_log=False,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


REDIS_TEST_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture(params=["memory", "pubsub", "list"])
def layer(request, settings):  # type: ignore[no-untyped-def]
    """The embedded layer, Redis pub/sub as in production (pipelined) and the list-based one."""
    import uuid

    backends = {"pubsub": "zichtbaar.core.layers.PipelinedRedisPubSubChannelLayer",
                "list": "channels_redis.core.RedisChannelLayer"}
    if request.param in backends:
        settings.CHANNEL_LAYERS = {"default": {
            "BACKEND": backends[request.param],
            "CONFIG": {"hosts": [REDIS_TEST_URL],
                       "prefix": f"zbtest-{uuid.uuid4().hex[:8]}"}}}
    return request.param


def open_console(browser: Any, base: str, user: User, errors: list[str]) -> tuple[Any, Any]:
    """A counsellor's console in its own browser context, available once its state came."""
    context = browser.new_context(locale="nl-NL")
    cookie = session_cookie(user).decode().split("=", 1)[1]
    context.add_cookies([{"name": "zb_session", "value": cookie, "url": base}])
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/helpline/")
    page.locator("#console[data-ready='1']").wait_for()  # the console's state has arrived
    page.get_by_label("Beschikbaar voor chats").check()
    return context, page
