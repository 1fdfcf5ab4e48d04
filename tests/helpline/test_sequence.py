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
