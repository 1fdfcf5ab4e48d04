"""Websocket consumers: parse a frame, call one service or selector, send the result.

The protocol is documented in docs/subsystems/helpline-protocol.md. Every frame that cannot
be handled is answered with an ``error`` frame; nothing a client sends closes the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.utils import translation

from zichtbaar.accounts.roles import OrganisationType

from . import conf, selectors, services
from .access import COUNSEL, SUPERVISE, helpline_can
from .errors import HelplineError
from .events import conversation_group, conversation_staff_group, organisation_group
from .models import Conversation, InternalNote, Message
from .ratelimit import TokenBucket
from .start_tokens import start_token_check

log = logging.getLogger("zichtbaar.helpline")

MAX_FRAME_CHARS = 20_000
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

Handler = Callable[[dict[str, Any]], Awaitable[None]]


# Transcript lines get their own threads (and database connections): one chat's round trip
# must not hold up the others, and queue refreshes must not queue in front of messages.
CHAT_DB_THREADS = 8
_CHAT_POOL = ThreadPoolExecutor(max_workers=CHAT_DB_THREADS, thread_name_prefix="helpline-chat")


def pooled(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run one self-contained write or read (chat lines, queue reads, start, accept) on the pool.

    ``database_sync_to_async`` runs every call of the process on a single thread, so each
    database round trip made every other chat wait. These calls are each one statement or
    transaction with nothing kept in thread state, so they may run in parallel; each pool
    thread keeps its own connection, closed as usual once it is older than CONN_MAX_AGE.
    Starting and accepting chats came off that thread too: behind them, every visitor's
    page request and websocket sign-in waited (setting up 1,000 chats). Rarer console
    actions stay on Channels' single thread.
    """
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        finally:  # here, in the call's own context, where the connection was opened
            close_old_connections()

    return database_sync_to_async(run, thread_sensitive=False, executor=_CHAT_POOL)


