"""Audit retention: rows older than the configured number of days are deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from backend.audit.models import AuditEntry
from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.settings import get_settings


def purge_expired() -> int:
    """Delete audit rows past retention; returns how many were deleted."""
    cutoff = clock.now() - timedelta(days=get_settings().audit.retention_days)
    with unit_of_work() as uow:
        result = uow.session.exec(delete(AuditEntry).where(col(AuditEntry.at) < cutoff))
        return int(result.rowcount or 0)
