"""Verifying the chain: detects altered, inserted, removed or reordered entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .models import AuditChainHead, AuditEntry
from .record import GENESIS, HASHED_FIELDS, entry_digest


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def chain_problems(batch_size: int = 2000) -> Iterator[ChainProblem]:
    prev_hash = GENESIS
    expected_seq = 1
    last_seq = 0
    entries = AuditEntry.objects.order_by("seq").values("prev_hash", "entry_hash", *HASHED_FIELDS)
    for row in entries.iterator(chunk_size=batch_size):
        seq = row["seq"]
        if seq != expected_seq:
            yield ChainProblem(seq, f"entry {expected_seq} is missing (next found: {seq})")
        if row["prev_hash"] != prev_hash:
            yield ChainProblem(seq, "link to the previous entry is broken")
        created = row["created_at"].replace(microsecond=0)
        if entry_digest(row["prev_hash"], {**row, "created_at": created}) != row["entry_hash"]:
            yield ChainProblem(seq, "content does not match its hash (altered)")
        prev_hash = row["entry_hash"]
        expected_seq = seq + 1
        last_seq = seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != last_seq or head.last_hash != prev_hash):
        yield ChainProblem(last_seq, f"the chain should end at entry {head.seq}; entries removed")
