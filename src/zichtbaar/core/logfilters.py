"""Requests Django refuses as suspicious are logged as one line, not a traceback.

A Host header outside ALLOWED_HOSTS, an oversized form or one with too many fields is an
everyday event on a public server (scanners, broken clients); Django logs each with the whole
stack, which buries real errors. The line names the exception, Django's message and the
method and path. Never the client address: it is not on the record, and is not added here.
"""

from __future__ import annotations

import logging

CONTROL = {code: "?" for code in range(32)}


def _clean(text: str) -> str:
    """One line, whatever the client sent (paths and Host headers are the client's)."""
    return " ".join(str(text).translate(CONTROL).split())


class OneLineRejection(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        kind = record.name.rsplit(".", 1)[-1]
        if record.exc_info and record.exc_info[0] is not None:
            kind = record.exc_info[0].__name__
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        request = getattr(record, "request", None)
        where = ""
        if request is not None:
            where = f" ({_clean(request.method)} {_clean(request.path)[:200]})"
        record.msg = f"rejected request: {kind}: {_clean(record.getMessage())}{where}"
        record.args = ()
        return True
