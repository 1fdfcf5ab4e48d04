"""Two server processes behind one Redis channel layer, driven by a real websocket client.

The visitor talks to one process, the counsellor to the other; messages must cross. While
the chat runs, every request carries a distinctive client address and user agent; afterwards
neither appears in the database or in anything the servers logged. A second test kills the
visitor's process mid-burst: the visitor reconnects to the surviving process, resumes, and
neither side loses or duplicates a line.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest
import websockets
from django.conf import settings
from django.db import connection

from .conftest import page_start_token, session_cookie
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
        yield ports, logs, processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=10)


async def test_messages_cross_processes_and_no_address_or_agent_is_kept(
        two_servers, helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    from channels.db import database_sync_to_async

    (visitor_port, staff_port), logs, _ = two_servers
    headers = {"User-Agent": FAKE_UA, "X-Forwarded-For": FAKE_IP, "X-Real-IP": FAKE_IP,
               "Origin": f"http://127.0.0.1:{visitor_port}"}
    page = urllib.request.Request(f"http://127.0.0.1:{visitor_port}/chat/{helpline.slug}/",
                                  headers=headers)
    with urllib.request.urlopen(page) as response:  # the visitor opens the page
        assert response.status == 200
        start_token = page_start_token(response.read().decode())
    cookie = (await database_sync_to_async(session_cookie)(counsellor)).decode()

    async with websockets.connect(
            f"ws://127.0.0.1:{visitor_port}/ws/helpline/visitor/{helpline.slug}/",
            additional_headers=headers, user_agent_header=FAKE_UA) as visitor, \
            websockets.connect(
                f"ws://127.0.0.1:{staff_port}/ws/helpline/staff/",
                additional_headers={"Origin": f"http://127.0.0.1:{staff_port}",
                                    "Cookie": cookie}) as staff:
        await _recv(staff, "snapshot")
        await visitor.send(json.dumps({"type": "start", "consent": True, "nickname": "Merel",
                                       "start_token": start_token}))
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


def _page_token(port: int, slug: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/chat/{slug}/") as response:
        return page_start_token(response.read().decode())


async def _recv_any(ws, timeout: float = 5) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_a_killed_process_loses_no_line_after_reconnect_to_the_other(
        two_servers, helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the visitor's server during a burst; resume on the survivor; nothing lost."""
    from channels.db import database_sync_to_async

    (doomed_port, survivor_port), _, processes = two_servers
    cookie = (await database_sync_to_async(session_cookie)(counsellor)).decode()
    # Below the connection's burst allowance, so no line is refused for the rate limit.
    visitor_lines = [f"bericht {i:02d}" for i in range(15)]
    counsellor_lines = ["voor de storing"] + [f"terwijl je weg was {i}" for i in range(3)]
    received: dict[int, tuple[str, str]] = {}  # what the visitor has, by seq
    acked: dict[str, int] = {}

    staff_lines: dict[int, tuple[str, str]] = {}  # what the counsellor has, by seq

    def keep(frame: dict) -> None:  # type: ignore[type-arg]
        if frame["type"] == "message":
            assert frame["seq"] not in received, f"seq {frame['seq']} delivered twice"
            received[frame["seq"]] = (frame["sender"], frame["text"])
        elif frame["type"] == "ack":
            acked[frame["client_id"]] = frame["seq"]

    async def staff_until(kind: str, **match: object) -> None:
        while True:
            frame = await _recv_any(staff)
            if frame["type"] == "message" and frame.get("conversation") == conversation:
                assert frame["seq"] not in staff_lines, f"seq {frame['seq']} twice to staff"
                staff_lines[frame["seq"]] = (frame["sender"], frame["text"])
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return

    async with websockets.connect(
            f"ws://127.0.0.1:{survivor_port}/ws/helpline/staff/",
            additional_headers={"Origin": f"http://127.0.0.1:{survivor_port}",
                                "Cookie": cookie}) as staff:
        await _recv(staff, "snapshot")
        await staff.send(json.dumps({"type": "availability", "available": True}))
        visitor = await websockets.connect(
            f"ws://127.0.0.1:{doomed_port}/ws/helpline/visitor/{helpline.slug}/",
            additional_headers={"Origin": f"http://127.0.0.1:{doomed_port}"})
        await visitor.send(json.dumps({"type": "start", "consent": True,
                                       "start_token": _page_token(doomed_port, helpline.slug)}))
        started = await _recv(visitor, "started")
        conversation, token = started["conversation"], started["token"]
        await staff.send(json.dumps({"type": "accept", "conversation": conversation}))
        await staff_until("chat", conversation=conversation)
        while (frame := await _recv_any(visitor)) != {"type": "status", "status": "active"}:
            keep(frame)
        await staff.send(json.dumps({"type": "message", "conversation": conversation,
                                     "text": counsellor_lines[0], "client_id": "c0"}))
        # A burst the doomed process is still working through when it dies.
        for i, text in enumerate(visitor_lines):
            await visitor.send(json.dumps({"type": "message", "text": text,
                                           "client_id": f"v{i}"}))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                keep(await _recv_any(visitor))
                if len(acked) >= 3 and processes[0].poll() is None:
                    processes[0].kill()  # SIGKILL: no shutdown, no flush
        processes[0].wait(timeout=10)
        assert len(acked) < len(visitor_lines), "the kill came too late to test anything"

        # The counsellor goes on writing while the visitor is away.
        for i in range(3):
            await staff.send(json.dumps({"type": "message", "conversation": conversation,
                                         "text": counsellor_lines[i + 1],
                                         "client_id": f"c{i + 1}"}))
            await staff_until("ack", client_id=f"c{i + 1}")

        async with websockets.connect(
                f"ws://127.0.0.1:{survivor_port}/ws/helpline/visitor/{helpline.slug}/",
                additional_headers={"Origin": f"http://127.0.0.1:{survivor_port}"}) as again:
            await again.send(json.dumps({"type": "resume", "token": token,
                                         "last_seq": max(received, default=0)}))
            # Resend everything not acknowledged, with the same client_id, as a client must.
            for i, text in enumerate(visitor_lines):
                if f"v{i}" not in acked:
                    await again.send(json.dumps({"type": "message", "text": text,
                                                 "client_id": f"v{i}"}))

            def complete() -> bool:
                texts = sorted(text for _, text in received.values())
                return len(acked) == len(visitor_lines) and all(
                    line in texts for line in visitor_lines + counsellor_lines)

            while not complete():
                try:
                    keep(await _recv_any(again))
                except TimeoutError:
                    raise AssertionError(f"incomplete: {acked=} {received=}") from None

        # The counsellor's side: every line once, the same as the visitor's.
        while len(staff_lines) < len(received):
            await staff_until("message")

    assert sorted(received) == list(range(1, max(received) + 1))  # no gap, no duplicate
    assert staff_lines == received
    visitor_texts = [text for sender, text in received.values() if sender == "visitor"]
    assert sorted(visitor_texts) == visitor_lines  # each burst line stored exactly once
    assert {received[seq] for seq in acked.values()} == {
        ("visitor", text) for text in visitor_lines}
    assert [text for sender, text in received.values()
            if sender == "counsellor"] == counsellor_lines
