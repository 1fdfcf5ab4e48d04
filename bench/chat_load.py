"""Helpline chat load: N visitor/counsellor pairs over real websockets against uvicorn.

Prints, per channel layer (in-memory, Redis) and N: messages/s delivered, p50/p95/p99
one-way delivery latency, lost and duplicated messages; plus a bare websocket echo server
measured in the same run as the baseline (latency = half the echo round trip) and the ratio.

    .venv/bin/python bench/chat_load.py --pairs 100,500,1000 --seconds 15 --layers memory,redis

Needs PostgreSQL (DATABASE_URL, default a scratch database zb_helpline_bench) and, for the
Redis layer, Redis (redis://127.0.0.1:6379/6). Not a test: figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/zb_helpline_bench"
REDIS_URL = "redis://127.0.0.1:6379/6"
CHATS_PER_COUNSELLOR = 5


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def prepare_database(database_url: str, data_dir: str, counsellors: int) -> list[str]:
    """Fresh schema, one helpline, counsellors with verified-2FA sessions; returns cookies."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update({"DATABASE_URL": database_url, "ZICHTBAAR_DATA_DIR": data_dir,
                       "DJANGO_SETTINGS_MODULE": "zichtbaar.project.settings"})
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY

    from zichtbaar.accounts import services as accounts
    from zichtbaar.accounts.roles import OrganisationType, Role
    from zichtbaar.helpline import services

    call_command("migrate", "--no-input", "-v", "0")
    org = accounts.organisation_create(name="Hulplijn Bench", type=OrganisationType.CARE_NGO)
    config = services.settings_for(org.pk)
    config.always_open = True
    config.max_concurrent_chats = CHATS_PER_COUNSELLOR
    config.save()
    cookies = []
    for n in range(counsellors):
        user = accounts.user_create(username=f"bench-{n}", password=None, organisation=org,
                                    roles={Role.COUNSELLOR})
        device = accounts.totp_device_create_confirmed(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookies.append(f"zb_session={session.session_key}")
    return cookies


def reset_chats() -> None:
    """Between runs: no open chats or pending codings left for the counsellors."""
    from zichtbaar.helpline.models import Coding, Conversation, CounsellorState, Message

    Message.objects.all().delete()
    Coding.objects.all().delete()
    Conversation.objects.all().delete()
    CounsellorState.objects.all().delete()


def start_server(port: int, env: dict[str, str], workers: int = 1) -> subprocess.Popen[bytes]:
    """As ``zichtbaar serve --workers N`` runs it (several workers need the Redis layer),
    without per-message compression as there."""
    code = ("import uvicorn; uvicorn.run('zichtbaar.project.asgi:application', "
            f"host='127.0.0.1', port={port}, lifespan='off', access_log=False, "
            f"log_level='warning', workers={workers}, ws_per_message_deflate=False)")
    log = Path(env["ZICHTBAAR_DATA_DIR"]) / "server.log"  # errors only (log level warning)
    with log.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env},
                                stdout=handle, stderr=subprocess.STDOUT)



def _start_token(base: str) -> str:
    """A page session from the real visitor page's token endpoint (flood control)."""
    url = base.replace("ws://", "http://").replace("wss://", "https://")
    with urllib.request.urlopen(f"{url}/chat/hulplijn-bench/start-token/") as response:
        return str(json.loads(response.read())["token"])

