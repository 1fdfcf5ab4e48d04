"""Pseudonymous linkage keys: HMAC-SHA256 of normalised identifiers.

Partners who hold the same secret compute the same key for the same person without sending
names, and a party without the secret cannot test guesses (a plain hash of name and birth
date falls to a dictionary attack in minutes). Each kind of key is domain-separated, so a
phone key never equals an e-mail key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from zichtbaar.linkage.normalise import normalise_person

__all__ = ["KEY_KINDS", "linkage_keys", "secret_bytes"]

KEY_KINDS = ("name_dob", "phone", "email")
_SEP = "\x1f"  # unit separator: cannot occur in a normalised field


def secret_bytes(secret: bytes | str) -> bytes:
    """The secret as bytes; an empty secret would make the keys plain hashes, so it is refused."""
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("linkage secret is empty")
    return key


def _hmac(key: bytes, kind: str, *parts: str) -> str:
    message = _SEP.join((kind, *parts)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def linkage_keys(record: Mapping[str, str | None], secret: bytes | str) -> dict[str, str]:
    """Hex keys ``name_dob`` (given name, surname without prefix, birth date), ``phone``, ``email``.

    A kind is present only when all its inputs are; raises ``ValueError`` for unreadable fields.
    """
    key = secret_bytes(secret)
    person = normalise_person(record)
    keys: dict[str, str] = {}
    if person["given_name"] and person["surname"] and person["date_of_birth"]:
        keys["name_dob"] = _hmac(key, "name_dob", person["given_name"], person["surname"],
                                 person["date_of_birth"])
    if person["phone"]:
        keys["phone"] = _hmac(key, "phone", person["phone"])
    if person["email"]:
        keys["email"] = _hmac(key, "email", person["email"])
    return keys
