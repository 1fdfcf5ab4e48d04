"""Two server processes behind one Redis channel layer, driven by a real websocket client.

The visitor talks to one process, the counsellor to the other; messages must cross. While
the chat runs, every request carries a distinctive client address and user agent; afterwards
neither appears in the database or in anything the servers logged.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection

from .conftest import session_cookie
from .servers import free_port, start_server, wait_until_up

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAKE_IP = "203.0.113.77"  # TEST-NET-3: documentation range, never a real visitor
FAKE_UA = "Mozilla/5.0 (ZichtbaarPrivacyProbe-4711)"
REDIS_URL = "redis://127.0.0.1:6379/5"


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return (f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")


def _dump_database() -> str:
    """Every row of every table as text (decrypting nothing: what an attacker would see)."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # table names from introspection
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


async def _recv(ws, kind: str, **match):  # type: ignore[no-untyped-def]
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


@pytest.fixture
def two_servers(tmp_path: Path, counsellor):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": _database_url(), "REDIS_URL": REDIS_URL,
           "ZICHTBAAR_DATA_DIR": str(settings.DATA_DIR), "ZICHTBAAR_LOG_LEVEL": "DEBUG",
           "ZICHTBAAR_ENV": "development"}
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server{i}.log" for i in range(2)]
    processes = [start_server(port, env, log) for port, log in zip(ports, logs, strict=True)]
    try:
        for port in ports:
            wait_until_up(port)
        yield ports, logs
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


async def test_messages_cross_processes_and_no_address_or_agent_is_kept(
        two_servers, helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    from channels.db import database_sync_to_async

    (visitor_port, staff_port), logs = two_servers
    headers = {"User-Agent": FAKE_UA, "X-Forwarded-For": FAKE_IP, "X-Real-IP": FAKE_IP,
               "Origin": f"http://127.0.0.1:{visitor_port}"}
    page = urllib.request.Request(f"http://127.0.0.1:{visitor_port}/chat/{helpline.slug}/",
                                  headers=headers)
    with urllib.request.urlopen(page) as response:  # the visitor opens the page
        assert response.status == 200
    cookie = (await database_sync_to_async(session_cookie)(counsellor)).decode()

    async with websockets.connect(
            f"ws://127.0.0.1:{visitor_port}/ws/helpline/visitor/{helpline.slug}/",
            additional_headers=headers, user_agent_header=FAKE_UA) as visitor, \
            websockets.connect(
                f"ws://127.0.0.1:{staff_port}/ws/helpline/staff/",
                additional_headers={"Origin": f"http://127.0.0.1:{staff_port}",
                                    "Cookie": cookie}) as staff:
        await _recv(staff, "snapshot")
        await visitor.send(json.dumps({"type": "start", "consent": True, "nickname": "Merel"}))
        conversation = (await _recv(visitor, "started"))["conversation"]
        await visitor.send(json.dumps({"type": "message", "text": "over de grens",
                                       "client_id": "v1"}))
        await _recv(visitor, "ack")
        await staff.send(json.dumps({"type": "availability", "available": True}))
        await staff.send(json.dumps({"type": "accept", "conversation": conversation}))
        assert (await _recv(staff, "message", seq=1))["text"] == "over de grens"
        await _recv(visitor, "status", status="active")  # pushed from the other process
        await staff.send(json.dumps({"type": "message", "conversation": conversation,
                                     "text": "antwoord uit proces twee", "client_id": "c1"}))
        reply = await _recv(visitor, "message", sender="counsellor")
        assert reply["text"] == "antwoord uit proces twee"
        await visitor.send(json.dumps({"type": "typing", "active": True}))
        await _recv(staff, "typing", sender="visitor")
        await visitor.send(json.dumps({"type": "end"}))
        await _recv(staff, "status", conversation=conversation, status="ended")

    dump = await database_sync_to_async(_dump_database)()
    assert "antwoord uit proces twee" not in dump  # message text is encrypted at rest
    assert "Merel" not in dump
    captured = "\n".join(log.read_text(errors="replace") for log in logs)
    assert "/ws/helpline/" in captured or "/chat/" in captured  # the logs did record requests
    for secret in (FAKE_IP, FAKE_UA, "ZichtbaarPrivacyProbe"):
        assert secret not in dump
        assert secret not in captured
