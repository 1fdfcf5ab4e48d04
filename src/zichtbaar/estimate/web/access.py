"""The one door to a stored estimate run."""

from __future__ import annotations

from django.http import Http404

from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import has_capability
from zichtbaar.audit.record import record

from .models import EstimateRun


def access_run(actor: User, pk: int, *, purpose: str, event: str | None = None,
               detail: dict[str, str] | None = None) -> EstimateRun:
    """A run of the actor's own organisation, for users who may estimate.

    Anyone else gets a 404: that another organisation runs estimates on some data is not
    theirs to know. ``event`` names the audit entry to record (viewed, downloaded); polling
    and plot images pass ``None`` so one page view is one entry.
    """
    if not has_capability(actor, "estimate.use"):
        raise Http404
    run = EstimateRun.objects.filter(pk=pk, organisation_id=actor.organisation_id).first()
    if run is None:
        raise Http404
    if event is not None:
        record(event, actor=actor, object_type="estimate_run", object_id=run.pk,
               purpose=purpose, detail=detail)
    return run

