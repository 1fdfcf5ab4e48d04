"""The one door to a staff member's record."""

from __future__ import annotations

from django.http import Http404

from zichtbaar.audit.events import AuditEvent
from zichtbaar.audit.record import record

from .models import User
from .roles import has_capability


def access_member(actor: User, pk: int, *, purpose: str) -> User:
    """A colleague's record, for members of the same organisation with the right capability.

    Anyone else gets a 404: whether an account exists in another organisation is not theirs
    to know. A successful look records USER_VIEWED with the stated purpose.
    """
    if not has_capability(actor, "organisation.members.view"):
        raise Http404
    member = User.objects.filter(pk=pk, organisation_id=actor.organisation_id).first()
    if member is None:
        raise Http404
    record(AuditEvent.USER_VIEWED, actor=actor, object_type="user", object_id=member.pk,
           purpose=purpose)
    return member
