"""Every helpline read for display, already limited to the caller's organisation."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from . import codebook as codebook_mod
from .models import (
    CannedResponse,
    Coding,
    Conversation,
    CounsellorState,
    InternalNote,
    Message,
)
from .services import settings_for, waiting_chats

DEFAULT_CHAT_MINUTES = 30


def queue(organisation_id: int) -> QuerySet[Conversation]:
    """Waiting chats of connected visitors: risk-flagged first, then by arrival."""
    return waiting_chats(organisation_id).order_by("-risk_flag", "queued_at", "pk")


def silent_waiting_count(organisation_id: int) -> int:
    """Waiting chats in which the visitor has written nothing (what a flood looks like)."""
    return Conversation.objects.filter(organisation_id=organisation_id,
                                       status=Conversation.Status.QUEUED, last_seq=0).count()


def live_chats(organisation_id: int) -> QuerySet[Conversation]:
    return (Conversation.objects
            .filter(organisation_id=organisation_id, status=Conversation.Status.ACTIVE)
            .select_related("counsellor").order_by("accepted_at"))


def chats_of(user: Any) -> QuerySet[Conversation]:
    return (Conversation.objects
            .filter(counsellor_id=user.pk, status=Conversation.Status.ACTIVE)
            .order_by("accepted_at"))


def messages_since(conversation_id: int, last_seq: int, upto: int | None = None
                   ) -> list[Message]:
    qs = Message.objects.filter(conversation_id=conversation_id, seq__gt=last_seq)
    if upto is not None:
        qs = qs.filter(seq__lte=upto)
    return list(qs.order_by("seq"))


def notes_of(conversation_id: int) -> list[InternalNote]:
    return list(InternalNote.objects.filter(conversation_id=conversation_id)
                .select_related("author"))


def canned_responses(organisation_id: int) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(organisation_id=organisation_id)


@dataclass(frozen=True)
class QueueInfo:
    position: int  # 1 = next
    waiting: int
    counsellors_available: int
    estimate_minutes: int | None  # None: no counsellor available, no honest estimate


@dataclass(frozen=True)
class QueueState:
    """The organisation-wide part of every queue position and console snapshot.

    One of these serves all waiting visitors and consoles of a process after a queue change,
    so a change costs a fixed number of queries instead of a few per open connection.
    """

    organisation_id: int
    waiting: list[Conversation]  # queue order
    available: int  # counsellors marked available
    free: int  # open places among them
    places: int  # all places among them
    limit: int  # concurrent chats per counsellor (the organisation's setting)
    typical_minutes: float
    # Available counsellors as (id, display name); the caller leaves itself out. Empty
    # when not read (visitors).
    colleagues: tuple[tuple[int, str], ...]
    live: list[Conversation] | None  # every active chat (supervisors); None: not read


# How much of the state a reader needs: a waiting visitor its position, a counsellor's
# console also the colleagues, a supervisor's console also every active chat (which grows
# with the helpline: a thousand rows per read at a thousand chats).
VISITOR, COUNSELLOR, SUPERVISOR = 0, 1, 2


def queue_state(organisation_id: int, level: int = SUPERVISOR) -> QueueState:
    """The state for readers up to ``level`` (a read at a level serves those below it)."""
    from zichtbaar.accounts.models import User
    from zichtbaar.accounts.roles import roles_for

    from .access import COUNSEL

    waiting = list(queue(organisation_id))
    available = CounsellorState.objects.filter(
        available=True, user__organisation_id=organisation_id).count()
    limit = settings_for(organisation_id).max_concurrent_chats
    busy = Conversation.objects.filter(organisation_id=organisation_id,
                                       status=Conversation.Status.ACTIVE,
                                       counsellor__helpline_state__available=True).count()
    recent = (Conversation.objects
              .filter(organisation_id=organisation_id,
                      status=Conversation.Status.ENDED, accepted_at__isnull=False)
              .order_by("-ended_at").values_list("accepted_at", "ended_at")[:50])
    minutes = [(end - start).total_seconds() / 60 for start, end in recent if end and start]
    colleagues: tuple[tuple[int, str], ...] = ()
    if level >= COUNSELLOR:  # names only: a console shows them, nothing else is needed
        colleagues = tuple(
            (pk, f"{first} {last}".strip() or username)
            for pk, first, last, username in User.objects.filter(
                organisation_id=organisation_id, is_active=True,
                helpline_state__available=True,
                role_grants__role__in=[str(r) for r in roles_for(COUNSEL)],
            ).distinct().order_by("username").values_list(
                "pk", "first_name", "last_name", "username"))
    return QueueState(
        organisation_id=organisation_id, waiting=waiting, available=available,
        free=max(0, available * limit - busy), places=available * limit, limit=limit,
        typical_minutes=statistics.median(minutes) if minutes else DEFAULT_CHAT_MINUTES,
        colleagues=colleagues,
        live=list(live_chats(organisation_id)) if level >= SUPERVISOR else None)


def queue_position(state: QueueState, conversation_id: int) -> QueueInfo:
    """Position and a deliberately rough wait estimate (rounded up to 5 minutes).

    Based on the median length of the organisation's recent chats and the free places of
    available counsellors; with nobody available we say so instead of guessing.
    """
    ids = [c.pk for c in state.waiting]
    position = ids.index(conversation_id) + 1 if conversation_id in ids else 0
    if state.available == 0 or position == 0:
        return QueueInfo(position, len(ids), state.available, None)
    if position <= state.free:
        return QueueInfo(position, len(ids), state.available, 0)
    estimate = state.typical_minutes * (position - state.free) / max(1, state.places)
    return QueueInfo(position, len(ids), state.available, max(5, 5 * math.ceil(estimate / 5)))


def wellbeing_count(user: Any, state: CounsellorState | None = None) -> int:
    """Chats coded as sexual violence / exploitation by this counsellor in the current shift.

    ``state``: the counsellor's state when the caller already read it.
    """
    state = state or CounsellorState.objects.filter(user=user).first()
    since = (state.shift_started_at if state and state.shift_started_at
             else timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    count = 0
    for coding in Coding.objects.filter(coded_by_id=user.pk, complete=True, coded_at__gte=since):
        book = codebook_mod.load(coding.codebook_version)
        if codebook_mod.is_sexual_exposure(coding.values, book):
            count += 1
    return count


def wellbeing_of_team(organisation_id: int) -> list[tuple[Any, int]]:
    states = (CounsellorState.objects.filter(user__organisation_id=organisation_id)
              .select_related("user").order_by("user__username"))
    return [(s.user, wellbeing_count(s.user)) for s in states]


def earlier_codings(conversation: Conversation) -> list[Coding]:
    """Codings (never transcripts) of the same returning visitor, only when they gave the code."""
    if conversation.visitor_id is None or not conversation.returning_claimed:
        return []
    return list(Coding.objects.filter(conversation__visitor_id=conversation.visitor_id,
                                      complete=True)
                .exclude(conversation_id=conversation.pk).order_by("-chat_date")[:10])
