"""Append-only, hash-chained audit trail: ``from zichtbaar.audit.record import record``."""
