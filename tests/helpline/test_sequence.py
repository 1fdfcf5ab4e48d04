"""Sequence numbers under real concurrency: many threads, each with its own connection.

``message_post`` numbers a line with one ``UPDATE … RETURNING`` + ``INSERT`` (one statement
on PostgreSQL) instead of lock, read, update, read, insert; these tests hold it to the
guarantees of the protocol: gap-free, unique, stored once per ``client_id``, committed in
``seq`` order, and refused exactly where the slow path refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from zichtbaar.accounts.roles import Role
from zichtbaar.helpline import services
from zichtbaar.helpline.errors import HelplineError
from zichtbaar.helpline.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PER_THREAD = 15


def _in_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in THREADS threads started together; re-raise the first failure."""
    results: list[Any] = [None] * THREADS
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def live_chat(helpline, counsellor) -> Conversation:  # type: ignore[no-untyped-def]
    conversation, _token = services.conversation_start(organisation_id=helpline.pk,
                                                       consent=True)
    services.availability_set(actor=counsellor, available=True)
    services.conversation_accept(conversation_id=conversation.pk, actor=counsellor)
    return conversation  # seq 1 is the "counsellor joined" line


def test_concurrent_senders_get_gap_free_unique_sequence_numbers(live_chat, counsellor
                                                                 ) -> None:  # type: ignore[no-untyped-def]
    def send(index: int) -> list[int]:
        seqs = []
        for n in range(PER_THREAD):
            counsellor_side = index % 2 == 0
            message, created = services.message_post(
                conversation_id=live_chat.pk,
                sender="counsellor" if counsellor_side else "visitor",
                actor=counsellor if counsellor_side else None,
                text=f"t{index}-{n}", client_id=f"t{index}-{n}")
            assert created
            seqs.append(message.seq)
        return seqs

    per_thread = _in_threads(send)
    total = THREADS * PER_THREAD
    handed_out = sorted(seq for seqs in per_thread for seq in seqs)
    assert handed_out == list(range(2, total + 2))  # unique, no gaps, after the join line
    assert all(seqs == sorted(seqs) for seqs in per_thread)  # each sender's order kept
    stored = list(Message.objects.filter(conversation=live_chat).values_list("seq", "text"))
    assert [seq for seq, _t in stored] == list(range(1, total + 2))
    by_text = {text: seq for seq, text in stored}
    for index, seqs in enumerate(per_thread):
        assert [by_text[f"t{index}-{n}"] for n in range(PER_THREAD)] == seqs
    assert Conversation.objects.get(pk=live_chat.pk).last_seq == total + 1


def test_concurrent_resends_of_one_client_id_store_one_line(live_chat) -> None:  # type: ignore[no-untyped-def]
    def resend(_index: int) -> tuple[int, bool]:
        message, created = services.message_post(conversation_id=live_chat.pk,
                                                 sender="visitor", text="hallo",
                                                 client_id="same-id")
        return message.seq, created

    results = _in_threads(resend)
    assert {seq for seq, _created in results} == {2}  # every resend acked with one seq
    assert sum(created for _seq, created in results) == 1
    assert Message.objects.filter(conversation=live_chat).count() == 2  # join line + one
    # The failed duplicate inserts left no gap: the next line is 3.
    message, _created = services.message_post(conversation_id=live_chat.pk, sender="visitor",
                                               text="daarna", client_id="next")
    assert message.seq == 3


