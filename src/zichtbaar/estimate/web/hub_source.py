"""Capture histories from the hub: one row per linked pseudonymous victim, frozen into a CSV.

The snapshot is stored with the run like an upload, so a reproduction uses the same rows
even after the hub's data have changed. Optional: without the hub's selector this is off.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from zichtbaar.accounts.models import User
from zichtbaar.accounts.roles import has_capability

CAPABILITY = "hub.capture_histories.export"


def available(user: User) -> bool:
    try:
        from zichtbaar.hub.selectors import capture_history_rows  # noqa: F401
    except ImportError:
        return False
    try:
        return has_capability(user, CAPABILITY)
    except KeyError:  # the hub does not define the capability in this installation
        return False


def snapshot(*, user: User, period_start: dt.date, period_end: dt.date) -> tuple[bytes, int]:
    """The hub's rows for the period as CSV bytes, and the number of persons."""
    from zichtbaar.hub.selectors import capture_history_rows

    header, rows = capture_history_rows(user=user, period_start=period_start,
                                        period_end=period_end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # "A:B" names an interaction in the models, so a list name must not contain ":".
    writer.writerow([name.replace(":", "_") for name in header])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), len(rows)
