"""A small database-backed job runner for estimate runs.

The database row is the queue: a run is ``queued`` until someone claims it with one atomic
UPDATE, so the in-process thread and the ``run_estimates`` command never run it twice. The
thread pool has one worker on purpose: estimates are CPU-heavy and the web process must stay
responsive; the bootstrap inside a run is what uses the cores.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections

from . import conf

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="estimate")
        return _executor


def _work(run_id: int) -> None:
    from .services import run_execute

    try:
        # One process: forking a pool from a threaded web server risks deadlocked children.
        run_execute(run_id=run_id, workers=conf.thread_pool_workers())
    except Exception:  # a worker thread must survive anything one run does
        logger.exception("estimate run %s crashed the worker", run_id)
    finally:
        connections.close_all()


def submit(run_id: int) -> Future[None] | None:
    """Hand a committed run to the in-process worker (unless an external worker is used)."""
    if conf.worker_mode() != "thread":
        return None
    return _pool().submit(_work, run_id)
