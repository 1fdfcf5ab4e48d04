"""Sign-in throttles that tell an outsider nothing and store no address.

Two limits, neither of them a lock an outsider can set for long:

* **Per account, a growing delay.** The first ``LOCKOUT_FAILURES`` failures are free; each
  further one makes the account wait 30 s, then 60 s, 120 s, … up to ``LOCKOUT_MINUTES``.
  During the wait every attempt, even with the right password, gets the same answer as a wrong
  password. Names that are not accounts go through the very same steps (kept in the cache
  under a keyed hash of the name), so the answers and their timing do not reveal which
  accounts exist.
* **Per client, a throttle.** At most ``SIGNIN_CLIENT_FAILURES`` failed attempts per client per
  ``LOCKOUT_MINUTES`` window; after that the client is refused without a password check (which
  also keeps it from pushing accounts further into their delay).

Why the client is the address and not the session: a throttle on the session cookie stops
nobody, since a script simply sends no cookie. The address is never stored: it goes, in
memory, into an HMAC whose key includes the secret key and the window's number, and only that
digest lives in the cache, until the window ends. Digests cannot be turned back into
addresses without the secret key, and digests of different windows cannot be linked. Nothing
with the address reaches the database or the logs. Behind a proxy the address is the one
`zichtbaar serve` takes from X-Forwarded-For of the configured proxy only
(``--forwarded-allow-ips``), so a client cannot choose it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

FIRST_DELAY_SECONDS = 30
NAME_MEMORY_SECONDS = 24 * 3600


def delay_seconds(failures: int) -> int:
    """The wait after ``failures`` failures in a row: none at first, then doubling, capped."""
    beyond = failures - settings.LOCKOUT_FAILURES
    if beyond < 0:
        return 0
    return min(settings.LOCKOUT_MINUTES * 60, FIRST_DELAY_SECONDS * 2 ** min(beyond, 20))


def _digest(purpose: str, value: str) -> str:
    secret = f"{settings.SECRET_KEY}:signin:{purpose}".encode()
    return hmac.new(secret, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


# --- per client -------------------------------------------------------------------------------

def _client_key(request: HttpRequest) -> tuple[str, int]:
    window = settings.LOCKOUT_MINUTES * 60
    index = int(time.time() // window)
    address = request.META.get("REMOTE_ADDR", "")
    return f"signin:client:{index}:{_digest(f'client:{index}', address)}", window


def client_refused(request: HttpRequest) -> bool:
    key, _ = _client_key(request)
    return int(cache.get(key, 0)) >= settings.SIGNIN_CLIENT_FAILURES


def client_failed(request: HttpRequest) -> None:
    key, window = _client_key(request)
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)


# --- names that are not accounts --------------------------------------------------------------

def _name_key(username: str) -> str:
    return f"signin:name:{_digest('name', username)}"


def name_waiting(username: str) -> bool:
    _, until = cache.get(_name_key(username), (0, 0.0))
    return until > time.time()


def name_failed(username: str) -> None:
    """Count a failure for a name without an account, exactly as an account counts one."""
    failures, _ = cache.get(_name_key(username), (0, 0.0))
    failures += 1
    cache.set(_name_key(username), (failures, time.time() + delay_seconds(failures)),
              timeout=NAME_MEMORY_SECONDS)
