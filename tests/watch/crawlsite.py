"""The synthetic ad site on loopback, and crawls run as an operator runs them: a subprocess.

Test modules import ``site_fixture`` to get the ``site`` fixture.

Twisted's reactor cannot restart, so every crawl runs in its own process
(``zichtbaar manage watch_crawl``), pointed at this test's database: the pytest-django test
database (a file for SQLite, a real database on PostgreSQL), which the tests using these
fixtures commit to (``django_db(transaction=True)``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from zichtbaar.ads.synth import generate
from zichtbaar.watch import testsite


@dataclass
class Site:
    info: testsite.SiteInfo
    server: testsite.CountingServer
    port: int

    def source_file(self, layout: str, tmp_path: Path, **overrides: Any) -> Path:
        """The bundled source for ``layout`` on this server, without delay (tests only)."""
        overrides.setdefault("rate", {"concurrency": 1, "delay_s": 0})
        path = tmp_path / f"{layout}.yaml"
        path.write_text(self.info.source_yaml(layout, **overrides))
        return path

    def html_requests(self) -> dict[str, int]:
        return {p: n for p, n in self.server.requested().items() if p.endswith(".html")}


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path) -> Iterator[Site]:
    """The site with a small corpus, served on a free port for one test."""
    root = tmp_path / "site"
    server, thread, port = testsite.serve(root)
    try:
        ads = generate(networks=2, independents=6, seed=11)
        info = testsite.build_site(root, ads, port=port)
        yield Site(info=info, server=server, port=port)
    finally:
        testsite.stop(server, thread)


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


def crawl_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "ZICHTBAAR_CRAWL_RUN_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"DATABASE_URL": database_url(), "ZICHTBAAR_DATA_DIR": str(settings.DATA_DIR),
                "ZICHTBAAR_ENV": "development"})
    env.update(extra)
    return env


def watch_crawl(*args: str | Path, env: dict[str, str] | None = None,
                wait: bool = True) -> Any:
    """``zichtbaar manage watch_crawl SOURCE… ARGS`` as a subprocess."""
    command = [sys.executable, "-m", "zichtbaar.cli", "manage", "watch_crawl",
               *(str(a) for a in args)]
    if not wait:
        return subprocess.Popen(command, env=env or crawl_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env or crawl_env(), capture_output=True, text=True,
                          timeout=300)
