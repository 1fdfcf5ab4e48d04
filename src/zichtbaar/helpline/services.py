"""Every helpline write. One transaction each; audit inside it; push events after commit.

Callers (views, websocket consumers, commands) pass ``actor``; visitor actions pass none,
because a visitor has no identity here. No function takes or stores a client address.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zichtbaar.audit.record import record

from . import codebook as codebook_mod
from . import conf
from .access import COUNSEL, SUPERVISE, helpline_can
from .errors import HelplineError
from .events import (
    HelplineAuditEvent,
    conversation_group,
    conversation_staff_group,
    organisation_group,
)
from .hours import is_open
from .models import (
    CannedResponse,
    Coding,
    Conversation,
    CounsellorState,
    HelplineSettings,
    InternalNote,
    Message,
    ReturningVisitor,
    VisitorSession,
)
from .signals import referral_created

MAX_MESSAGE_CHARS = 4000
MAX_NICKNAME_CHARS = 40
AGE_BANDS = ("under_12", "12_15", "16_17", "18_23", "24_plus")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_CHOSEN_CODE = 8
OPEN_STATUSES = (Conversation.Status.QUEUED, Conversation.Status.ACTIVE)


# --- helpers -------------------------------------------------------------------------------

def _publish(group: str, event: dict[str, Any]) -> None:
    """Send to a channel-layer group once the transaction has committed."""
    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": "helpline.event", "event": event})

    transaction.on_commit(send)


def token_hash(token: str) -> str:
    """Session tokens are 256-bit random; a plain digest is enough to keep them unusable."""
    return hashlib.sha256(token.encode()).hexdigest()


def _normalise_code(code: str) -> str:
    text = unicodedata.normalize("NFKC", code).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def code_hash(organisation_id: int, code: str) -> str:
    """Keyed with PSEUDONYM_KEY (outside the database): a database copy cannot test guesses."""
    message = f"{organisation_id}:{_normalise_code(code)}".encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()


def settings_for(organisation_id: int) -> HelplineSettings:
    found, _created = HelplineSettings.objects.get_or_create(organisation_id=organisation_id)
    return found


def is_open_now(organisation_id: int, now: datetime | None = None) -> bool:
    config = settings_for(organisation_id)
    local = timezone.localtime(now or timezone.now())
    return is_open(config.opening_hours, local, always_open=config.always_open)


def waiting_chats(organisation_id: int, *, now: datetime | None = None
                  ) -> QuerySet[Conversation]:
    """The queue: waiting chats whose visitor is connected or was, within the grace period.

    A chat whose visitor left without ``end`` drops out of every position and console at
    once when its grace period passes, even before the sweep (``conversations_end_stale``)
    has ended it.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=conf.grace_seconds())
    return Conversation.objects.filter(organisation_id=organisation_id,
                                       status=Conversation.Status.QUEUED,
                                       visitor_seen_at__gte=cutoff)


def message_event(message: Message) -> dict[str, Any]:
    return {"type": "message", "conversation": message.conversation_id, "seq": message.seq,
            "sender": message.sender, "text": message.text, "client_id": message.client_id,
            "at": message.created_at.isoformat()}


def _status_event(conversation: Conversation) -> dict[str, Any]:
    return {"type": "status", "conversation": conversation.pk, "status": conversation.status,
            "risk": conversation.risk_flag, "counsellor": conversation.counsellor_id,
            "end_reason": conversation.end_reason}


def _queue_changed(organisation_id: int, *users: int | None, visitors: bool = True) -> None:
    """The id lets a process's consoles and visitors share one re-read per change;
    ``users``: counsellors whose own console state (chats, availability, coding, shift)
    changed too; ``visitors``: whether waiting visitors' positions may have changed."""
    event = {"type": "queue_changed", "id": secrets.token_hex(8),
             "organisation": organisation_id, "visitors": visitors,
             "users": [user for user in users if user]}
    _publish(organisation_group(organisation_id), event)


def _append(conversation: Conversation, *, sender: str, text: str, author: Any = None,
            client_id: str = "", publish: bool = True) -> Message:
    """Store one transcript line with the next sequence number (row lock via UPDATE)."""
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=F("last_seq") + 1)
    seq = Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation.pk)
    conversation.last_seq = seq
    message = Message.objects.create(conversation=conversation, seq=seq, sender=sender,
                                     author=author, client_id=client_id, text=text)
    if publish:
        _publish(conversation_group(conversation.pk), message_event(message))
    return message


def _system_line(conversation: Conversation, text_in_language: Any) -> Message:
    with translation.override(conversation.language):
        text = str(text_in_language())
    return _append(conversation, sender=Message.Sender.SYSTEM, text=text)


