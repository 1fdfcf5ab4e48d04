"""App defaults, overridable in settings (``ZICHTBAAR_ESTIMATE_*``)."""

from __future__ import annotations

import os

from django.conf import settings

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def worker_mode() -> str:
    """``thread``: runs start in this process after commit; ``external``: only the
    ``run_estimates`` command picks them up (a separate worker, or several web processes)."""
    return str(getattr(settings, "ZICHTBAAR_ESTIMATE_WORKER",
                       os.environ.get("ZICHTBAAR_ESTIMATE_WORKER", "thread")))


# Write progress to the database at most this often: a bootstrap reports every replicate.
PROGRESS_INTERVAL_SECONDS = 0.5


def thread_pool_workers() -> int | None:
    """Processes a bootstrap started by the in-process worker may use (None: the library
    decides, i.e. every core). Safe from a threaded web server because the library starts
    its workers through a forkserver, never by forking the server itself."""
    value = getattr(settings, "ZICHTBAAR_ESTIMATE_THREAD_WORKERS",
                    os.environ.get("ZICHTBAAR_ESTIMATE_THREAD_WORKERS", ""))
    return int(value) if str(value).strip() else None
