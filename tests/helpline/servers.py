"""Real uvicorn servers on loopback for the helpline tests and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def start_server(port: int, env: dict[str, str], log: Path,
                 server_log_level: str = "warning") -> subprocess.Popen[bytes]:
    """One server process, configured as ``zichtbaar serve`` runs it.

    Like ``zichtbaar serve``: no server access log and the server's own log at "warning"
    (at "info" uvicorn logs each websocket handshake *with the client address*).
    """
    code = (
        "import uvicorn; uvicorn.run('zichtbaar.project.asgi:application', host='127.0.0.1', "
        f"port={port}, lifespan='off', access_log=False, proxy_headers=True, "
        "forwarded_allow_ips='127.0.0.1', server_header=False, "
        f"log_level='{server_log_level}')"
    )
    handle = log.open("wb")
    return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env},
                            stdout=handle, stderr=subprocess.STDOUT)