async def wait_up(port: int) -> None:
    for _ in range(300):
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(line))
    for one in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def run_chat_load(port: int, cookies: list[str], pairs: int, seconds: float,
                        rate: float, server_pid: int = 0,
                        profile: str = "") -> dict[str, float]:
    import websockets

    origin = f"http://127.0.0.1:{port}"
    base = f"ws://127.0.0.1:{port}"
    sent: dict[str, float] = {}
    latencies: list[float] = []
    seen: dict[int, set[int]] = {}  # receiver key -> seqs
    duplicates = 0
    received_ids: set[str] = set()

    def on_message(key: int, frame: dict, direction: str) -> None:
        nonlocal duplicates
        seqs = seen.setdefault(key, set())
        if frame["seq"] in seqs:
            duplicates += 1
            return
        seqs.add(frame["seq"])
        text = frame["text"]
        if text.startswith(direction):
            received_ids.add(text)
            started = sent.get(text)
            if started is not None:
                latencies.append(time.perf_counter() - started)

    chat_of_staff: dict[int, list[int]] = {}
    accepted: set[int] = set()
    all_accepted = asyncio.Event()

    async def staff_reader(index: int, ws) -> None:  # type: ignore[no-untyped-def]
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "message" and frame["sender"] == "visitor":
                on_message(1_000_000 + frame["conversation"], frame, "v")
            elif frame["type"] == "chat":
                accepted.add(frame["conversation"])
                if len(accepted) == pairs:
                    all_accepted.set()

    async def visitor_reader(conversation: int, ws) -> None:  # type: ignore[no-untyped-def]
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "message" and frame["sender"] == "counsellor":
                on_message(conversation, frame, "c")

    # Every socket is read from the moment it opens: an unread socket stops answering the
    # server's pings (the client's queue fills) and the server rightly drops it.
    setup_started = time.perf_counter()
    tasks = []
    staff_sockets = []
    for cookie in cookies:
        ws = await websockets.connect(f"{base}/ws/helpline/staff/", max_size=None,
                                      additional_headers={"Origin": origin, "Cookie": cookie})
        tasks.append(asyncio.create_task(staff_reader(len(staff_sockets), ws)))
        await ws.send(json.dumps({"type": "availability", "available": True}))
        staff_sockets.append(ws)
    # Visitors arrive one after another and a counsellor takes each one as it arrives, as
    # on a real helpline, so the queue stays short. (Letting all N wait first and then
    # accepting them measures something else: every console re-receives an N-long queue
    # on every accept; see the closing note of the helpline issue.)
    visitors = []
    steps = {"token": 0.0, "connect": 0.0, "start": 0.0}  # summed seconds per setup step
    for index in range(pairs):
        t0 = time.perf_counter()
        token = _start_token(base)
        t1 = time.perf_counter()
        ws = await websockets.connect(f"{base}/ws/helpline/visitor/hulplijn-bench/",
                                      additional_headers={"Origin": origin})
        t2 = time.perf_counter()
        await ws.send(json.dumps({"type": "start", "consent": True, "start_token": token}))
        steps["token"] += t1 - t0
        steps["connect"] += t2 - t1
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "started":
                conversation = frame["conversation"]
                visitors.append((ws, conversation))
                steps["start"] += time.perf_counter() - t2
                tasks.append(asyncio.create_task(visitor_reader(conversation, ws)))
                break
        staff_index = index // CHATS_PER_COUNSELLOR
        chat_of_staff.setdefault(staff_index, []).append(conversation)
        await staff_sockets[staff_index].send(json.dumps(
            {"type": "accept", "conversation": conversation}))
    # Measure the steady phase only: every chat accepted and the queue refreshes settled.
    await asyncio.wait_for(all_accepted.wait(), timeout=300)
    setup = time.perf_counter() - setup_started
    print("  setup per visitor (ms): " + ", ".join(
        f"{step} {total / pairs * 1000:.1f}" for step, total in steps.items()), flush=True)
    await asyncio.sleep(3)  # let the queue refreshes caused by the accepts finish
    stop = asyncio.Event()

    async def visitor_writer(conversation: int, ws) -> None:  # type: ignore[no-untyped-def]
        n = 0
        await asyncio.sleep(1 / rate * (conversation % 100) / 100)
        while not stop.is_set():
            n += 1
            text = f"v{conversation}-{n}"
            sent[text] = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "text": text, "client_id": text}))
            await asyncio.sleep(1 / rate)

    async def staff_writer(index: int, ws) -> None:  # type: ignore[no-untyped-def]
        """The counsellor's chats each at their own moment, as people type (no bursts)."""
        n = 0
        chats = chat_of_staff.get(index, [])
        gap = 1 / rate / max(1, len(chats))
        await asyncio.sleep(gap * (index % 10) / 10)
        while not stop.is_set():
            for conversation in chats:
                n += 1
                text = f"c{conversation}-{n}"
                sent[text] = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "conversation": conversation,
                                          "text": text, "client_id": text}))
                await asyncio.sleep(gap)

    writers = [asyncio.create_task(visitor_writer(c, ws)) for ws, c in visitors]
    writers += [asyncio.create_task(staff_writer(i, ws)) for i, ws in enumerate(staff_sockets)]
    spy = None
    if profile and server_pid:  # sample the server during the steady phase only
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server_pid),
             "--subprocesses", "--gil", "--duration", str(int(seconds)), "--rate", "50",
             "--format", "raw", "-o", profile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    cpu_client, cpu_server = time.process_time(), cpu_seconds(server_pid)
    await asyncio.sleep(seconds)
    stop.set()  # writers send nothing after this
    elapsed = time.perf_counter() - started
    await asyncio.gather(*writers, return_exceptions=True)
    cpu_client = (time.process_time() - cpu_client) / elapsed * 100
    cpu_server = (cpu_seconds(server_pid) - cpu_server) / elapsed * 100
    if spy is not None:
        spy.wait()
    await asyncio.sleep(5)  # grace period for in-flight messages
    for task in tasks:
        task.cancel()
    for ws in staff_sockets + [ws for ws, _c in visitors]:
        await ws.close()
    lost = len(set(sent) - received_ids)
    return {"sent": len(sent), "delivered": len(received_ids), "lost": lost,
            "duplicates": duplicates, "msg_per_s": len(received_ids) / elapsed,
            "p50": percentile(latencies, .5) * 1000, "p95": percentile(latencies, .95) * 1000,
            "p99": percentile(latencies, .99) * 1000,
            "cpu_client": cpu_client, "cpu_server": cpu_server, "setup": setup}


