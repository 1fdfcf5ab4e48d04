"""Field-level encryption for identifying data (names, phone numbers, free text).

Keys come from ``ZICHTBAAR_FIELD_KEY`` (comma-separated Fernet keys, newest first). The newest
key encrypts; every listed key decrypts, so a key can be rotated by putting a new key in front,
running ``zichtbaar manage rotate_field_keys`` and then dropping the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["DecryptionError", "decrypt", "encrypt", "reencrypt"]


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # wrong or retired key
        raise DecryptionError("Value cannot be decrypted with the configured keys.") from exc


def reencrypt(token: str) -> str:
    """Re-encrypt a stored token under the newest key (used by key rotation)."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("Value cannot be decrypted with the configured keys.") from exc
