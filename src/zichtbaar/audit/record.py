"""Writing audit entries: the only way in."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .events import ACTION_OF, AuditAction
from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "created_at", "event", "action", "actor_id", "actor_label", "organisation_id",
    "role", "object_type", "object_id", "purpose", "detail",
)


def entry_digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """HMAC over the canonical JSON of the entry and its predecessor's hash.

    Keyed with ``AUDIT_CHAIN_KEY`` (held outside the database), so someone who can write to
    the database cannot recompute a consistent chain after altering a row.
    """
    payload = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(payload["created_at"], datetime):
        payload["created_at"] = payload["created_at"].isoformat()
    message = prev_hash + json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    key = settings.AUDIT_CHAIN_KEY.encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor_id": None, "actor_label": "", "organisation_id": None, "role": ""}
    return {
        "actor_id": actor.pk,
        "actor_label": actor.get_username(),
        "organisation_id": actor.organisation_id,
        "role": ",".join(sorted(str(r) for r in getattr(actor, "role_set", ()))),
    }


def record(
    event: str,
    *,
    actor: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    organisation_id: int | None = None,
    role: str | None = None,
) -> AuditEntry:
    """Append one entry, inside the caller's transaction when there is one.

    ``role`` names the role that gave the access when the caller knows it; otherwise the
    actor's roles are stored. ``detail`` must never hold identifying data: ids and codes only.
    """
    fields: dict[str, Any] = {
        "event": str(event),
        "action": str(ACTION_OF.get(str(event), AuditAction.VIEW)),
        "object_type": object_type,
        "object_id": str(object_id),
        "purpose": purpose[:300],
        "detail": json.loads(json.dumps(detail or {}, default=str)),
        **_actor_fields(actor),
    }
    if organisation_id is not None:
        fields["organisation_id"] = organisation_id
    if role is not None:
        fields["role"] = role
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        # Microsecond-free timestamps survive every database's datetime round trip unchanged.
        fields["created_at"] = timezone.now().replace(microsecond=0)
        fields["seq"] = head.seq + 1
        entry = AuditEntry(prev_hash=head.last_hash, **fields)
        entry.entry_hash = entry_digest(head.last_hash, fields)
        entry.save()
        head.seq = entry.seq
        head.last_hash = entry.entry_hash
        head.save(update_fields=["seq", "last_hash"])
    return entry
