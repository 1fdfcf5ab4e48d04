"""Report jobs started from the web: state and output as files under the data folder.

No table and no migration: a job is ``reports/<id>/job.json`` plus its output, written
atomically and readable by every web process that shares the data folder. One worker
thread, like the estimate runs: a report is CPU work and the web process must stay
responsive. Jobs older than ``KEEP_HOURS`` are removed when a new one starts, so a report
with exact internal numbers does not linger on disk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

KEEP_HOURS = 24
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
STATUSES = ("queued", "running", "done", "failed")

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Job:
    id: str
    year: int
    language: str
    format: str
    audience: str
    organisation_id: int
    user_id: int
    created_at: str
    status: str = "queued"
    progress: int = 0
    progress_text: str = ""
    finished_at: str = ""
    error: str = ""
    filename: str = ""
    input_sha256: str = ""
    size: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def internal(self) -> bool:
        return self.audience == "internal"

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)


def root() -> Path:
    return Path(settings.DATA_DIR) / "reports"


def _dir(job_id: str) -> Path:
    if not JOB_ID.match(job_id):
        raise KeyError(job_id)
    return root() / job_id


def _write(path: Path, data: bytes) -> None:
    """Owner-only file, replaced in one step: a reader never sees half a job."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    os.replace(tmp, path)


def save(job: Job) -> Job:
    folder = _dir(job.id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write(folder / "job.json", json.dumps(asdict(job), sort_keys=True).encode())
    return job


def load(job_id: str) -> Job | None:
    try:
        data = json.loads((_dir(job_id) / "job.json").read_text(encoding="utf-8"))
        return Job(**data)
    except (KeyError, OSError, ValueError, TypeError):
        return None


def output_path(job: Job) -> Path:
    return _dir(job.id) / "output"


def update(job_id: str, **changes: Any) -> Job | None:
    job = load(job_id)
    return None if job is None else save(replace(job, **changes))


def purge(now: dt.datetime | None = None) -> int:
    """Remove jobs older than ``KEEP_HOURS``; returns how many."""
    limit = (now or timezone.now()) - dt.timedelta(hours=KEEP_HOURS)
    removed = 0
    if not root().is_dir():
        return 0
    for folder in root().iterdir():
        job = load(folder.name) if JOB_ID.match(folder.name) else None
        if job is not None and job.created < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def create(*, year: int, language: str, fmt: str, audience: str, organisation_id: int,
           user_id: int) -> Job:
    purge()
    return save(Job(id=uuid.uuid4().hex, year=year, language=language, format=fmt,
                    audience=audience, organisation_id=organisation_id, user_id=user_id,
                    created_at=timezone.now().isoformat()))


def jobs_of(organisation_id: int, *, limit: int = 20) -> list[Job]:
    """The organisation's recent jobs, newest first (another organisation's are never read)."""
    if not root().is_dir():
        return []
    found = [job for folder in root().iterdir() if JOB_ID.match(folder.name)
             for job in [load(folder.name)] if job is not None
             and job.organisation_id == organisation_id]
    return sorted(found, key=lambda j: j.created_at, reverse=True)[:limit]


def run(job_id: str) -> Job | None:
    """Build, render and store one report; the audit entry names the person who asked."""
    from zichtbaar.accounts.models import Organisation, User

    from . import report

    job = update(job_id, status="running", progress=1)
    if job is None:
        return None
    try:
        user = User.objects.get(pk=job.user_id)
        organisation = (Organisation.objects.get(pk=job.organisation_id)
                        if job.internal else None)

        def progress(percent: int, text: str) -> None:
            update(job_id, progress=percent, progress_text=text)

        data, built = report.generate(job.year, fmt=job.format, language=job.language,
                                      organisation=organisation, progress=progress)
        _write(output_path(job), data)
        report.audit_generated(built, actor=user, fmt=job.format, via="web", job=job.id)
        return update(job_id, status="done", progress=100, progress_text="",
                      filename=report.filename(built, job.format),
                      input_sha256=built.version.input_sha256, size=len(data),
                      finished_at=timezone.now().isoformat())
    except Exception as exc:  # the page shows that it failed; the log has the detail
        logger.exception("report job %s failed", job_id)
        return update(job_id, status="failed", error=type(exc).__name__,
                      finished_at=timezone.now().isoformat())


def worker_mode() -> str:
    """``thread``: in this process after the request; ``inline``: inside the request (tests,
    a single small install); ``none``: the job waits (tests of the progress page)."""
    return str(getattr(settings, "ZICHTBAAR_REPORT_WORKER",
                       os.environ.get("ZICHTBAAR_REPORT_WORKER", "thread")))


def _work(job_id: str) -> None:
    try:
        run(job_id)
    finally:
        connections.close_all()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report")
        return _executor


def submit(job_id: str) -> Future[None] | None:
    mode = worker_mode()
    if mode == "inline":
        run(job_id)
        return None
    if mode == "thread":
        return _pool().submit(_work, job_id)
    return None
