"""Every write of the researcher page: create, reproduce and execute estimate runs."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from zichtbaar.accounts.models import User
from zichtbaar.audit.record import record

from . import engine, jobs
from .engine import RunParameters
from .events import EstimateEvent
from .models import EstimateRun, RunStatus

logger = logging.getLogger(__name__)

UNEXPECTED_NL = ("De schatting is onverwacht mislukt. De beheerder kan de oorzaak in het "
                 "serverlog vinden; probeer het later opnieuw.")
UNEXPECTED_EN = ("The estimate failed unexpectedly. The administrator can find the cause in "
                 "the server log; please try again later.")


def run_create(*, actor: User, input_name: str, data: bytes, parameters: RunParameters,
               source: str = "upload", reproduces: EstimateRun | None = None) -> EstimateRun:
    """Store a run and queue it. The input is validated again here: services trust no caller.

    Raises the library's ``InputError`` for unusable input; then nothing is stored.
    """
    engine.load(data, parameters)
    with transaction.atomic():
        run = EstimateRun.objects.create(
            organisation_id=actor.organisation_id, created_by=actor, source=source,
            reproduces=reproduces, input_name=input_name[:255],
            input_data=EstimateRun.encode_input(data),
            input_sha256=hashlib.sha256(data).hexdigest(), input_size=len(data),
            parameters=dict(parameters), library_version=engine.library_version(),
        )
        record(EstimateEvent.RUN_CREATED, actor=actor, object_type="estimate_run",
               object_id=run.pk, purpose="estimate",
               detail={"method": parameters["method"], "ci": parameters["ci"],
                       "source": source, "reproduces": reproduces.pk if reproduces else None,
                       "input_sha256": run.input_sha256})
        transaction.on_commit(lambda: jobs.submit(run.pk))
    return run


def run_reproduce(*, actor: User, run: EstimateRun) -> EstimateRun:
    """A new run on the identical bytes and parameters (the caller has checked access)."""
    data = run.input_bytes
    if hashlib.sha256(data).hexdigest() != run.input_sha256:
        raise ValueError(f"Stored input of estimate run {run.pk} does not match its checksum.")
    return run_create(actor=actor, input_name=run.input_name, data=data,
                      parameters=engine.parameters_from(run.parameters), source=run.source,
                      reproduces=run)


class _Progress:
    """Progress callback for the library that writes to the row, at most twice a second."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0

    def __call__(self, fraction: float, text: str) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and fraction < 1:
            return
        self.last = now
        fraction = min(1.0, max(0.0, float(fraction)))
        EstimateRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
            progress=fraction, progress_text=str(text)[:200])


def run_execute(*, run_id: int, workers: int | None = None) -> bool:
    """Claim a queued run and compute it; False when someone else already claimed it.

    Failures the user can act on keep the library's sentence in both languages; anything
    else is logged with its traceback and the user sees a plain apology.
    """
    claimed = EstimateRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=0.0, progress_text="")
    if not claimed:
        return False
    run = EstimateRun.objects.get(pk=run_id)
    try:
        result = engine.execute(run.input_bytes, engine.parameters_from(run.parameters),
                                progress=_Progress(run_id), workers=workers)
    except Exception as exc:
        if engine.is_user_error(exc):
            nl, en = engine.sentences(exc)
        else:
            logger.exception("estimate run %s failed", run_id)
            nl, en = UNEXPECTED_NL, UNEXPECTED_EN
        EstimateRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error_nl=nl, error_en=en, finished_at=timezone.now())
        return True
    EstimateRun.objects.filter(pk=run_id).update(
        status=RunStatus.DONE, result=result, progress=1.0, progress_text="",
        library_version=str(result.get("version") or run.library_version),
        finished_at=timezone.now())
    return True


def runs_requeue_stale(*, older_than: timedelta) -> int:
    """Put runs back in the queue whose worker died (process restart) while running them."""
    cutoff = timezone.now() - older_than
    return EstimateRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).update(
        status=RunStatus.QUEUED, started_at=None, progress=0.0, progress_text="")


def runs_process_queued(*, limit: int | None = None) -> int:
    """Run queued runs oldest first, in this process; returns how many this call ran."""
    done = 0
    while limit is None or done < limit:
        next_id = (EstimateRun.objects.filter(status=RunStatus.QUEUED)
                   .order_by("created_at", "pk").values_list("pk", flat=True).first())
        if next_id is None:
            break
        if run_execute(run_id=next_id):
            done += 1
    return done
