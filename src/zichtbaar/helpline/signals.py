"""Signals the helpline sends to other parts of the platform.

``referral_created`` is how a consent-based helpline referral reaches the hub without the
helpline importing it. It is sent after the referral's transaction commits, with plain data
only (coded fields, never transcript text):

    referral_created.send(
        sender="helpline",
        referral_id=int,            # helpline Referral primary key
        organisation_id=int,        # the helpline organisation that made the referral
        coding=dict,                # codebook field name -> value (str, list[str] or None)
        codebook_version=str,       # e.g. "2026.1"
        referred_to=list[str],      # e.g. ["police", "veilig_thuis"] (codebook values)
        consent=True,               # the visitor's recorded consent; never sent without it
        actor_id=int | None,        # the counsellor who made it
    )
"""

from __future__ import annotations

from django.dispatch import Signal

referral_created = Signal()
