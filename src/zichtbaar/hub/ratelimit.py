"""Rate limiting of the public form without storing any address.

The client address is only fed, in memory, into an HMAC whose key changes every window; the
digest lives in the cache until the window ends. Nothing is written to the database or logs,
and digests of different windows cannot be linked to each other.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _limits(scope: str) -> tuple[int, int]:
    configured = getattr(settings, "HUB_RATE_LIMITS", {})
    return configured.get(scope, (5, 3600))


def allow(request: HttpRequest, scope: str) -> bool:
    """Count one attempt; False once the scope's limit for this window is reached."""
    limit, window = _limits(scope)
    index = int(time.time() // window)
    secret = f"{settings.SECRET_KEY}:ratelimit:{scope}:{index}".encode()
    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]
    return count_in_window(f"hub-rl:{scope}:{index}:{digest}", limit=limit, window=window)


def count_in_window(key: str, *, limit: int, window: int) -> bool:
    """Count one attempt under ``key`` (which names the window); False past ``limit``.
    The count lives in the cache only, until the window ends."""
    if cache.add(key, 1, timeout=window):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return True
    return count <= limit
