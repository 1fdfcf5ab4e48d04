"""Who may open which websocket and chat: checked by the consumers themselves."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from zichtbaar.accounts.roles import OrganisationType, Role

from .conftest import accept, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


def _password_only_cookie(user) -> bytes:  # type: ignore[no-untyped-def]
    """A signed-in session whose second factor was never verified."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"zb_session={session.session_key}".encode()


async def test_unverified_2fa_session_is_refused(staff_ws, counsellor) -> None:
    cookie = await database_sync_to_async(_password_only_cookie)(counsellor)
    code = await staff_ws(counsellor, expect_ok=False, cookie=cookie)
    assert code != 0  # handshake refused
    refused = await staff_ws(counsellor, expect_ok=False, cookie=b"zb_session=forged")
    assert refused != 0


async def test_roles_and_organisations_without_helpline_rights_are_refused(
        staff_ws, make_user, make_org) -> None:  # type: ignore[no-untyped-def]
    police = await database_sync_to_async(make_org)("Politie", OrganisationType.POLICE)
    for role, organisation in [(Role.AUDITOR, None), (Role.COUNSELLOR, police)]:
        user = await database_sync_to_async(make_user)(role, organisation, password=None)
        assert await staff_ws(user, expect_ok=False) != 0


async def test_counsellor_of_another_helpline_cannot_accept_join_or_write(
        visitor_ws, staff_ws, counsellor, make_user, make_org) -> None:  # type: ignore[no-untyped-def]
    other_org = await database_sync_to_async(make_org)("Andere Hulplijn",
                                                       OrganisationType.CARE_NGO)
    outsider = await database_sync_to_async(make_user)(Role.SUPERVISOR, other_org,
                                                       password=None)
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "geheim bericht"))["conversation"]
    stranger = await staff_ws(outsider)
    assert stranger.frames[-1]["queue"] == []  # another helpline's queue is invisible
    for frame in ({"type": "accept"}, {"type": "join", "last_seq": 0},
                  {"type": "message", "text": "hoi", "client_id": "s"},
                  {"type": "whisper", "text": "psst"}, {"type": "block", "minutes": 5},
                  {"type": "takeover"}, {"type": "risk", "flag": True}):
        await stranger.send(conversation=conversation, **frame)
        error = await stranger.expect("error")
        assert error["code"] in {"not_found", "forbidden"}, frame
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    await stranger.drain()
    assert "geheim bericht" not in str(stranger.frames)
    for client in (visitor, stranger, staff):
        await client.close()


async def test_counsellor_cannot_read_a_colleagues_chat(visitor_ws, staff_ws, counsellor,
                                                        make_user, helpline) -> None:  # type: ignore[no-untyped-def]
    colleague = await database_sync_to_async(make_user)(Role.COUNSELLOR, helpline,
                                                        password=None)
    visitor = await visitor_ws()
    conversation = (await start_chat(visitor, "alleen voor jou"))["conversation"]
    staff = await staff_ws(counsellor)
    await accept(staff, conversation)
    other = await staff_ws(colleague)
    await other.send(type="join", conversation=conversation, last_seq=0)
    assert (await other.expect("error"))["code"] == "not_found"
    for client in (visitor, staff, other):
        await client.close()


async def test_visitor_cannot_resume_another_session(visitor_ws) -> None:
    first = await visitor_ws()
    await start_chat(first, "van mij")
    intruder = await visitor_ws()
    await intruder.send(type="resume", token="geraden-token-" + "x" * 30, last_seq=0)
    assert (await intruder.expect("error"))["code"] == "not_found"
    await intruder.send(type="message", text="binnen?", client_id="i")
    assert (await intruder.expect("error"))["code"] == "not_started"
    await intruder.drain()
    assert "van mij" not in str(intruder.frames)
    # A helpline slug of a non-helpline organisation does not exist for visitors.
    for client in (first, intruder):
        await client.close()
