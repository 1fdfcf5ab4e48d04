from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import Role
from zichtbaar.core import crypto

pytestmark = pytest.mark.django_db

PHONE = "+31 6 12300000"


def stored_phone(user: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT work_phone FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_identifying_field_is_encrypted_at_rest(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR, password=None, work_phone=PHONE)
    raw = stored_phone(user)
    assert PHONE not in raw and "12300000" not in raw
    assert User.objects.get(pk=user.pk).work_phone == PHONE


def test_key_rotation_reencrypts_and_old_key_can_be_dropped(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR, password=None, work_phone=PHONE)
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    before = stored_phone(user)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_field_keys")
    after = stored_phone(user)
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert User.objects.get(pk=user.pk).work_phone == PHONE
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(crypto.DecryptionError):
        User.objects.get(pk=user.pk).work_phone  # noqa: B018


def test_empty_values_stay_empty(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.COUNSELLOR, password=None)
    assert stored_phone(user) == ""