def _lock(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise HelplineError("not_found")
    return conversation


# --- visitor side --------------------------------------------------------------------------

def clean_text(text: Any) -> str:
    if not isinstance(text, str):
        raise HelplineError("malformed")
    text = text.replace("\x00", "").strip()
    if not text:
        raise HelplineError("empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise HelplineError("too_large")
    return text


@transaction.atomic
def conversation_start(*, organisation_id: int, consent: bool, nickname: str = "",
                       age_band: str = "", language: str = "nl", returning_code: str = "",
                       session_token: str = "", page_key: str = "") -> tuple[Conversation, str]:
    """Open a chat in the queue; returns it and the tab's session token (new or the same).

    ``page_key`` names the page session of the start token (``start_tokens``): one page
    session may have ``conf.waiting_per_page()`` open chats, and a helpline takes at most
    ``conf.max_waiting()`` waiting chats; past either the start is refused with a message.
    """
    if consent is not True:
        raise HelplineError("consent_required")
    if not isinstance(nickname, str) or len(nickname) > MAX_NICKNAME_CHARS:
        raise HelplineError("invalid")
    if age_band not in ("", *AGE_BANDS):
        raise HelplineError("invalid")
    if not isinstance(returning_code, str) or len(returning_code) > 64:
        raise HelplineError("invalid")
    if not is_open_now(organisation_id):
        raise HelplineError("closed")
    session = None
    if session_token:
        session = VisitorSession.objects.filter(token_hash=token_hash(session_token),
                                                organisation_id=organisation_id).first()
    if session is not None:
        if session.blocked_until and session.blocked_until > timezone.now():
            raise HelplineError("blocked")
        open_chat = session.conversations.filter(status__in=OPEN_STATUSES).first()
        if open_chat is not None:
            return open_chat, session_token
    # One start of the helpline at a time from here (the settings row is the lock), so the
    # caps below are exact.
    HelplineSettings.objects.select_for_update().filter(organisation_id=organisation_id).first()
    if page_key and Conversation.objects.filter(
            organisation_id=organisation_id, page_key=page_key,
            status__in=OPEN_STATUSES).count() >= conf.waiting_per_page():
        raise HelplineError("too_many_chats")
    if waiting_chats(organisation_id).count() >= conf.max_waiting():
        raise HelplineError("queue_full")
    if session is None:
        session_token = secrets.token_urlsafe(32)
        session = VisitorSession.objects.create(organisation_id=organisation_id,
                                                token_hash=token_hash(session_token))
    visitor = None
    if returning_code.strip():
        visitor = ReturningVisitor.objects.filter(
            code_hash=code_hash(organisation_id, returning_code)).first()
    conversation = Conversation.objects.create(
        organisation_id=organisation_id, session=session, visitor=visitor,
        returning_claimed=visitor is not None, nickname=nickname.strip(), age_band=age_band,
        language=language if language in ("nl", "en") else "nl", consent=True,
        page_key=page_key, visitor_seen_at=timezone.now())
    _queue_changed(organisation_id)
    return conversation, session_token


def visitors_seen(conversation_ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Mark the visitors of these open chats as connected now.

    The rows are locked in id order first, the order in which batches of chat lines lock
    them (``message_post_many``); one plain UPDATE would lock them in the table's order and
    could deadlock with a batch.
    """
    if not conversation_ids:
        return 0
    with transaction.atomic():
        ids = list(Conversation.objects.select_for_update()
                   .filter(pk__in=list(conversation_ids), status__in=OPEN_STATUSES)
                   .order_by("pk").values_list("pk", flat=True))
        return Conversation.objects.filter(pk__in=ids).update(
            visitor_seen_at=now or timezone.now())


def visitor_presence(*, conversation_id: int, connected: bool) -> None:
    """The visitor's socket opened or closed: tell the chat's staff (shown in the console).

    Only an open chat; the change is published after commit to the chat's staff group.
    """
    now = timezone.now()
    updated = Conversation.objects.filter(pk=conversation_id, status__in=OPEN_STATUSES).update(
        visitor_left_at=None if connected else now)
    if updated:
        _publish(conversation_staff_group(conversation_id),
                 {"type": "presence", "conversation": conversation_id, "connected": connected,
                  "since": None if connected else now.isoformat()})


def _last_activity() -> Any:
    """Subquery: when the visitor or the counsellor last wrote (system lines do not count)."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    latest = (Message.objects.filter(conversation=OuterRef("pk"))
              .exclude(sender=Message.Sender.SYSTEM).order_by("-seq").values("created_at")[:1])
    return Coalesce(Subquery(latest), "accepted_at")


def conversations_idle_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Warn, then close, active chats in which nobody wrote for ``conf.idle_minutes()``.

    First a system line to both sides ("this chat closes in N minutes without a new
    message"); a line from either side after it cancels the closing. Returns chats closed.
    """
    limit = conf.idle_minutes()
    if limit <= 0:
        return 0
    warning = min(conf.idle_warning_minutes(), limit)
    now = now or timezone.now()
    warn_from = now - timedelta(minutes=limit - warning)
    active = (Conversation.objects.filter(status=Conversation.Status.ACTIVE)
              .annotate(activity=_last_activity()).filter(activity__lt=warn_from))
    closed = 0
    for conversation_id, activity, warned in active.values_list(
            "pk", "activity", "idle_warned_at")[:batch]:
        with transaction.atomic():
            conversation = _lock(conversation_id)
            if conversation.status != Conversation.Status.ACTIVE:
                continue
            if warned is None or warned < activity:
                conversation.idle_warned_at = now
                conversation.save(update_fields=["idle_warned_at", "updated_at"])
                minutes = max(1, round(warning))
                _system_line(conversation, lambda m=minutes: ngettext(
                    "Nobody has written for a while. Without a new message this chat "
                    "closes in %(minutes)d minute.",
                    "Nobody has written for a while. Without a new message this chat "
                    "closes in %(minutes)d minutes.", m) % {"minutes": m})
            elif now - warned >= timedelta(minutes=warning):
                conversation_end(conversation_id=conversation.pk,
                                 reason=Conversation.EndReason.IDLE)
                closed += 1
    return closed


def _stale(now: datetime) -> Q:
    queued = now - timedelta(seconds=conf.grace_seconds())
    active = now - timedelta(seconds=conf.active_grace_seconds())
    gone_since = {Conversation.Status.QUEUED: queued, Conversation.Status.ACTIVE: active}
    condition = Q(pk__in=[])
    for status, cutoff in gone_since.items():
        condition |= Q(status=status) & (Q(visitor_seen_at__lt=cutoff)
                                         | Q(visitor_seen_at__isnull=True))
    return condition


def conversations_end_stale(*, now: datetime | None = None, batch: int = 500) -> int:
    """End open chats whose visitor has had no socket for longer than the grace period.

    Waiting chats end as ``abandoned`` after ``conf.grace_seconds()``, chats with a
    counsellor as ``disconnected`` after ``conf.active_grace_seconds()``. Every server
    process runs this now and then (``consumers.PRESENCE``); each chat is re-checked under
    its row lock, so a visitor who resumed meanwhile keeps the chat and two processes never
    end one twice.
    """
    now = now or timezone.now()
    ended: dict[int, int] = {}  # organisation -> chats ended
    candidates = list(Conversation.objects.filter(_stale(now))
                      .values_list("pk", flat=True)[:batch])
    for conversation_id in candidates:
        with transaction.atomic():
            conversation = Conversation.objects.select_for_update().filter(
                _stale(now), pk=conversation_id).first()
            if conversation is None:
                continue
            conversation_end(conversation_id=conversation.pk,
                             reason=Conversation.EndReason.DISCONNECTED, announce=False)
            _queue_changed(conversation.organisation_id, conversation.counsellor_id)
            ended[conversation.organisation_id] = ended.get(conversation.organisation_id, 0) + 1
    return sum(ended.values())


def conversation_for_session(session_token: str, organisation_id: int) -> Conversation | None:
    """The tab's latest chat, open or just ended (for resume and the returning code)."""
    if not isinstance(session_token, str) or not session_token or len(session_token) > 100:
        return None
    return (Conversation.objects
            .filter(session__token_hash=token_hash(session_token),
                    organisation_id=organisation_id)
            .order_by("-pk").first())


class _Line:
    """One transcript line checked and encrypted, ready for ``_insert_lines``."""

    __slots__ = ("author_id", "cipher", "client_id", "conversation_id", "counsellor_id",
                 "created_at", "sender", "statuses", "text")

    def __init__(self, *, conversation_id: int, sender: str, text: Any, client_id: Any = "",
                 actor: Any = None) -> None:
        self.text = clean_text(text)
        if not isinstance(client_id, str) or len(client_id) > 64:
            raise HelplineError("malformed")
        if sender not in (Message.Sender.VISITOR, Message.Sender.COUNSELLOR):
            raise HelplineError("invalid")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            raise HelplineError("malformed")
        counsellor = sender == Message.Sender.COUNSELLOR
        self.conversation_id, self.sender, self.client_id = conversation_id, sender, client_id
        self.author_id = getattr(actor, "pk", None) if counsellor else None
        # A counsellor writes only in an active chat of their own; a visitor while it is open.
        self.statuses = [Conversation.Status.ACTIVE] if counsellor else list(OPEN_STATUSES)
        self.counsellor_id = (self.author_id or 0) if counsellor else None
        self.created_at = timezone.now()
        self.cipher = Message._meta.get_field("text").get_prep_value(self.text)

    def message(self, row: Sequence[Any]) -> Message:
        return Message(pk=row[0], conversation_id=self.conversation_id, seq=row[1],
                       sender=self.sender, author_id=self.author_id, client_id=self.client_id,
                       text=self.text, created_at=self.created_at)


@functools.cache  # the same text every time: built once, not per line
def _line_sql(statuses: int) -> tuple[str, str]:
    """SQLite: the guarded increment and the insert of one line (see ``_insert_lines``)."""
    conv, msg = Conversation._meta.db_table, Message._meta.db_table
    update = (f'UPDATE "{conv}" SET last_seq = last_seq + 1 '  # noqa: S608  # names from _meta
              f"WHERE id = %s AND status IN ({', '.join(['%s'] * statuses)}) "
              "AND (%s OR counsellor_id = %s) RETURNING id, last_seq")
    insert = (f'INSERT INTO "{msg}" ("conversation_id", "seq", "sender", "author_id", '  # noqa: S608
              '"client_id", "text", "created_at") VALUES (%s, %s, %s, %s, %s, %s, %s) '
              "RETURNING id, seq")
    return update, insert


@functools.cache  # the same text every time: built once, not per batch
def _batch_sql() -> str:
    """PostgreSQL: number and store a whole batch of lines in one statement.

    ``locked`` takes the chats' row locks in id order (``ORDER BY`` before ``FOR UPDATE``:
    every batch and ``visitors_seen`` lock in this order, so they cannot deadlock) and reads
    each chat's ``last_seq`` after any writer before it committed. ``accepted`` keeps the
    lines their chat allows (a visitor while it is open; its own counsellor while active)
    and numbers them on from ``last_seq`` in batch order; ``bumped`` moves ``last_seq`` to
    the last number used. If the insert fails (a resent ``client_id``) nothing of the
    statement stays, so no number is skipped. Why not the ORM: it cannot say this, and this
    is the hot path of every chat.
    """
    conv, msg = Conversation._meta.db_table, Message._meta.db_table
    return f"""
        WITH input AS (
            SELECT * FROM unnest(%s::integer[], %s::integer[], %s::text[], %s::integer[],
                                 %s::text[], %s::text[], %s::timestamptz[])
                AS t(conversation_id, ord, sender, author_id, client_id, text, created_at)
        ), locked AS (
            SELECT id, last_seq, status, counsellor_id FROM "{conv}"
            WHERE id IN (SELECT conversation_id FROM input) ORDER BY id FOR UPDATE
        ), accepted AS (
            SELECT i.*, l.last_seq + row_number() OVER (
                       PARTITION BY i.conversation_id ORDER BY i.ord) AS seq
            FROM input i JOIN locked l ON l.id = i.conversation_id
            WHERE (i.sender = %s AND l.status = ANY(%s::text[]))
               OR (i.sender = %s AND l.status = %s AND l.counsellor_id = i.author_id)
        ), inserted AS (
            INSERT INTO "{msg}" ("conversation_id", "seq", "sender", "author_id", "client_id",
                                 "text", "created_at")
            SELECT conversation_id, seq, sender, author_id, client_id, text, created_at
            FROM accepted RETURNING id, conversation_id, seq
        ), bumped AS (
            UPDATE "{conv}" c SET last_seq = top.seq
            FROM (SELECT conversation_id, max(seq) AS seq FROM accepted
                  GROUP BY conversation_id) top
            WHERE c.id = top.conversation_id
        )
        SELECT a.ord, i.id, i.seq FROM inserted i
        JOIN accepted a ON a.conversation_id = i.conversation_id AND a.seq = i.seq
    """  # noqa: S608  # table names from _meta, values as parameters


def _insert_lines(lines: Sequence[_Line]) -> list[Sequence[Any] | None]:
    """Number and store lines in the current transaction; ``None`` where the chat refused.

    Lines of one chat are numbered in the order given. On PostgreSQL the whole batch is one
    statement (one round trip, ``_batch_sql``); on SQLite, whose write lock is taken at
    BEGIN (IMMEDIATE), two statements a line.
    """
    if not lines:
        return []
    rows: list[Sequence[Any] | None] = [None] * len(lines)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_batch_sql(), [
                [line.conversation_id for line in lines], list(range(len(lines))),
                [line.sender for line in lines], [line.author_id for line in lines],
                [line.client_id for line in lines], [line.cipher for line in lines],
                [line.created_at for line in lines],
                Message.Sender.VISITOR, list(OPEN_STATUSES),
                Message.Sender.COUNSELLOR, Conversation.Status.ACTIVE])
            for ord_, pk, seq in cursor.fetchall():
                rows[ord_] = (pk, seq)
            return rows
        for index, line in enumerate(lines):
            update, insert = _line_sql(len(line.statuses))
            cursor.execute(update, [line.conversation_id, *line.statuses,
                                    line.counsellor_id is None, line.counsellor_id or 0])
            found = cursor.fetchone()
            if found is not None:
                cursor.execute(insert, [
                    found[0], found[1], line.sender, line.author_id, line.client_id,
                    line.cipher, connection.ops.adapt_datetimefield_value(line.created_at)])
                rows[index] = cursor.fetchone()
    return rows


def _insert_line(line: _Line) -> Message | None:
    row = _insert_lines([line])[0]
    return None if row is None else line.message(row)


def _message_post_checked(*, conversation_id: int, sender: str, text: str, client_id: str,
                          actor: Any) -> tuple[Message, bool]:
    """The slow path: explain a refusal, or return the line a resent ``client_id`` stored."""
    with transaction.atomic():
        conversation = _lock(conversation_id)
        if client_id:
            existing = Message.objects.filter(conversation=conversation, sender=sender,
                                              client_id=client_id).first()
            if existing is not None:
                return existing, False
        if conversation.status == Conversation.Status.ENDED:
            raise HelplineError("chat_ended")
        if sender == Message.Sender.COUNSELLOR:
            if conversation.status != Conversation.Status.ACTIVE:
                raise HelplineError("forbidden")
            if conversation.counsellor_id != getattr(actor, "pk", None):
                raise HelplineError("forbidden")
        message = _append(conversation, sender=sender, text=text,
                          author=actor if sender == Message.Sender.COUNSELLOR else None,
                          client_id=client_id, publish=False)
        return message, True


def message_post(*, conversation_id: int, sender: str, text: Any, client_id: Any = "",
                 actor: Any = None, publish: bool = True) -> tuple[Message, bool]:
    """Store a message once per client id; returns (message, created).

    The line is committed before this returns. With ``publish=False`` the caller (the
    websocket consumer, already on the event loop) sends ``message_event`` itself, which
    spares a thread hop per message; it also re-sends it for a duplicate, which is harmless
    (receivers drop a ``seq`` they have) and repairs a send lost in a crash after commit.
    """
    line = _Line(conversation_id=conversation_id, sender=sender, text=text,
                 client_id=client_id, actor=actor)
    message: Message | None = None
    try:
        # A savepoint only inside an outer transaction; alone the statement is atomic.
        with (transaction.atomic() if connection.in_atomic_block
              or connection.vendor != "postgresql" else contextlib.nullcontext()):
            message = _insert_line(line)
    except IntegrityError:
        message = None  # this client_id is stored already: fetch it below
    created = message is not None
    if message is None:
        message, created = _message_post_checked(
            conversation_id=conversation_id, sender=sender, text=line.text,
            client_id=client_id, actor=actor)
    if publish:
        _publish(conversation_group(conversation_id), message_event(message))
    return message, created


def message_post_many(lines: Sequence[Mapping[str, Any]]
                      ) -> list[tuple[Message, bool] | HelplineError]:
    """Store several lines (``message_post`` keyword arguments) with one commit.

    The consumers' per-process writer hands over the lines that arrived while the previous
    batch was being written, so under load a thousand chats cost a few commits per second
    instead of a thousand. The lines of one chat keep their order, and chats are locked in
    id order (``_batch_sql``), so concurrent batches cannot deadlock. A line the batch
    cannot store (refused, or a resent ``client_id``; the latter, like any database error,
    undoes the whole batch) is afterwards handled alone by ``message_post``, which stores
    it or explains the refusal. Each result is the line's ``(message, created)`` or its
    error; nothing is published.
    """
    results: list[tuple[Message, bool] | HelplineError | None] = [None] * len(lines)
    prepared: list[tuple[int, _Line]] = []
    for index, kwargs in enumerate(lines):
        try:
            prepared.append((index, _Line(**kwargs)))
        except HelplineError as exc:
            results[index] = exc
    try:
        with transaction.atomic():
            rows = _insert_lines([line for _index, line in prepared])
    except DatabaseError:  # a resent client id, or a deadlock with another writer
        rows = [None] * len(prepared)
    for (index, line), row in zip(prepared, rows, strict=True):
        if row is not None:
            results[index] = (line.message(row), True)
    for index, kwargs in enumerate(lines):
        if results[index] is None:
            try:
                results[index] = message_post(publish=False, **kwargs)
            except HelplineError as exc:
                results[index] = exc
    return results  # type: ignore[return-value]  # every index is filled above


@transaction.atomic
def conversation_end(*, conversation_id: int, reason: str, actor: Any = None,
                     announce: bool = True) -> Conversation:
    """``announce=False``: the caller sends one ``queue_changed`` for a batch of ends."""
    conversation = _lock(conversation_id)
    if conversation.status == Conversation.Status.ENDED:
        return conversation
    was_queued = conversation.status == Conversation.Status.QUEUED
    lost = reason == Conversation.EndReason.DISCONNECTED
    if was_queued and reason in (Conversation.EndReason.VISITOR,
                                 Conversation.EndReason.DISCONNECTED):
        reason = Conversation.EndReason.ABANDONED
    conversation.status = Conversation.Status.ENDED
    conversation.end_reason = reason
    conversation.ended_at = timezone.now()
    conversation.save(update_fields=["status", "end_reason", "ended_at", "updated_at"])
    if reason == Conversation.EndReason.QUICK_EXIT:
        _system_line(conversation, lambda: _("The visitor left the chat (quick exit)."))
    elif reason == Conversation.EndReason.COUNSELLOR:
        _system_line(conversation, lambda: _("The counsellor ended the chat."))
    elif reason in (Conversation.EndReason.BLOCKED, Conversation.EndReason.CLEARED):
        _system_line(conversation, lambda: _("This chat was ended by the helpline."))
    elif lost:
        _system_line(conversation,
                     lambda: _("The visitor's connection was lost; the chat has ended."))
    elif reason == Conversation.EndReason.IDLE:
        _system_line(conversation,
                     lambda: _("Nobody wrote for a while, so this chat has been closed. You "
                               "can start a new chat at any time."))
    elif reason == Conversation.EndReason.VISITOR_GONE:
        _system_line(conversation,
                     lambda: _("The counsellor closed this chat because you seemed to have "
                               "left. You can start a new chat at any time."))
    else:
        _system_line(conversation, lambda: _("The visitor ended the chat."))
    _publish(conversation_group(conversation.pk), _status_event(conversation))
    if announce:
        _queue_changed(conversation.organisation_id, conversation.counsellor_id)
    return conversation


@transaction.atomic
def returning_code_issue(*, conversation_id: int, chosen: str = "") -> str | None:
    """Give the visitor a code that links later chats (None when already linked).

    The code itself is never stored, only its keyed hash; a chosen code word must be long
    enough not to collide with someone else's.
    """
    conversation = _lock(conversation_id)
    if conversation.status != Conversation.Status.ENDED:
        raise HelplineError("forbidden")
    if conversation.visitor_id is not None:
        return None
    if not isinstance(chosen, str) or len(chosen) > 64:
        raise HelplineError("invalid")
    if chosen and len(_normalise_code(chosen)) < MIN_CHOSEN_CODE:
        raise HelplineError("invalid")
    code = chosen.strip() or "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _i in range(4)) for _j in range(3))
    digest = code_hash(conversation.organisation_id, code)
    if ReturningVisitor.objects.filter(code_hash=digest).exists():
        raise HelplineError("invalid")
    visitor = ReturningVisitor.objects.create(
        organisation_id=conversation.organisation_id, code_hash=digest,
        first_seen=timezone.localdate(conversation.queued_at))
    conversation.visitor = visitor
    conversation.save(update_fields=["visitor", "updated_at"])
    Coding.objects.filter(conversation=conversation).update(first_contact=True)
    return code


# --- counsellor side -----------------------------------------------------------------------

def _require(actor: Any, capability: str) -> None:
    if not helpline_can(actor, capability):
        raise HelplineError("forbidden")


def _own_conversation(actor: Any, conversation_id: int) -> Conversation:
    conversation = _lock(conversation_id)
    if conversation.organisation_id != actor.organisation_id:
        raise HelplineError("not_found")
    return conversation


def pending_coding(actor: Any) -> Coding | None:
    """An ended chat of this counsellor that still needs its coding."""
    return (Coding.objects.filter(coded_by_id=actor.pk, complete=False,
                                  conversation__status=Conversation.Status.ENDED)
            .order_by("conversation__ended_at").first())


def _check_capacity(user: Any) -> None:
    limit = settings_for(user.organisation_id).max_concurrent_chats
    active = Conversation.objects.filter(counsellor_id=user.pk,
                                         status=Conversation.Status.ACTIVE).count()
    if active >= limit:
        raise HelplineError("limit_reached")


@transaction.atomic
def availability_set(*, actor: Any, available: bool) -> CounsellorState:
    _require(actor, COUNSEL)
    state, _created = CounsellorState.objects.select_for_update().get_or_create(user=actor)
    if available and not state.available:
        state.shift_started_at = state.shift_started_at or timezone.now()
    state.available = bool(available)
    state.save()
    _queue_changed(actor.organisation_id, actor.pk, visitors=False)
    return state


@transaction.atomic
def shift_start(*, actor: Any) -> CounsellorState:
    """Reset the well-being count: a new shift starts now."""
    _require(actor, COUNSEL)
    state, _created = CounsellorState.objects.get_or_create(user=actor)
    state.shift_started_at = timezone.now()
    state.save()
    _queue_changed(actor.organisation_id, actor.pk, visitors=False)  # the console's count
    return state


@transaction.atomic
def conversation_accept(*, conversation_id: int, actor: Any) -> Conversation:
    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    if conversation.status != Conversation.Status.QUEUED:
        raise HelplineError("not_queued")
    if pending_coding(actor) is not None:
        raise HelplineError("coding_required")
    _check_capacity(actor)
    conversation.status = Conversation.Status.ACTIVE
    conversation.counsellor = actor
    conversation.accepted_at = timezone.now()
    conversation.save(update_fields=["status", "counsellor", "accepted_at", "updated_at"])
    Coding.objects.get_or_create(
        conversation=conversation,
        defaults={"organisation_id": conversation.organisation_id, "coded_by": actor,
                  "codebook_version": codebook_mod.CURRENT_VERSION,
                  "chat_date": timezone.localdate(conversation.queued_at),
                  "first_contact": not conversation.returning_claimed,
                  "values": {"age_band": conversation.age_band or None}})
    _system_line(conversation, lambda: _("A counsellor has joined the chat."))
    record(HelplineAuditEvent.CHAT_ACCEPTED, actor=actor, object_type="helpline_chat",
           object_id=conversation.pk)
    _publish(conversation_group(conversation.pk), _status_event(conversation))
    _queue_changed(conversation.organisation_id, actor.pk)
    return conversation


def _counsellor_of(actor: Any, conversation: Conversation) -> None:
    if conversation.counsellor_id != actor.pk and not helpline_can(actor, SUPERVISE):
        raise HelplineError("forbidden")


@transaction.atomic
def conversation_end_by_staff(*, conversation_id: int, actor: Any,
                              abandoned: bool = False) -> Conversation:
    """``abandoned``: the counsellor closes a chat the visitor seems to have left; its
    coding then asks only the core questions (``codebook.validate(short=True)``)."""
    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    _counsellor_of(actor, conversation)
    reason = (Conversation.EndReason.VISITOR_GONE if abandoned
              else Conversation.EndReason.COUNSELLOR)
    return conversation_end(conversation_id=conversation.pk, reason=reason, actor=actor)


@transaction.atomic
def conversation_transfer(*, conversation_id: int, actor: Any, to_user_id: int) -> Conversation:
    """Hand a live chat to a colleague; the coding draft (one per chat) goes with it."""
    from zichtbaar.accounts.models import User

    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    _counsellor_of(actor, conversation)
    if conversation.status != Conversation.Status.ACTIVE:
        raise HelplineError("forbidden")
    target = User.objects.filter(pk=to_user_id, organisation_id=actor.organisation_id,
                                 is_active=True).first()
    if (target is None or target.pk == conversation.counsellor_id
            or not helpline_can(target, COUNSEL)
            or not CounsellorState.objects.filter(user=target, available=True).exists()):
        raise HelplineError("not_available")
    _check_capacity(target)
    previous = conversation.counsellor_id
    conversation.counsellor = target
    conversation.save(update_fields=["counsellor", "updated_at"])
    Coding.objects.filter(conversation=conversation).update(coded_by=target)
    _system_line(conversation, lambda: _("Another counsellor has taken over the chat."))
    record(HelplineAuditEvent.CHAT_TRANSFERRED, actor=actor, object_type="helpline_chat",
           object_id=conversation.pk, detail={"from": previous, "to": target.pk})
    _publish(conversation_group(conversation.pk), _status_event(conversation))
    _queue_changed(conversation.organisation_id, previous, target.pk)
    return conversation


@transaction.atomic
def conversation_take_over(*, conversation_id: int, actor: Any) -> Conversation:
    _require(actor, SUPERVISE)
    conversation = _own_conversation(actor, conversation_id)
    if conversation.status != Conversation.Status.ACTIVE:
        raise HelplineError("forbidden")
    previous = conversation.counsellor_id
    conversation.counsellor = actor
    conversation.save(update_fields=["counsellor", "updated_at"])
    Coding.objects.filter(conversation=conversation).update(coded_by=actor)
    _system_line(conversation, lambda: _("Another counsellor has taken over the chat."))
    record(HelplineAuditEvent.CHAT_TAKEN_OVER, actor=actor, object_type="helpline_chat",
           object_id=conversation.pk, detail={"from": previous})
    _publish(conversation_group(conversation.pk), _status_event(conversation))
    _queue_changed(conversation.organisation_id, previous, actor.pk)
    return conversation


@transaction.atomic
def conversation_flag_risk(*, conversation_id: int, actor: Any, flag: bool) -> Conversation:
    """A flagged chat moves to the front of the queue (and stands out in the console)."""
    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    conversation.risk_flag = bool(flag)
    conversation.save(update_fields=["risk_flag", "updated_at"])
    _publish(conversation_staff_group(conversation.pk), _status_event(conversation))
    _queue_changed(conversation.organisation_id)
    return conversation


@transaction.atomic
def note_add(*, conversation_id: int, actor: Any, kind: str, text: Any) -> InternalNote:
    """Internal note (counsellor) or whisper (supervisor): staff only, never to the visitor."""
    _require(actor, SUPERVISE if kind == InternalNote.Kind.WHISPER else COUNSEL)
    text = clean_text(text)
    conversation = _own_conversation(actor, conversation_id)
    if kind == InternalNote.Kind.NOTE:
        _counsellor_of(actor, conversation)
    note = InternalNote.objects.create(conversation=conversation, kind=kind, author=actor,
                                       text=text)
    _publish(conversation_staff_group(conversation.pk), {
        "type": kind, "conversation": conversation.pk, "id": note.pk, "text": note.text,
        "author": actor.get_full_name() or actor.get_username(),
        "at": note.created_at.isoformat()})
    return note


@transaction.atomic
def session_block(*, conversation_id: int, actor: Any, minutes: int) -> Conversation:
    """Temporarily block the visitor's tab session and end the chat (abuse control)."""
    _require(actor, SUPERVISE)
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise HelplineError("invalid")
    conversation = _own_conversation(actor, conversation_id)
    if conversation.session_id is not None:
        VisitorSession.objects.filter(pk=conversation.session_id).update(
            blocked_until=timezone.now() + timedelta(minutes=minutes))
    record(HelplineAuditEvent.SESSION_BLOCKED, actor=actor, object_type="helpline_chat",
           object_id=conversation.pk, detail={"minutes": minutes})
    return conversation_end(conversation_id=conversation.pk,
                            reason=Conversation.EndReason.BLOCKED, actor=actor)


QUEUE_CLEAR_SCOPES = ("silent", "all")


@transaction.atomic
def queue_clear(*, actor: Any, scope: str = "silent") -> int:
    """End waiting chats in bulk: a supervisor's answer to a suspected flood.

    ``silent``: only waiting chats in which the visitor has not written anything (what a
    flood of scripted starts looks like); ``all``: every waiting chat. Each visitor still
    connected sees the chat end ("ended by the helpline"); one audit entry names them all.
    """
    _require(actor, SUPERVISE)
    if scope not in QUEUE_CLEAR_SCOPES:
        raise HelplineError("invalid")
    waiting = Conversation.objects.select_for_update().filter(
        organisation_id=actor.organisation_id, status=Conversation.Status.QUEUED)
    if scope == "silent":
        waiting = waiting.filter(last_seq=0)  # a waiting chat has only the visitor's lines
    ids = list(waiting.order_by("pk").values_list("pk", flat=True))
    for conversation_id in ids:
        conversation_end(conversation_id=conversation_id,
                         reason=Conversation.EndReason.CLEARED, actor=actor, announce=False)
    record(HelplineAuditEvent.QUEUE_CLEARED, actor=actor, object_type="helpline_queue",
           object_id=actor.organisation_id, organisation_id=actor.organisation_id,
           detail={"scope": scope, "count": len(ids), "chats": ids[:1000]})
    if ids:
        _queue_changed(actor.organisation_id)
    return len(ids)


def read_along_record(*, conversation_id: int, actor: Any) -> None:
    record(HelplineAuditEvent.CHAT_READ_ALONG, actor=actor, object_type="helpline_chat",
           object_id=conversation_id)


# --- coding and referral -------------------------------------------------------------------

def coding_is_short(conversation: Conversation) -> bool:
    """A chat closed as abandoned is coded with the core questions only."""
    return conversation.end_reason == Conversation.EndReason.VISITOR_GONE


@transaction.atomic
def coding_save(*, conversation_id: int, actor: Any, values: Mapping[str, Any],
                complete: bool) -> tuple[Coding, dict[str, str]]:
    """Save the coding; with ``complete`` every required field must be valid."""
    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    _counsellor_of(actor, conversation)
    coding = Coding.objects.select_for_update().filter(conversation=conversation).first()
    if coding is None:
        coding = Coding(conversation=conversation, organisation_id=conversation.organisation_id,
                        codebook_version=codebook_mod.CURRENT_VERSION, coded_by=actor,
                        chat_date=timezone.localdate(conversation.queued_at))
    book = codebook_mod.load(coding.codebook_version)
    clean, errors = codebook_mod.validate(values, book, short=coding_is_short(conversation))
    if complete and conversation.status != Conversation.Status.ENDED:
        errors.setdefault("__all__", "chat_open")
    if complete and errors:
        return coding, errors
    if not complete:
        errors = {k: v for k, v in errors.items() if v == "invalid"}
        if errors:
            return coding, errors
    coding.values = clean
    coding.complete = bool(complete)
    coding.coded_at = timezone.now()
    coding.save()
    record(HelplineAuditEvent.CODING_SAVED, actor=actor, object_type="helpline_chat",
           object_id=conversation.pk,
           detail={"complete": coding.complete, "codebook": coding.codebook_version})
    if coding.complete:  # the console may take the next chat; its shift count may grow
        _queue_changed(conversation.organisation_id, actor.pk, visitors=False)
    return coding, {}


@transaction.atomic
def referral_consent_record(*, conversation_id: int, actor: Any, consent: bool) -> Conversation:
    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    _counsellor_of(actor, conversation)
    conversation.referral_consent = bool(consent)
    conversation.save(update_fields=["referral_consent", "updated_at"])
    return conversation


@transaction.atomic
def referral_create(*, conversation_id: int, actor: Any, referred_to: Sequence[str]) -> Any:
    """A referral made with the visitor's consent: coded fields only, announced after commit."""
    from .models import Referral

    _require(actor, COUNSEL)
    conversation = _own_conversation(actor, conversation_id)
    _counsellor_of(actor, conversation)
    if not conversation.referral_consent:
        raise HelplineError("no_consent")
    coding = Coding.objects.filter(conversation=conversation).first()
    if coding is None or not coding.complete:
        raise HelplineError("coding_incomplete")
    allowed = codebook_mod.load(coding.codebook_version).field("referral_made").values
    targets = sorted(set(referred_to))
    if not targets or any(t not in allowed for t in targets):
        raise HelplineError("invalid")
    referral = Referral.objects.create(
        conversation=conversation, organisation_id=conversation.organisation_id,
        codebook_version=coding.codebook_version, coding=dict(coding.values),
        referred_to=targets, consent=True, created_by=actor)
    record(HelplineAuditEvent.REFERRAL_CREATED, actor=actor, object_type="helpline_referral",
           object_id=referral.pk, detail={"chat": conversation.pk, "referred_to": targets})
    payload = {"referral_id": referral.pk, "organisation_id": referral.organisation_id,
               "coding": dict(referral.coding), "codebook_version": referral.codebook_version,
               "referred_to": list(targets), "consent": True, "actor_id": actor.pk}
    transaction.on_commit(lambda: referral_created.send(sender="helpline", **payload))
    return referral


# --- organisation settings -----------------------------------------------------------------

@transaction.atomic
def canned_response_save(*, actor: Any, title: str, text: str,
                         pk: int | None = None) -> CannedResponse:
    from .access import MANAGE

    _require(actor, MANAGE)
    item = (CannedResponse.objects.filter(pk=pk, organisation_id=actor.organisation_id).first()
            if pk else CannedResponse(organisation_id=actor.organisation_id))
    if item is None:
        raise HelplineError("not_found")
    item.title, item.text = title, text
    item.save()
    return item


@transaction.atomic
def canned_response_delete(*, actor: Any, pk: int) -> None:
    from .access import MANAGE

    _require(actor, MANAGE)
    CannedResponse.objects.filter(pk=pk, organisation_id=actor.organisation_id).delete()


@transaction.atomic
def settings_update(*, actor: Any, max_concurrent_chats: int, retention_days: int,
                    always_open: bool, opening_hours: dict[str, Any]) -> HelplineSettings:
    from .access import MANAGE

    _require(actor, MANAGE)
    config = settings_for(actor.organisation_id)
    config.max_concurrent_chats = max_concurrent_chats
    config.retention_days = retention_days
    config.always_open = always_open
    config.opening_hours = opening_hours
    config.save()
    record(HelplineAuditEvent.SETTINGS_CHANGED, actor=actor, object_type="helpline_settings",
           object_id=config.pk, detail={"max_concurrent_chats": max_concurrent_chats,
                                        "retention_days": retention_days})
    return config


# --- retention -----------------------------------------------------------------------------

def transcripts_delete_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Delete transcripts (messages, notes, nickname) past each organisation's retention.

    Codings, referrals and returning-visitor hashes stay: they carry the counts.
    Open chats are never touched.
    """
    now = now or timezone.now()
    totals = {"conversations": 0, "messages": 0}
    for config in HelplineSettings.objects.all():
        cutoff = now - timedelta(days=config.retention_days)
        expired = Conversation.objects.filter(
            organisation_id=config.organisation_id, status=Conversation.Status.ENDED,
            ended_at__lt=cutoff, transcript_deleted_at__isnull=True)
        for conversation_id in expired.values_list("pk", flat=True):
            with transaction.atomic():
                deleted, _detail = Message.objects.filter(
                    conversation_id=conversation_id).delete()
                InternalNote.objects.filter(conversation_id=conversation_id).delete()
                Conversation.objects.filter(pk=conversation_id).update(
                    transcript_deleted_at=now, nickname="")
                record(HelplineAuditEvent.TRANSCRIPT_DELETED, actor=None,
                       object_type="helpline_chat", object_id=conversation_id,
                       organisation_id=config.organisation_id,
                       purpose="retention", detail={"messages": deleted,
                                                    "retention_days": config.retention_days})
            totals["conversations"] += 1
            totals["messages"] += deleted
    return totals
