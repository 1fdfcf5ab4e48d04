"""The websocket protocol against the real ASGI application (docs/subsystems/helpline-protocol.md).

The core flows run twice: with the in-memory channel layer and with the Redis channel layer.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from zichtbaar.helpline.models import Conversation, Message

from .conftest import accept, start_chat

pytestmark = pytest.mark.django_db(transaction=True)




async def test_full_chat_start_queue_accept_message_typing_end(layer, visitor_ws, staff_ws,
                                                               counsellor) -> None:
    visitor = await visitor_ws()
    started = await start_chat(visitor, "Hallo, ik wil iets vragen")
    conversation = started["conversation"]
    assert len(started["token"]) >= 40
    staff = await staff_ws(counsellor)
    await staff.send(type="availability", available=True)
    snapshot = await staff.expect_console(available=True)
    assert [item["conversation"] for item in snapshot["queue"]] == [conversation]
    assert snapshot["queue"][0]["nickname"] == "Vlinder"

    await staff.send(type="accept", conversation=conversation)
    await staff.expect("chat", conversation=conversation)
    assert (await staff.expect("message", seq=1))["text"] == "Hallo, ik wil iets vragen"
    await staff.expect("message", seq=2, sender="system")
    await visitor.expect("status", status="active")

    await staff.send(type="typing", conversation=conversation, active=True)
    assert (await visitor.expect("typing"))["active"] is True
    await visitor.send(type="typing", active=True)
    await staff.expect("typing", conversation=conversation, sender="visitor")

    await staff.send(type="message", conversation=conversation, text="Fijn dat je er bent.",
                     client_id="c1")
    reply = await visitor.expect("message", sender="counsellor")
    assert reply["text"] == "Fijn dat je er bent." and reply["seq"] == 3
    await visitor.send(type="message", text="Dank je", client_id="v2")
    assert (await staff.expect("message", seq=4))["text"] == "Dank je"

    await staff.send(type="end", conversation=conversation)
    await visitor.expect("status", status="ended")
    ended = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert ended.status == "ended" and ended.end_reason == "counsellor"
    # Both sides saw the same transcript in the same order.
    await visitor.drain()
    await staff.drain()
    assert visitor.messages() == staff.messages()
    assert [seq for seq, _s, _t in visitor.messages()] == [1, 2, 3, 4, 5]
    await visitor.close()
    await staff.close()


async def test_resume_after_reconnect_gets_exactly_the_missing_messages(layer, visitor_ws,
                                                                       staff_ws,
                                                                       counsellor) -> None:
    visitor = await visitor_ws()
    started = await start_chat(visitor, "een")
    conversation, token = started["conversation"], started["token"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    await visitor.expect("message", seq=2)  # "a counsellor has joined"
    seen_before = visitor.messages()
    await visitor.close()  # the visitor's connection drops

    for n in range(3):
        await staff.send(type="message", conversation=conversation, text=f"terwijl weg {n}",
                         client_id=f"c{n}")
        await staff.expect("ack", client_id=f"c{n}")
    # The counsellor's connection drops too and comes back, resuming at seq 3.
    await staff.close()
    staff2 = await staff_ws(counsellor)
    await staff2.send(type="join", conversation=conversation, last_seq=3)
    await staff2.expect("chat", conversation=conversation)

    visitor2 = await visitor_ws()
    await visitor2.send(type="resume", token=token, last_seq=seen_before[-1][0])
    await visitor2.expect("resumed")
    got = [await visitor2.expect("message") for _ in range(3)]
    assert [m["seq"] for m in got] == [3, 4, 5]
    # A message resent with the same client id (lost ack) is stored once.
    await visitor2.send(type="message", text="nog eens", client_id="dup")
    await visitor2.send(type="message", text="nog eens", client_id="dup")
    first, second = await visitor2.expect("ack"), await visitor2.expect("ack")
    assert first["seq"] == second["seq"] == 6
    await staff2.expect("message", seq=6)
    await visitor2.drain()
    await staff2.drain()
    assert [f["seq"] for f in staff2.frames if f["type"] == "message"] == [4, 5, 6]
    combined_visitor = seen_before + visitor2.messages()
    stored = await database_sync_to_async(
        lambda: [(m.seq, m.sender, m.text) for m in Message.objects.filter(
            conversation_id=conversation).order_by("seq")])()
    assert combined_visitor == stored  # nothing lost, nothing twice, same order
    await visitor2.close()
    await staff2.close()


async def test_transfer_moves_chat_and_coding_draft(visitor_ws, staff_ws, counsellor, make_user,
                                                    helpline) -> None:
    from zichtbaar.accounts.roles import Role
    from zichtbaar.helpline.models import Coding

    colleague = await database_sync_to_async(make_user)(Role.COUNSELLOR, helpline, password=None)
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "hoi"))["conversation"]
    first = await staff_ws(counsellor)
    second = await staff_ws(colleague)
    await second.send(type="availability", available=True)
    await second.expect_console(available=True)
    await accept(first, conversation)
    await first.send(type="transfer", conversation=conversation, to=colleague.pk)
    await first.expect("status", conversation=conversation, counsellor=colleague.pk)
    snapshot = await second.expect_console(mine=[conversation])
    assert snapshot["mine"] == [conversation]
    await second.send(type="join", conversation=conversation, last_seq=0)
    await second.expect("chat", conversation=conversation)
    await second.send(type="message", conversation=conversation, text="Ik neem het over",
                      client_id="x")
    await visitor.expect("message", text="Ik neem het over")
    # The first counsellor may no longer write.
    await first.send(type="message", conversation=conversation, text="nog ik", client_id="y")
    assert (await first.expect("error"))["code"] == "forbidden"
    coding = await database_sync_to_async(Coding.objects.get)(conversation_id=conversation)
    assert coding.coded_by_id == colleague.pk
    for client in (visitor, first, second):
        await client.close()


async def test_rate_limit_answers_with_error_and_keeps_connection(visitor_ws) -> None:
    visitor = await visitor_ws()
    for _ in range(40):
        await visitor.send(type="ping")
    frames = [await visitor.receive() for _ in range(40)]
    kinds = [f.get("code") or f["type"] for f in frames]
    assert kinds.count("pong") >= 20
    assert "rate_limited" in kinds
    assert any(f.get("message", "").startswith("Je stuurt") for f in frames)
    await visitor.close()


async def test_oversized_and_malformed_frames_get_error_frames_not_a_crash(visitor_ws,
                                                                          staff_ws,
                                                                          counsellor) -> None:
    visitor = await visitor_ws()
    await visitor.raw("x" * 50_000)
    assert (await visitor.receive())["code"] == "too_large"
    await visitor.raw("{not json")
    assert (await visitor.receive())["code"] == "malformed"
    await visitor.raw("[1, 2, 3]")
    assert (await visitor.receive())["code"] == "malformed"
    await visitor.send(type="bogus")
    assert (await visitor.receive())["code"] == "unknown_type"
    await visitor.send(type="message", text="voor de start")
    assert (await visitor.receive())["code"] == "not_started"
    await visitor.send(type="start", consent=False, start_token=visitor.start_token)
    assert (await visitor.receive())["code"] == "consent_required"
    await visitor.send(type="start", consent=True, nickname={"x": 1},
                       start_token=visitor.start_token)
    assert (await visitor.receive())["code"] == "invalid"
    await visitor.send(type="resume", token="nope", last_seq="abc")
    assert (await visitor.receive())["code"] == "malformed"
    await visitor.ws.send_to(bytes_data=b"\x00\x01")
    assert (await visitor.receive())["code"] == "malformed"
    await start_chat(visitor)
    await visitor.send(type="message", text="a" * 4001, client_id="big")
    error = await visitor.receive()
    assert error["code"] == "too_large" and "te lang" in error["message"]
    await visitor.send(type="message", text=123)
    assert (await visitor.receive())["code"] == "malformed"
    # Still alive and working afterwards.
    await visitor.send(type="message", text="gewoon", client_id="ok")
    assert (await visitor.expect("ack"))["seq"] == 1

    staff = await staff_ws(counsellor)
    await staff.send(type="accept", conversation="1; DROP TABLE")
    assert (await staff.expect("error"))["code"] == "malformed"
    await staff.send(type="accept", conversation=10**30)
    assert (await staff.expect("error"))["code"] in {"malformed", "not_found"}
    await staff.send(type="ping")
    await staff.expect("pong")
    await visitor.close()
    await staff.close()


async def test_quick_exit_ends_chat_server_side_and_tells_the_counsellor(visitor_ws, staff_ws,
                                                                        counsellor) -> None:
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "help"))["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    await visitor.send(type="quick_exit")
    await visitor.expect("bye")
    assert (await visitor.ws.receive_output(timeout=2))["type"] == "websocket.close"
    await staff.expect("status", conversation=conversation, status="ended",
                       end_reason="quick_exit")
    stored = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    assert stored.status == "ended" and stored.end_reason == "quick_exit"
    await staff.close()


async def test_coding_required_before_the_next_chat(visitor_ws, staff_ws, counsellor) -> None:
    from zichtbaar.helpline import services

    staff = await staff_ws(counsellor)
    first_visitor = await visitor_ws()
    first = (await start_chat(first_visitor, "eerste"))["conversation"]
    await accept(staff, first)
    await staff.send(type="end", conversation=first)
    await staff.expect("status", conversation=first, status="ended")
    second_visitor = await visitor_ws()
    second = (await start_chat(second_visitor, "tweede"))["conversation"]
    await staff.send(type="accept", conversation=second)
    error = await staff.expect("error")
    assert error["code"] == "coding_required"
    values = {"help_question_trafficking": "yes", "visitor_role": "victim", "age_band": "16_17",
              "gender": "girl_woman", "risk_level": "medium", "exploitation_forms": ["sexual"]}
    _coding, errors = await database_sync_to_async(services.coding_save)(
        conversation_id=first, actor=counsellor, values=values, complete=True)
    assert errors == {}
    await staff.send(type="accept", conversation=second)
    await staff.expect("chat", conversation=second)
    for client in (staff, first_visitor, second_visitor):
        await client.close()


async def test_concurrency_limit_and_risk_flag_moves_chat_up(visitor_ws, staff_ws, counsellor,
                                                             supervisor) -> None:
    from zichtbaar.helpline import services

    await database_sync_to_async(lambda: services.HelplineSettings.objects.filter(
        organisation_id=counsellor.organisation_id).update(max_concurrent_chats=1))()
    visitors = [await visitor_ws() for _ in range(3)]
    ids = [(await start_chat(v))["conversation"] for v in visitors]
    staff = await staff_ws(counsellor)
    await accept(staff, ids[0])
    await staff.send(type="accept", conversation=ids[1])
    assert (await staff.expect("error"))["code"] == "limit_reached"
    boss = await staff_ws(supervisor)
    await boss.send(type="risk", conversation=ids[2], flag=True)
    snapshot = await boss.expect_console(available=False, queue_ids=[ids[2], ids[1]])
    assert snapshot["queue"][0]["risk"] is True
    position = await visitors[2].expect("queue", position=1)
    assert position["waiting"] == 2
    for client in (*visitors, staff, boss):
        await client.close()


async def test_supervisor_reads_along_whispers_and_takes_over(visitor_ws, staff_ws, counsellor,
                                                              supervisor) -> None:
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "hallo"))["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    boss = await staff_ws(supervisor)
    await boss.send(type="join", conversation=conversation, last_seq=0)
    chat = await boss.expect("chat", conversation=conversation)
    assert chat["mode"] == "read"
    await boss.expect("message", seq=2)
    await boss.send(type="whisper", conversation=conversation, text="Vraag naar veiligheid")
    whisper = await staff.expect("whisper", conversation=conversation)
    assert whisper["text"] == "Vraag naar veiligheid"
    await staff.send(type="note", conversation=conversation, text="let op: 15 jaar")
    await boss.expect("note", conversation=conversation)
    # Read-along is silent: the supervisor cannot write to the visitor.
    await boss.send(type="message", conversation=conversation, text="x", client_id="b1")
    assert (await boss.expect("error"))["code"] == "forbidden"
    await boss.send(type="takeover", conversation=conversation)
    await boss.expect("chat", conversation=conversation, mode="counsel")
    await boss.send(type="message", conversation=conversation, text="Ik ben er ook",
                    client_id="b2")
    await visitor.expect("message", text="Ik ben er ook")
    await visitor.drain()
    assert not any(f["type"] in ("whisper", "note") or "veiligheid" in json.dumps(f)
                   for f in visitor.frames)
    for client in (visitor, staff, boss):
        await client.close()


async def test_block_ends_chat_and_refuses_a_new_start_in_the_same_session(visitor_ws, staff_ws,
                                                                          counsellor,
                                                                          supervisor) -> None:
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "spam"))["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    boss = await staff_ws(supervisor)
    await boss.send(type="block", conversation=conversation, minutes=30)
    await visitor.expect("status", status="ended")
    await visitor.send(type="start", consent=True, start_token=visitor.start_token)
    assert (await visitor.expect("error"))["code"] == "blocked"
    for client in (visitor, staff, boss):
        await client.close()


async def test_returning_code_links_the_next_chat(visitor_ws, staff_ws, counsellor) -> None:
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "eerste keer"))["conversation"]
    await visitor.send(type="returning_code")
    assert (await visitor.expect("error"))["code"] == "forbidden"  # only after the end
    await visitor.send(type="end")
    await visitor.expect("status", status="ended")
    await visitor.send(type="returning_code")
    code = (await visitor.expect("returning_code"))["code"]
    assert len(code) == 14
    await visitor.close()
    again = await visitor_ws()
    second = (await start_chat(again, "weer", returning_code=code.lower()))["conversation"]
    first, later = await database_sync_to_async(
        lambda: (Conversation.objects.get(pk=conversation), Conversation.objects.get(pk=second)))()
    assert later.visitor_id == first.visitor_id is not None and later.returning_claimed
    staff = await staff_ws(counsellor)
    queue_item = staff.console()["queue"][0]
    assert queue_item["returning"] is True
    await again.close()
    await staff.close()