ECHO = """
import asyncio, sys, websockets
async def echo(ws):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", int(sys.argv[1]), max_size=None):
        await asyncio.Future()
asyncio.run(main())
"""


async def run_echo(port: int, pairs: int, seconds: float, rate: float) -> dict[str, float]:
    import websockets

    latencies: list[float] = []
    count = 0
    stop = asyncio.Event()

    async def client(n: int) -> None:
        nonlocal count
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            await asyncio.sleep(1 / rate * (n % 100) / 100)
            while not stop.is_set():
                t0 = time.perf_counter()
                await ws.send(json.dumps({"t": n}))
                await ws.recv()
                latencies.append((time.perf_counter() - t0) / 2)
                count += 2  # a pair exchanges two messages per round
                await asyncio.sleep(1 / rate)

    tasks = [asyncio.create_task(client(n)) for n in range(2 * pairs)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"msg_per_s": count / 2 / seconds, "p50": percentile(latencies, .5) * 1000,
            "p95": percentile(latencies, .95) * 1000, "p99": percentile(latencies, .99) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="100,500,1000")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per side per chat")
    parser.add_argument("--layers", default="memory,redis")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes for the Redis layer (memory always uses 1)")
    parser.add_argument("--profile", default="",
                        help="folder for py-spy samples of the server's steady phase")
    args = parser.parse_args()
    sizes = [int(n) for n in args.pairs.split(",")]
    data_dir = tempfile.mkdtemp(prefix="zb-bench-")
    print(f"server log: {data_dir}/server.log", flush=True)
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    cookies = prepare_database(database_url, data_dir,
                               -(-max(sizes) // CHATS_PER_COUNSELLOR))
    # The server runs as in production (persistent database connections, no debug).
    secrets_dir = Path(data_dir)
    env = {"DATABASE_URL": database_url, "ZICHTBAAR_DATA_DIR": data_dir,
           "ZICHTBAAR_LOG_LEVEL": "WARNING", "ZICHTBAAR_ENV": "production",
           "SECRET_KEY": (secrets_dir / "secret_key").read_text().strip(),
           "ZICHTBAAR_FIELD_KEY": (secrets_dir / "field_key").read_text().strip(),
           "ZICHTBAAR_LINKAGE_KEY": (secrets_dir / "linkage_key").read_text().strip(),
           "ALLOWED_HOSTS": "127.0.0.1", "ZICHTBAAR_SSL_REDIRECT": "false"}
    print(f"{'server':<14}{'N':>6}{'msg/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'lost':>7}{'dup':>6}{'cpu cl%':>9}{'cpu sv%':>9}", flush=True)
    for n in sizes:
        echo_port = 18800
        echo = subprocess.Popen([sys.executable, "-c", ECHO, str(echo_port)])
        asyncio.run(wait_up(echo_port))
        base = asyncio.run(run_echo(echo_port, n, args.seconds, args.rate))
        echo.terminate()
        echo.wait()
        print(f"{'echo baseline':<14}{n:>6}{base['msg_per_s']:>9.0f}{base['p50']:>9.1f}"
              f"{base['p95']:>9.1f}{base['p99']:>9.1f}{'-':>7}{'-':>6}", flush=True)
        for layer in args.layers.split(","):
            layer_env = dict(env, REDIS_URL=REDIS_URL) if layer == "redis" else dict(env)
            if layer != "redis":
                layer_env["REDIS_URL"] = ""
            port = 18810
            workers = args.workers if layer == "redis" else 1
            server = start_server(port, layer_env, workers)
            profile = (str(Path(args.profile) / f"{layer}-{n}.txt") if args.profile else "")
            try:
                asyncio.run(wait_up(port))
                result = asyncio.run(run_chat_load(port, cookies[: -(-n // CHATS_PER_COUNSELLOR)],
                                                   n, args.seconds, args.rate, server.pid,
                                                   profile))
            finally:
                server.terminate()
                server.wait()
                reset_chats()
            label = f"chat/{layer}" + (f"x{workers}" if workers > 1 else "")
            print(f"{label:<14}{n:>6}{result['msg_per_s']:>9.0f}{result['p50']:>9.1f}"
                  f"{result['p95']:>9.1f}{result['p99']:>9.1f}{result['lost']:>7}"
                  f"{result['duplicates']:>6}{result['cpu_client']:>9.0f}"
                  f"{result['cpu_server']:>9.0f}   p99 ratio to echo: "
                  f"{result['p99'] / max(base['p99'], 1e-6):.1f}x; setup {result['setup']:.0f} s",
                  flush=True)


if __name__ == "__main__":
    main()
