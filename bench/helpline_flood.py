"""Helpline queue flooding: 500 starts from one client against a real uvicorn server.

Prints the position a real visitor is told, measured first without a flood (the baseline)
and then after one client sent 500 starts over 50 sockets (half without a start token, half
with the one page token it has) and closed them; plus how the starts were answered and how
long the flood chats stayed in the queue. Figures, not a test (that is
tests/helpline/test_flood.py).

    .venv/bin/python bench/helpline_flood.py [--grace 2]

Uses SQLite in a temporary data folder and the in-memory channel layer.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOCKETS, STARTS = 50, 10


def prepare(data_dir: str) -> str:
    os.environ.update({"ZICHTBAAR_DATA_DIR": data_dir,
                       "DJANGO_SETTINGS_MODULE": "zichtbaar.project.settings"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from zichtbaar.accounts import services as accounts
    from zichtbaar.accounts.roles import OrganisationType
    from zichtbaar.helpline import services

    call_command("migrate", "--no-input", "-v", "0")
    org = accounts.organisation_create(name="Hulplijn Flood", type=OrganisationType.CARE_NGO)
    config = services.settings_for(org.pk)
    config.always_open = True
    config.save()
    return org.slug


async def main(grace: float, data_dir: str, slug: str) -> None:
    import websockets
    from tests.helpline.servers import free_port, start_server, wait_until_up

    port = free_port()
    env = {"ZICHTBAAR_DATA_DIR": data_dir, "ZICHTBAAR_HELPLINE_GRACE_SECONDS": str(grace)}
    server = start_server(port, env, Path(data_dir) / "server.log")
    base, origin = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    try:
        wait_until_up(port)

        def page_token() -> str:
            with urllib.request.urlopen(f"{origin}/chat/{slug}/") as response:
                found = re.search(r'data-start-token="([^"]+)"', response.read().decode())
            assert found
            return found.group(1)

        async def visitor() -> tuple[object, int]:
            ws = await websockets.connect(f"{base}/ws/helpline/visitor/{slug}/",
                                          additional_headers={"Origin": origin})
            await ws.send(json.dumps({"type": "start", "consent": True,
                                      "start_token": page_token()}))
            while (frame := json.loads(await ws.recv()))["type"] != "queue":
                pass
            return ws, frame["position"]

        async def settled(ws: object, seconds: float) -> int:
            position = 0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(
                        ws.recv(), deadline - time.monotonic()))  # type: ignore[attr-defined]
                except TimeoutError:
                    break
                if frame["type"] == "queue":
                    position = frame["position"]
            return position

        first, first_position = await visitor()
        probe, baseline = await visitor()  # a second real visitor, no flood
        await probe.send(json.dumps({"type": "end"}))  # type: ignore[attr-defined]
        await probe.close()  # type: ignore[attr-defined]

        token = page_token()
        answers: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()
        sockets = []
        for index in range(SOCKETS):
            ws = await websockets.connect(f"{base}/ws/helpline/visitor/{slug}/",
                                          additional_headers={"Origin": origin})
            for _ in range(STARTS):
                frame = {"type": "start", "consent": True}
                if index >= SOCKETS // 2:
                    frame["start_token"] = token
                await ws.send(json.dumps(frame))
            sockets.append(ws)
        for ws in sockets:
            got = 0
            while got < STARTS:
                frame = json.loads(await ws.recv())
                if frame["type"] in ("started", "error"):
                    answers[frame.get("code", "started")] += 1
                    got += 1
        flood_seconds = time.perf_counter() - started
        for ws in sockets:
            await ws.close()
        closed_at = time.perf_counter()

        second, during = await visitor()
        after = await settled(second, grace + 5) or during
        left_after = time.perf_counter() - closed_at
        print(f"500 flood starts from one client in {flood_seconds:.2f} s: "
              + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))
        print(f"{'':28}{'baseline':>10}{'flood':>10}")
        print(f"{'first visitor position':28}{first_position:>10}{first_position:>10}")
        print(f"{'new visitor position':28}{baseline:>10}{during:>10}  (just after the flood)")
        print(f"{'':28}{'':>10}{after:>10}  (after the grace period, {grace:g} s; "
              f"settled {left_after:.1f} s after the sockets closed)")
        await first.close()  # type: ignore[attr-defined]
        await second.close()  # type: ignore[attr-defined]
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grace", type=float, default=2.0)
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="zb-flood-")
    asyncio.run(main(arguments.grace, folder, prepare(folder)))