def test_refusals_and_resend_after_the_end(live_chat, make_user, helpline) -> None:  # type: ignore[no-untyped-def]
    colleague = make_user(Role.COUNSELLOR, helpline, password=None, username="collega")
    with pytest.raises(HelplineError) as refused:
        services.message_post(conversation_id=live_chat.pk, sender="counsellor",
                              actor=colleague, text="niet mijn chat", client_id="x")
    assert refused.value.code == "forbidden"
    with pytest.raises(HelplineError) as missing:
        services.message_post(conversation_id=10**9, sender="visitor", text="hallo")
    assert missing.value.code == "not_found"
    first, _created = services.message_post(conversation_id=live_chat.pk, sender="visitor",
                                            text="laatste", client_id="last")
    services.conversation_end(conversation_id=live_chat.pk, reason="visitor")
    again, created = services.message_post(conversation_id=live_chat.pk, sender="visitor",
                                            text="laatste", client_id="last")
    assert (again.seq, created) == (first.seq, False)  # lost ack: same line, stored once
    with pytest.raises(HelplineError) as ended:
        services.message_post(conversation_id=live_chat.pk, sender="visitor", text="nog iets",
                              client_id="new")
    assert ended.value.code == "chat_ended"
    seqs = list(Message.objects.filter(conversation=live_chat).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


# --- batches (``message_post_many``, what the consumers' per-process writer calls) -------

def _chat(helpline, counsellor) -> Conversation:  # type: ignore[no-untyped-def]
    config = services.settings_for(helpline.pk)
    if config.max_concurrent_chats < 10:
        config.max_concurrent_chats = 10
        config.save()
    services.availability_set(actor=counsellor, available=True)
    conversation, _token = services.conversation_start(organisation_id=helpline.pk,
                                                       consent=True)
    services.conversation_accept(conversation_id=conversation.pk, actor=counsellor)
    return conversation


def _stored(conversation: Conversation) -> list[tuple[int, str, str]]:
    return [(m.seq, m.sender, m.text) for m in
            Message.objects.filter(conversation=conversation).order_by("seq")]


def test_a_batch_numbers_each_chat_in_order_and_explains_each_refusal(
        live_chat, helpline, counsellor, make_user) -> None:  # type: ignore[no-untyped-def]
    other = _chat(helpline, counsellor)
    ended = _chat(helpline, counsellor)
    services.conversation_end(conversation_id=ended.pk, reason="visitor")
    colleague = make_user(Role.COUNSELLOR, helpline, password=None, username="collega")
    lines = [  # the other chat first: the batch is written in chat order, each chat in turn
        dict(conversation_id=other.pk, sender="visitor", text="b1", client_id="b1"),
        dict(conversation_id=live_chat.pk, sender="visitor", text="a1", client_id="a1"),
        dict(conversation_id=live_chat.pk, sender="counsellor", text="a2", actor=counsellor),
        dict(conversation_id=other.pk, sender="counsellor", text="niet van mij",
             actor=colleague),
        dict(conversation_id=ended.pk, sender="visitor", text="te laat"),
        dict(conversation_id=live_chat.pk, sender="visitor", text="   "),
        dict(conversation_id=other.pk, sender="counsellor", text="b2", actor=counsellor),
        dict(conversation_id=live_chat.pk, sender="visitor", text="a3", client_id="a3"),
    ]
    results = services.message_post_many(lines)
    assert len(results) == len(lines)
    errors = {i: r.code for i, r in enumerate(results) if isinstance(r, HelplineError)}
    assert errors == {3: "forbidden", 4: "chat_ended", 5: "empty"}
    seqs = {i: (r[0].seq, r[1]) for i, r in enumerate(results) if i not in errors}
    assert seqs == {0: (2, True), 1: (2, True), 2: (3, True), 6: (3, True), 7: (4, True)}
    assert _stored(live_chat)[1:] == [(2, "visitor", "a1"), (3, "counsellor", "a2"),
                                      (4, "visitor", "a3")]
    assert _stored(other)[1:] == [(2, "visitor", "b1"), (3, "counsellor", "b2")]
    live_chat.refresh_from_db()
    assert live_chat.last_seq == 4


def test_a_resent_client_id_in_a_batch_is_stored_once_without_a_gap(live_chat) -> None:  # type: ignore[no-untyped-def]
    first, _created = services.message_post(conversation_id=live_chat.pk, sender="visitor",
                                            text="een", client_id="c1")
    results = services.message_post_many([
        dict(conversation_id=live_chat.pk, sender="visitor", text="twee", client_id="c2"),
        dict(conversation_id=live_chat.pk, sender="visitor", text="een", client_id="c1"),
        dict(conversation_id=live_chat.pk, sender="visitor", text="drie", client_id="c3"),
    ])
    assert [(m.seq, created) for m, created in results] == [(3, True), (first.seq, False),
                                                             (4, True)]
    seqs = [seq for seq, _sender, _text in _stored(live_chat)]
    assert seqs == list(range(1, 5))


def test_concurrent_batches_over_the_same_chats_neither_deadlock_nor_skip(
        helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    chats = [_chat(helpline, counsellor) for _ in range(4)]

    def work(index: int) -> list[Any]:
        results = []
        for round_ in range(PER_THREAD // 3):
            # every thread's batch names the chats in another order
            order = chats[index % 4:] + chats[:index % 4]
            results += services.message_post_many([
                dict(conversation_id=chat.pk, sender="visitor", text=f"{index}-{round_}",
                     client_id=f"{index}-{round_}") for chat in order])
        return results

    everything = [result for batch in _in_threads(work) for result in batch]
    assert not [r for r in everything if isinstance(r, BaseException)]
    for chat in chats:
        stored = _stored(chat)
        assert [seq for seq, _s, _t in stored] == list(range(1, len(stored) + 1))
        assert len(stored) == 1 + THREADS * (PER_THREAD // 3)  # + "counsellor joined"


def test_presence_marks_and_batches_lock_chats_in_the_same_order(
        helpline, counsellor) -> None:  # type: ignore[no-untyped-def]
    """``visitors_seen`` updates many chats at once; it must lock them in the order the
    batches do, or the two deadlock (found at 1,000 chats: lines lost)."""
    chats = [_chat(helpline, counsellor) for _ in range(6)]
    ids = [chat.pk for chat in chats]

    def work(index: int) -> int:
        written = 0
        for round_ in range(PER_THREAD):
            if index % 2:
                services.visitors_seen(list(reversed(ids)) if round_ % 2 else ids)
            else:
                order = ids[index % 6:] + ids[:index % 6]
                results = services.message_post_many([
                    dict(conversation_id=pk, sender="visitor", text=f"{index}-{round_}")
                    for pk in order])
                assert not [r for r in results if isinstance(r, BaseException)]
                written += len(results)
        return written

    written = sum(_in_threads(work))
    assert written == (THREADS // 2) * PER_THREAD * len(ids)
    for chat in chats:
        stored = _stored(chat)
        assert [seq for seq, _s, _t in stored] == list(range(1, len(stored) + 1))
