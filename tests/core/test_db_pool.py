"""Production on PostgreSQL reuses database connections through Django's pool.

Under ASGI each HTTP request runs on a thread of its own, so Django's "persistent"
connections were never reused: every request opened a new PostgreSQL session. A real
server in production mode against a scratch database on the machine's PostgreSQL
(127.0.0.1:5432) answers a run of requests with a handful of sessions.
"""

from __future__ import annotations

import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpline.servers import free_port, start_server, wait_until_up
from tests.test_cli import production_env, run

pytestmark = pytest.mark.slow

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REQUESTS = 60


@pytest.fixture
def scratch_database() -> Iterator[str]:
    name = f"zb_pool_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sessions_of(name: str) -> int:
    """Sessions ever established to the database (PostgreSQL 14+ counts them)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s",
                           [name]).fetchone()
    return int(row[0]) if row else 0


def test_requests_share_a_few_pooled_connections(tmp_path: Path, scratch_database: str
                                                 ) -> None:
    name = scratch_database.rsplit("/", 1)[1]
    env = dict(production_env(tmp_path), DATABASE_URL=scratch_database,
               ALLOWED_HOSTS="127.0.0.1", ZICHTBAAR_SSL_REDIRECT="false",
               ZICHTBAAR_DB_POOL_SIZE="4")
    port = free_port()
    server = start_server(port, env, tmp_path / "server.log")
    try:
        wait_until_up(port)
        before = sessions_of(name)
        for _ in range(REQUESTS):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/") as response:
                assert response.status == 200
                assert b'"database": "ok"' in response.read()
        # pg_stat_database is updated when a session ends or about once a second
        subprocess.run(["sleep", "1.5"], check=True)
        opened = sessions_of(name) - before
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert opened <= 4, f"{REQUESTS} requests opened {opened} database sessions"


def test_malformed_pool_size_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(production_env(tmp_path),
               DATABASE_URL="postgres://postgres@127.0.0.1:5432/zichtbaar",
               ZICHTBAAR_DB_POOL_SIZE="many")
    result = run(["check", "--deploy"], env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "ZICHTBAAR_DB_POOL_SIZE" in line]
    assert len(lines) == 1 and "20" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
