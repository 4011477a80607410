"""Housekeeping: expired idempotency claims are deleted (the delivery log keeps the history)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from backend.core import clock
from backend.core.db import unit_of_work
from backend.ingest.models import IdempotencyRecord

# Claims are taken over in place once expired; deleting them later only saves space.
KEEP_EXPIRED = timedelta(hours=1)


def purge_expired_keys() -> int:
    """Delete idempotency claims that expired more than an hour ago; returns how many."""
    cutoff = clock.now() - KEEP_EXPIRED
    with unit_of_work() as uow:
        result = uow.session.exec(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < cutoff)
        )
        return int(result.rowcount)
