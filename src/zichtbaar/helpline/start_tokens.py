"""Signed start tokens: a chat starts only from a visitor page loaded a short while ago.

The visitor page (or ``/chat/<slug>/start-token/``) hands out a token that names a random
*page session* and the helpline, signed with the secret key and stamped with its time.
``start`` needs one that is valid and fresh; the page session is what the per-page cap
counts. Nothing in it or about it says who the visitor is: no address, no agent, no cookie.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

from . import conf
from .errors import HelplineError

SALT = "zichtbaar.helpline.start"


def _salt(slug: str) -> str:
    return f"{SALT}:{slug}"


def start_token_issue(slug: str) -> str:
    """A new page session for the helpline ``slug``."""
    return signing.dumps({"p": secrets.token_urlsafe(16)}, salt=_salt(slug))


def start_token_check(token: object, slug: str) -> str:
    """The page session's key (a digest of its id), or ``HelplineError``.

    ``start_token_missing``: no token (an old page or a script); ``start_token_invalid``:
    forged, damaged or for another helpline; ``start_token_expired``: too old.
    """
    if not isinstance(token, str) or not token:
        raise HelplineError("start_token_missing")
    if len(token) > 200:
        raise HelplineError("start_token_invalid")
    try:
        data = signing.loads(token, salt=_salt(slug), max_age=conf.start_token_seconds())
    except signing.SignatureExpired:
        raise HelplineError("start_token_expired") from None
    except signing.BadSignature:
        raise HelplineError("start_token_invalid") from None
    page = data.get("p") if isinstance(data, dict) else None
    if not isinstance(page, str) or not page:
        raise HelplineError("start_token_invalid")
    return hashlib.sha256(page.encode()).hexdigest()
