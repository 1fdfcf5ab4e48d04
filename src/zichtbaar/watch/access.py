"""The one door to Watch records: only analysts of reporting points and police units."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from zichtbaar.accounts.roles import has_capability
from zichtbaar.audit.record import record

from .apps import WATCH_ORGANISATION_TYPES
from .events import WatchAuditEvent
from .models import Cluster


def watch_allowed(user: Any, capability: str = "watch.queue.view") -> bool:
    """Capability by role, and the organisation must be a reporting point or police unit."""
    if not has_capability(user, capability):
        return False
    organisation = getattr(user, "organisation", None)
    return organisation is not None and organisation.type in WATCH_ORGANISATION_TYPES


def access_cluster(user: Any, pk: int, *, purpose: str, capability: str = "watch.queue.view",
                   record_view: bool = True) -> Cluster:
    """A cluster, for a watching organisation; viewing is audited."""
    if not watch_allowed(user, capability):
        raise Http404
    cluster = Cluster.objects.filter(pk=pk).first()
    if cluster is None:
        raise Http404
    if record_view:
        record(WatchAuditEvent.CLUSTER_VIEWED, actor=user, object_type="watch_cluster",
               object_id=cluster.pk, purpose=purpose, organisation_id=user.organisation_id)
    return cluster