class _LineWriter:
    """Per process: chat lines written in batches, each batch one transaction.

    A line waits only for the batches already being written: the first line of a quiet
    moment goes alone at once, and the lines that arrive meanwhile go together in the next
    batch (at most ``WRITERS`` batches of a process in flight, ``BATCH`` lines each). At a
    thousand chats this turned a thousand commits and thread hops a second into a few
    dozen (``bench/chat_load.py``); one batch in flight gave a lower p99 there than three
    (34 against 60 ms: fewer, fuller batches leave the processor to the chats).
    """

    WRITERS = 1
    BATCH = 200

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.pending: list[tuple[dict[str, Any], asyncio.Future[Any]]] = []
        self.running = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def post(self, **line: Any) -> tuple[Message, bool]:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self._reset(loop)  # another event loop (a new test)
        future: asyncio.Future[Any] = loop.create_future()
        self.pending.append((line, future))
        if self.running < self.WRITERS:
            self.running += 1
            task = loop.create_task(self._drain())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:self.BATCH], self.pending[self.BATCH:]
                try:
                    results = await pooled(services.message_post_many)(
                        [line for line, _future in batch])
                except Exception as exc:  # the database is away: every line hears of it
                    results = [exc] * len(batch)
                for (_line, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.running -= 1


LINES = _LineWriter()


class _SharedQueueState:
    """Per process: the organisation's queue read once per burst of changes, not per client.

    Every console and waiting visitor refreshes after a ``queue_changed`` event. A refresh
    asks for a state read *after* the change it reacts to; all refreshes of the process wait
    on the same read (at most one in flight per organisation, started after the newest
    change a waiting refresh knows of), so a storm of accepts costs a few reads instead of
    one per client per change.
    """

    def __init__(self) -> None:
        self.changed: dict[int, float] = {}
        Key = tuple[int, int]  # organisation, level of the read (selectors.VISITOR …)
        self.cached: dict[Key, tuple[float, selectors.QueueState]] = {}
        self.inflight: dict[Key, tuple[float, asyncio.Future[selectors.QueueState]]] = {}
        self.seen: OrderedDict[str, None] = OrderedDict()  # recent event ids

    def mark_changed(self, organisation_id: int, event_id: str) -> float:
        """Note the change when its event first reaches this process; returns its time."""
        if not event_id or event_id not in self.seen:
            if event_id:
                self.seen[event_id] = None
                if len(self.seen) > 10_000:
                    self.seen.popitem(last=False)
            self.changed[organisation_id] = time.monotonic()
        return self.changed[organisation_id]

    async def after(self, organisation_id: int, since: float,
                    level: int = selectors.SUPERVISOR) -> selectors.QueueState:
        """The queue state as read (started) at or after ``since``."""
        return (await self.read(organisation_id, since, level))[1]

    async def read(self, organisation_id: int, since: float,
                   level: int = selectors.SUPERVISOR) -> tuple[float, selectors.QueueState]:
        """``after``, with the moment the read started (newer reads are newer states).

        ``level`` (``selectors.VISITOR`` / ``COUNSELLOR`` / ``SUPERVISOR``): how much of the
        state is read; a read at a higher level serves the lower ones too.
        """
        keys = [(organisation_id, lv) for lv in range(level, selectors.SUPERVISOR + 1)]
        for key in keys:
            entry = self.cached.get(key)
            if entry and entry[0] >= since:
                return entry
        for key in keys:
            running = self.inflight.get(key)
            if running is not None and running[0] >= since:
                return running[0], await asyncio.shield(running[1])
        key = keys[0]
        started = time.monotonic()
        future: asyncio.Future[selectors.QueueState] = asyncio.ensure_future(
            pooled(selectors.queue_state)(organisation_id, level))
        self.inflight[key] = (started, future)

        def done(task: asyncio.Future[selectors.QueueState], started: float = started,
                 ) -> None:
            if self.inflight.get(key, (None,))[0] == started:
                del self.inflight[key]
            if not task.cancelled() and task.exception() is None:
                current = self.cached.get(key)
                if current is None or current[0] < started:
                    self.cached[key] = (started, task.result())

        future.add_done_callback(done)
        return started, await asyncio.shield(future)


SHARED_QUEUE = _SharedQueueState()


@dataclass(frozen=True)
class _Parts:
    """The organisation's part of every console's state, built once per queue read."""

    queue: dict[int, tuple[Any, ...]]  # in queue order
    colleagues: tuple[tuple[int, str], ...]
    live: dict[int, tuple[Any, ...]]


_PARTS: dict[int, tuple[selectors.QueueState, _Parts]] = {}


def _shared_parts(state: selectors.QueueState) -> _Parts:
    entry = _PARTS.get(state.organisation_id)
    if entry is not None and entry[0] is state:
        return entry[1]

    def name(user: Any) -> str:
        return user.get_full_name() or user.get_username()

    parts = _Parts(
        queue={c.pk: (c.pk, c.nickname, c.age_band, c.risk_flag, c.returning_claimed,
                      c.queued_at) for c in state.waiting},
        colleagues=state.colleagues,
        live={c.pk: (c.pk, c.risk_flag, c.nickname, name(c.counsellor) if c.counsellor else "")
              for c in state.live or ()})
    _PARTS[state.organisation_id] = (state, parts)
    return parts


class _Presence:
    """Per process: which chats have a visitor socket here; keeps them marked present.

    Every ``conf.presence_interval()`` one UPDATE marks all of them seen
    (``Conversation.visitor_seen_at``), and one sweep ends the chats of *any* process whose
    visitor has been gone longer than the grace period. A killed process stops marking its
    chats, so they expire too unless the visitor resumes elsewhere. Runs while this process
    has a helpline connection; a new connection sweeps at once.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.chats: Counter[int] = Counter()
        self.connections = 0
        self.task: asyncio.Task[None] | None = None

    def connected(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:
            self._reset()  # another event loop (a new test): the old one's sockets are gone
        self.connections += 1
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._run())

    def disconnected(self) -> None:
        self.connections = max(0, self.connections - 1)
        if self.connections == 0 and self.task is not None:
            self.task.cancel()
            self.task = None

    def attach(self, conversation_id: int) -> None:
        self.chats[conversation_id] += 1

    def detach(self, conversation_id: int) -> None:
        self.chats[conversation_id] -= 1
        if self.chats[conversation_id] <= 0:
            del self.chats[conversation_id]

    async def _run(self) -> None:
        while True:
            try:
                await pooled(services.visitors_seen)(list(self.chats))
                await pooled(services.conversations_end_stale)()
                await pooled(services.conversations_idle_sweep)()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a moment; try again later
                log.exception("helpline presence sweep failed")
            await asyncio.sleep(conf.presence_interval())


PRESENCE = _Presence()


class _Fanout:
    """Per process: one channel in each organisation's group, passing queue changes on.

    Before, every console and waiting visitor was a member of the organisation's groups, so
    each accept sent one channel-layer message per open connection (hundreds through Redis,
    each decoded separately). Now each process is one member; it hands the change to its
    local listeners, which only schedule a (coalesced, shared) refresh. The process stays in
    a group once it joined (a group send to it is then dropped locally if nobody listens);
    the layer expires memberships of processes that are gone.
    """

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.channel: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.joined: set[str] = set()
        self.listeners: dict[int, set[_Consumer]] = {}
        self.lock = asyncio.Lock() if loop is not None else None

    async def listen(self, consumer: _Consumer, organisation_id: int) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self._reset(loop)  # another event loop (a new test): the old one's sockets are gone
        self.listeners.setdefault(organisation_id, set()).add(consumer)
        layer = consumer.channel_layer
        if layer is None:
            return
        group = organisation_group(organisation_id)
        assert self.lock is not None
        async with self.lock:  # one channel and one receive loop per process
            if self.channel is None:
                self.channel = await layer.new_channel()
                self.task = loop.create_task(self._receive(layer, self.channel))
            if group not in self.joined:
                async with _LAYER_SLOTS:
                    await layer.group_add(group, self.channel)
                self.joined.add(group)

    def stop(self, consumer: _Consumer, organisation_id: int) -> None:
        if self.loop is asyncio.get_running_loop():
            self.listeners.get(organisation_id, set()).discard(consumer)

    async def _receive(self, layer: Any, channel: str) -> None:
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # the layer may be away for a moment; try again
                log.exception("helpline fan-out receive failed")
                await asyncio.sleep(1)
                continue
            event = message.get("event") or {}
            if event.get("type") != "queue_changed":
                continue
            for consumer in list(self.listeners.get(event.get("organisation"), ())):
                try:
                    consumer.on_queue_changed(event)
                except Exception:  # one broken listener must not stop the others
                    log.exception("helpline queue refresh failed")


FANOUT = _Fanout()
LAYER_SLOTS = 50
_LAYER_SLOTS = asyncio.Semaphore(LAYER_SLOTS)


class _Consumer(AsyncWebsocketConsumer):
    """Frame parsing, rate limit, error frames and in-order, exactly-once message delivery."""

    language = "nl"
    refresh_delay = 0.3  # seconds: queue changes within this window cause one refresh

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-frame ``aclose_old_connections``.

        Channels hops to the process's single database thread before *every* frame and
        layer event just to close stale connections; behind queue refreshes that hop made
        chat lines wait for seconds under load. Every database call here already goes
        through ``database_sync_to_async`` or ``pooled``, which close stale connections
        around the call in the thread that owns them, so nothing is lost.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def refresh_soon(self, organisation_id: int, event: dict[str, Any],
                     refresh: Callable[..., Awaitable[None]]) -> None:
        """Coalesce bursts of queue changes into one refresh, shared with the process."""
        self._change_seen = SHARED_QUEUE.mark_changed(organisation_id,
                                                      str(event.get("id", "")))
        if getattr(self, "_refresh_pending", False):
            return
        self._refresh_pending = True

        async def later() -> None:
            await asyncio.sleep(self.refresh_delay)
            self._refresh_pending = False
            with contextlib.suppress(Exception):  # the connection may be gone meanwhile
                await refresh(since=self._change_seen)

        self._refresh_task = asyncio.ensure_future(later())

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def on_queue_changed(self, event: dict[str, Any]) -> None:
        """From ``FANOUT``: the organisation's queue changed (runs on the event loop)."""
        raise NotImplementedError

    async def connect(self) -> None:
        self.bucket = TokenBucket(capacity=20, rate=5)
        # conversation id -> highest seq already sent on this connection
        self.delivered: dict[int, int] = {}

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))

    async def error(self, code: str, ref: Any = None) -> None:
        with translation.override(self.language):
            payload: dict[str, Any] = {"type": "error", "code": code,
                                       "message": HelplineError(code).message}
        if isinstance(ref, str | int) and not isinstance(ref, bool):
            payload["ref"] = ref
        await self.send_json(payload)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None
                      ) -> None:
        if text_data is None:
            await self.error("malformed")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.error("too_large")
            return
        if not self.bucket.take():
            await self.error("rate_limited")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("malformed")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.error("malformed")
            return
        handler = self.handlers().get(frame["type"])
        if handler is None:
            await self.error("unknown_type", frame.get("ref"))
            return
        try:
            await handler(frame)
        except HelplineError as exc:
            await self.error(exc.code, frame.get("ref"))
        except (KeyError, TypeError, ValueError, OverflowError):
            await self.error("malformed", frame.get("ref"))
        except Exception:  # a bad frame must never take the connection down
            log.exception("helpline frame %s failed", frame.get("type"))
            await self.error("invalid", frame.get("ref"))

    async def ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    # -- delivery --------------------------------------------------------------------------
    async def replay(self, conversation_id: int, last_seq: int, upto: int | None = None) -> None:
        """Send every message after ``last_seq`` (and up to ``upto``) from the database."""
        messages = await pooled(selectors.messages_since)(
            conversation_id, last_seq, upto)
        for message in messages:
            await self._deliver(services.message_event(message))

    async def _deliver(self, event: dict[str, Any]) -> None:
        conversation_id, seq = event["conversation"], event["seq"]
        if seq <= self.delivered.get(conversation_id, 0):
            return
        self.delivered[conversation_id] = seq
        await self.send_json(self.shape_message(event))

    def shape_message(self, event: dict[str, Any]) -> dict[str, Any]:
        return event

    async def layer_send(self, group: str, event: dict[str, Any]) -> None:
        """Send to a group, with at most ``LAYER_SLOTS`` layer calls of this process in flight.

        The Redis layer's connection pool (100 by default) raises instead of waiting when
        hundreds of chats send at the same moment; queueing here keeps every send.
        """
        async with _LAYER_SLOTS:
            await self.channel_layer.group_send(group, {"type": "helpline.event",
                                                        "event": event})

    async def layer_add(self, group: str) -> None:
        async with _LAYER_SLOTS:
            await self.channel_layer.group_add(group, self.channel_name)

    async def layer_discard(self, group: str) -> None:
        async with _LAYER_SLOTS:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def post(self, **kwargs: Any) -> Any:
        """Store a transcript line (committed on return), then send it to the chat's group."""
        message, _created = await LINES.post(**kwargs)
        await self.layer_send(conversation_group(message.conversation_id),
                              services.message_event(message))
        return message

    async def publish_typing(self, conversation_id: int, sender: str, active: bool) -> None:
        """Typing is never stored, so it needs no database thread: straight to the group."""
        await self.layer_send(conversation_group(conversation_id),
                              {"type": "typing", "conversation": conversation_id,
                               "sender": sender, "active": active})

    async def on_message_event(self, event: dict[str, Any]) -> None:
        conversation_id, seq = event["conversation"], event["seq"]
        if conversation_id not in self.delivered:
            return
        known = self.delivered[conversation_id]
        if seq <= known:
            return  # already sent (replay and live event crossed)
        if seq > known + 1:
            await self.replay(conversation_id, known, seq - 1)  # fill a gap from the database
        await self._deliver(event)


def _org_for_slug(slug: str) -> Any:
    from zichtbaar.accounts.models import Organisation

    return Organisation.objects.filter(slug=slug, type=OrganisationType.CARE_NGO).first()


class VisitorConsumer(_Consumer):
    """Anonymous visitor. Knows one tab session and its current chat, nothing else."""

    async def connect(self) -> None:
        await super().connect()
        self.organisation = await pooled(_org_for_slug)(
            self.scope["url_route"]["kwargs"]["slug"])
        if self.organisation is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.conversation_id: int | None = None
        self.status = ""
        self.session_token = ""
        self.present = False
        self.last_queue: dict[str, Any] | None = None  # the queue frame last sent
        await self.accept()
        PRESENCE.connected()
        self.present = True
        await FANOUT.listen(self, self.organisation.pk)

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "present", False):
            return
        FANOUT.stop(self, self.organisation.pk)
        conversation_id = self.conversation_id
        await self._leave()
        if conversation_id is not None:  # the grace period counts from now
            with contextlib.suppress(Exception):
                await pooled(services.visitors_seen)([conversation_id])
                if not PRESENCE.chats.get(conversation_id):  # no other socket of it here
                    await pooled(services.visitor_presence)(conversation_id=conversation_id,
                                                            connected=False)
        PRESENCE.disconnected()
        self.present = False

    def handlers(self) -> dict[str, Handler]:
        return {"start": self.start, "resume": self.resume, "message": self.message,
                "typing": self.typing, "end": self.end, "quick_exit": self.quick_exit,
                "returning_code": self.returning_code, "ping": self.ping}

    async def _leave(self) -> None:
        if self.conversation_id is not None:
            PRESENCE.detach(self.conversation_id)
            if self.channel_layer is not None:
                await self.layer_discard(conversation_group(self.conversation_id))

    def on_queue_changed(self, event: dict[str, Any]) -> None:
        if event.get("visitors", True) and self.status == Conversation.Status.QUEUED:
            self.refresh_soon(self.organisation.pk, event, self._send_queue)

    async def _attach(self, conversation: Conversation, last_seq: int) -> None:
        if self.conversation_id != conversation.pk:
            if self.conversation_id is not None:
                await self._leave()
            PRESENCE.attach(conversation.pk)
            if conversation.status != Conversation.Status.ENDED:
                await pooled(services.visitors_seen)([conversation.pk])
                if conversation.visitor_left_at is not None:  # back: tell the counsellor
                    await pooled(services.visitor_presence)(conversation_id=conversation.pk,
                                                            connected=True)
        self.conversation_id = conversation.pk
        self.status = conversation.status
        self.language = conversation.language
        await self.layer_add(conversation_group(conversation.pk))
        self.delivered[conversation.pk] = last_seq
        self.last_queue = None

    async def _send_state(self) -> None:
        await self.send_json({"type": "status", "status": self.status})
        if self.status == Conversation.Status.QUEUED:
            await self._send_queue()

    async def _send_queue(self, *, since: float | None = None) -> None:
        """Position and wait; after a change, from the process's shared read (``since``)."""
        if self.conversation_id is None:
            return
        state = await SHARED_QUEUE.after(
            self.organisation.pk, time.monotonic() if since is None else since,
            selectors.VISITOR)
        info = selectors.queue_position(state, self.conversation_id)
        frame = {"type": "queue", "position": info.position, "waiting": info.waiting,
                 "counsellors_available": info.counsellors_available,
                 "estimate_minutes": info.estimate_minutes}
        # Only when something the visitor sees changed, and not once they left the queue.
        if info.position and (since is None or frame != self.last_queue):
            self.last_queue = frame
            await self.send_json(frame)

    async def start(self, frame: dict[str, Any]) -> None:
        language = frame.get("language", "nl")
        self.language = language if language in ("nl", "en") else "nl"
        page_key = start_token_check(frame.get("start_token"), self.organisation.slug)
        conversation, token = await pooled(services.conversation_start)(
            organisation_id=self.organisation.pk, consent=frame.get("consent") is True,
            nickname=frame.get("nickname", ""), age_band=frame.get("age_band", ""),
            language=self.language, returning_code=frame.get("returning_code", ""),
            session_token=self.session_token, page_key=page_key)
        self.session_token = token
        await self._attach(conversation, 0)
        await self.send_json({"type": "started", "token": token,
                              "conversation": conversation.pk})
        await self._send_state()
        await self.replay(conversation.pk, 0)

    async def resume(self, frame: dict[str, Any]) -> None:
        token, last_seq = frame.get("token"), frame.get("last_seq", 0)
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            raise HelplineError("malformed")
        conversation = await pooled(services.conversation_for_session)(
            token, self.organisation.pk)
        if conversation is None:
            raise HelplineError("not_found")
        self.session_token = token
        await self._attach(conversation, last_seq)
        await self.send_json({"type": "resumed", "conversation": conversation.pk})
        await self._send_state()
        await self.replay(conversation.pk, last_seq)

    def _require_chat(self) -> int:
        if self.conversation_id is None:
            raise HelplineError("not_started")
        return self.conversation_id

    async def message(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_chat()
        message = await self.post(
            conversation_id=conversation_id, sender=Message.Sender.VISITOR,
            text=frame.get("text"), client_id=frame.get("client_id", ""))
        await self.send_json({"type": "ack", "client_id": message.client_id, "seq": message.seq})

    async def typing(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_chat()
        if self.status == Conversation.Status.ACTIVE:
            await self.publish_typing(conversation_id, "visitor", frame.get("active") is True)

    async def _end(self, reason: str) -> None:
        conversation_id = self._require_chat()
        await database_sync_to_async(services.conversation_end)(
            conversation_id=conversation_id, reason=reason)

    async def end(self, frame: dict[str, Any]) -> None:
        await self._end(Conversation.EndReason.VISITOR)

    async def quick_exit(self, frame: dict[str, Any]) -> None:
        """End server-side at once, forget the session on this connection, and close."""
        if self.conversation_id is not None:
            await self._end(Conversation.EndReason.QUICK_EXIT)
        await self._leave()
        self.conversation_id = None
        self.session_token = ""
        await self.send_json({"type": "bye"})
        await self.close(code=1000)

    async def returning_code(self, frame: dict[str, Any]) -> None:
        conversation_id = self._require_chat()
        code = await database_sync_to_async(services.returning_code_issue)(
            conversation_id=conversation_id, chosen=frame.get("chosen", ""))
        await self.send_json({"type": "returning_code", "code": code})

    # -- group events ----------------------------------------------------------------------
    def shape_message(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"type": "message", "seq": event["seq"], "sender": event["sender"],
                "text": event["text"], "client_id": event["client_id"]
                if event["sender"] == Message.Sender.VISITOR else "", "at": event["at"]}

    async def helpline_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        kind = event.get("type")
        if kind == "message":
            await self.on_message_event(event)
        elif kind == "typing" and event.get("sender") != "visitor":
            await self.send_json({"type": "typing", "active": event.get("active", False)})
        elif kind == "status" and event.get("conversation") == self.conversation_id:
            self.status = event["status"]
            await self.send_json({"type": "status", "status": self.status})


def _otp_verified(scope: dict[str, Any], user: Any) -> bool:
    """The OTP middleware does not run for websockets: check the session's device here."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    session = scope.get("session")
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id, for_verify=False)
    return bool(device is not None and device.user_id == user.pk
                and getattr(device, "confirmed", False))


def _staff_allowed(scope: dict[str, Any]) -> tuple[Any, bool]:
    user = scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None, False
    if not helpline_can(user, COUNSEL) or not _otp_verified(scope, user):
        return None, False
    return user, helpline_can(user, SUPERVISE)


class StaffConsumer(_Consumer):
    """Counsellor and supervisor console: signed-in, 2FA-verified, own organisation only."""

    async def connect(self) -> None:
        await super().connect()
        self.user, self.supervisor = await database_sync_to_async(_staff_allowed)(self.scope)
        if self.user is None:
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: handshake refused (403)
            return
        self.language = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "nl")
        if self.language not in ("nl", "en"):
            self.language = "nl"
        self.bucket = TokenBucket(capacity=30, rate=8)
        self.read_only: set[int] = set()
        self.view: dict[str, Any] | None = None  # what this console was last sent
        self._own: tuple[int, dict[str, Any]] | None = None  # (version, own part)
        self._own_version = 0
        self._send_lock = asyncio.Lock()
        self._read_at = -1.0
        self._org: selectors.QueueState | None = None
        await self.accept()
        PRESENCE.connected()  # consoles keep the sweep going too
        await FANOUT.listen(self, self.user.organisation_id)
        await self.send_json({"type": "hello", "user": self.user.pk,
                              "supervisor": self.supervisor})
        await self.send_snapshot()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "user", None) is None:
            return
        PRESENCE.disconnected()
        FANOUT.stop(self, self.user.organisation_id)
        for conversation_id in list(self.delivered):
            await self._unsubscribe(conversation_id)

    def handlers(self) -> dict[str, Handler]:
        return {"availability": self.availability, "accept": self.accept_chat,
                "join": self.join, "leave": self.leave, "message": self.message,
                "typing": self.typing, "note": self.note, "whisper": self.whisper,
                "transfer": self.transfer, "risk": self.risk, "end": self.end,
                "takeover": self.takeover, "block": self.block, "ping": self.ping,
                "snapshot": self.snapshot}

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _id(frame: dict[str, Any], key: str = "conversation") -> int:
        value = frame.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise HelplineError("malformed")
        return value

    def on_queue_changed(self, event: dict[str, Any]) -> None:
        if self.user.pk in event.get("users", ()):
            self._own_version += 1  # this counsellor's own state changed too
        self.refresh_soon(self.user.organisation_id, event, self.send_snapshot)

    def _own_part(self) -> dict[str, Any]:
        """The counsellor's own part of the console state (four queries)."""
        from .models import CounsellorState

        user = self.user
        state = CounsellorState.objects.filter(user=user).first()
        pending = services.pending_coding(user)
        return {"available": bool(state and state.available),
                "coding_pending": pending.conversation_id if pending else None,
                "wellbeing": selectors.wellbeing_count(user, state),
                "mine": [c.pk for c in selectors.chats_of(user)]}

    def _view(self, org: selectors.QueueState, own: dict[str, Any]) -> dict[str, Any]:
        """The console's state as comparable parts (the organisation's parts are shared)."""
        parts = _shared_parts(org)
        view: dict[str, Any] = {
            "available": own["available"], "limit": org.limit,
            "coding_pending": own["coding_pending"], "wellbeing": own["wellbeing"],
            "mine": own["mine"], "queue": parts.queue,
            "colleagues": parts.colleagues,  # shared; this counsellor is left out on sending
        }
        if self.supervisor:
            view["live"] = parts.live
        return view

    @staticmethod
    def _queue_item(key: tuple[Any, ...], now: float) -> dict[str, Any]:
        pk, nickname, age_band, risk, returning, queued_at = key
        return {"conversation": pk, "nickname": nickname, "age_band": age_band, "risk": risk,
                "returning": returning, "queued_at": queued_at.isoformat(),
                "waiting_seconds": max(0, int(now - queued_at.timestamp()))}

    @staticmethod
    def _live_item(key: tuple[Any, ...]) -> dict[str, Any]:
        pk, risk, nickname, counsellor = key
        return {"conversation": pk, "risk": risk, "nickname": nickname,
                "counsellor": counsellor}

    def _colleagues(self, keys: tuple[tuple[int, str], ...]) -> list[dict[str, Any]]:
        return [{"id": pk, "name": name} for pk, name in keys if pk != self.user.pk]

    def _full(self, view: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        payload: dict[str, Any] = {
            "type": "snapshot", "available": view["available"], "limit": view["limit"],
            "coding_pending": view["coding_pending"], "wellbeing": view["wellbeing"],
            "queue": [self._queue_item(k, now) for k in view["queue"].values()],
            "mine": view["mine"], "colleagues": self._colleagues(view["colleagues"])}
        if "live" in view:
            payload["live"] = [self._live_item(k) for k in view["live"].values()]
        return payload

    def _diff(self, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
        """An ``update`` frame with only what changed since ``old`` (``None``: nothing)."""
        frame: dict[str, Any] = {}
        for key in ("available", "limit", "coding_pending", "wellbeing", "mine"):
            if old[key] != new[key]:
                frame[key] = new[key]
        if old["colleagues"] != new["colleagues"]:
            frame["colleagues"] = self._colleagues(new["colleagues"])
        now = time.time()
        for part, shape in (("queue", lambda k: self._queue_item(k, now)),
                            ("live", self._live_item)):
            if part not in new or old.get(part) is new[part]:
                continue
            before, after = old.get(part, {}), new[part]
            added = [shape(k) for pk, k in after.items() if before.get(pk) != k]
            removed = [pk for pk in before if pk not in after]
            if added or removed:
                frame[part] = {"add": added, "remove": removed}
        if not frame:
            return None
        frame["type"] = "update"
        return frame

    async def send_snapshot(self, *, since: float | None = None, full: bool = False) -> None:
        """The console's state: in full on connect (and on request), else as a diff.

        The organisation's part always comes from the process's shared read (one read per
        burst of changes for all consoles); the counsellor's own part is re-read only when
        a change named this counsellor or the console acted itself. Only what changed since
        the last frame is sent (``update``), so an accept no longer re-sends the queue, the
        colleagues and, to supervisors, every live chat to every console.
        """
        org_id = self.user.organisation_id
        read_at, org = await SHARED_QUEUE.read(
            org_id, time.monotonic() if since is None else since,
            selectors.SUPERVISOR if self.supervisor else selectors.COUNSELLOR)
        if since is None:
            self._own_version += 1  # the console's own action: read its own part again
        version = self._own_version
        if self._own is not None and self._own[0] == version:
            own = self._own[1]
        else:
            own = await pooled(self._own_part)()
            if version == self._own_version:
                self._own = (version, own)
        async with self._send_lock:  # compare and send in order, one frame at a time
            if read_at < self._read_at and not full:
                org_newer = self._org  # a newer state was already sent: keep it
            else:
                org_newer, self._read_at = org, read_at
            self._org = org_newer
            view = self._view(org_newer, own)
            if full or self.view is None:
                self.view = view
                await self.send_json(self._full(view))
                return
            frame = self._diff(self.view, view)
            self.view = view
            if frame is not None:
                await self.send_json(frame)

    async def snapshot(self, frame: dict[str, Any]) -> None:
        await self.send_snapshot(full=True)

    def _conversation(self, conversation_id: int, *, read: bool = False) -> dict[str, Any]:
        conversation = Conversation.objects.filter(
            pk=conversation_id, organisation_id=self.user.organisation_id).first()
        if conversation is None:
            raise HelplineError("not_found")
        own = conversation.counsellor_id == self.user.pk
        if not own and not self.supervisor:
            raise HelplineError("not_found")
        if read and not own:
            services.read_along_record(conversation_id=conversation.pk, actor=self.user)
        earlier = [{"date": c.chat_date.isoformat(),
                    "trafficking": c.values.get("help_question_trafficking"),
                    "forms": c.values.get("exploitation_forms") or [],
                    "risk": c.values.get("risk_level")}
                   for c in selectors.earlier_codings(conversation)]
        notes = [{"type": n.kind, "conversation": conversation.pk, "id": n.pk, "text": n.text,
                  "author": (n.author.get_full_name() or n.author.get_username())
                  if n.author else "", "at": n.created_at.isoformat()}
                 for n in selectors.notes_of(conversation.pk)]
        return {"type": "chat", "conversation": conversation.pk, "status": conversation.status,
                "nickname": conversation.nickname, "age_band": conversation.age_band,
                "risk": conversation.risk_flag, "mode": "counsel" if own else "read",
                "returning": conversation.returning_claimed, "earlier_codings": earlier,
                "referral_consent": conversation.referral_consent, "notes": notes,
                "visitor_connected": conversation.visitor_left_at is None,
                "visitor_gone_since": conversation.visitor_left_at.isoformat()
                if conversation.visitor_left_at else None}

    async def _subscribe(self, conversation_id: int, last_seq: int) -> None:
        await self.layer_add(conversation_group(conversation_id))
        await self.layer_add(conversation_staff_group(conversation_id))
        self.delivered[conversation_id] = last_seq

    async def _unsubscribe(self, conversation_id: int) -> None:
        self.delivered.pop(conversation_id, None)
        self.read_only.discard(conversation_id)
        await self.layer_discard(conversation_group(conversation_id))
        await self.layer_discard(conversation_staff_group(conversation_id))

    async def _open(self, conversation_id: int, last_seq: int, *, read: bool = False) -> None:
        info = await pooled(self._conversation)(conversation_id, read=read)
        if info["mode"] == "read":
            self.read_only.add(conversation_id)
        else:
            self.read_only.discard(conversation_id)
        await self._subscribe(conversation_id, last_seq)
        await self.send_json(info)
        await self.replay(conversation_id, last_seq)

    # -- frames ----------------------------------------------------------------------------
    async def availability(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.availability_set)(
            actor=self.user, available=frame.get("available") is True)
        await self.send_snapshot()

    async def accept_chat(self, frame: dict[str, Any]) -> None:
        conversation_id = self._id(frame)
        await pooled(services.conversation_accept)(
            conversation_id=conversation_id, actor=self.user)
        await self._open(conversation_id, 0)

    async def join(self, frame: dict[str, Any]) -> None:
        """(Re)open a chat: your own after a reconnect, or any live chat to read along."""
        conversation_id = self._id(frame)
        last_seq = frame.get("last_seq", 0)
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            raise HelplineError("malformed")
        await self._open(conversation_id, last_seq, read=True)

    async def leave(self, frame: dict[str, Any]) -> None:
        await self._unsubscribe(self._id(frame))

    async def message(self, frame: dict[str, Any]) -> None:
        conversation_id = self._id(frame)
        message = await self.post(
            conversation_id=conversation_id, sender=Message.Sender.COUNSELLOR,
            text=frame.get("text"), client_id=frame.get("client_id", ""), actor=self.user)
        await self.send_json({"type": "ack", "conversation": conversation_id,
                              "client_id": message.client_id, "seq": message.seq})

    async def typing(self, frame: dict[str, Any]) -> None:
        conversation_id = self._id(frame)
        if conversation_id in self.delivered and conversation_id not in self.read_only:
            await self.publish_typing(conversation_id, "counsellor", frame.get("active") is True)

    async def note(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.note_add)(
            conversation_id=self._id(frame), actor=self.user, kind=InternalNote.Kind.NOTE,
            text=frame.get("text"))

    async def whisper(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.note_add)(
            conversation_id=self._id(frame), actor=self.user, kind=InternalNote.Kind.WHISPER,
            text=frame.get("text"))

    async def transfer(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_transfer)(
            conversation_id=self._id(frame), actor=self.user, to_user_id=self._id(frame, "to"))

    async def risk(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(services.conversation_flag_risk)(
            conversation_id=self._id(frame), actor=self.user, flag=frame.get("flag") is True)

    async def end(self, frame: dict[str, Any]) -> None:
        reason = frame.get("reason", "")
        if reason not in ("", "abandoned"):
            raise HelplineError("malformed")
        await database_sync_to_async(services.conversation_end_by_staff)(
            conversation_id=self._id(frame), actor=self.user, abandoned=reason == "abandoned")
        await self.send_snapshot()

    async def takeover(self, frame: dict[str, Any]) -> None:
        conversation_id = self._id(frame)
        await database_sync_to_async(services.conversation_take_over)(
            conversation_id=conversation_id, actor=self.user)
        await self._open(conversation_id, self.delivered.get(conversation_id, 0))

    async def block(self, frame: dict[str, Any]) -> None:
        minutes = frame.get("minutes", 60)
        await database_sync_to_async(services.session_block)(
            conversation_id=self._id(frame), actor=self.user, minutes=minutes)

    # -- group events ----------------------------------------------------------------------
    async def helpline_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        kind = event.get("type")
        if kind == "message":
            await self.on_message_event(event)
        elif kind == "queue_changed":
            self.refresh_soon(self.user.organisation_id, event, self.send_snapshot)
        elif kind == "typing":
            if event.get("sender") == "visitor" and event["conversation"] in self.delivered:
                await self.send_json(event)
        elif kind in ("note", "whisper", "presence"):
            if event["conversation"] in self.delivered:
                await self.send_json(event)
        elif kind == "status":
            conversation_id = event["conversation"]
            if conversation_id not in self.delivered:
                return
            await self.send_json(event)
            lost = (event.get("counsellor") != self.user.pk and not self.supervisor
                    and event.get("status") != Conversation.Status.ENDED)
            if lost:  # transferred away: this console no longer follows the chat
                await self._unsubscribe(conversation_id)
