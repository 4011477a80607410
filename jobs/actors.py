"""Dramatiq actors. Each: parse ids, call one service, return. Idempotent by design."""

from __future__ import annotations

from typing import Any

import dramatiq

from backend.audit import retention
from backend.core.jobs import JOB_QUEUES, JobName
from backend.identity import sessions
from jobs.broker import setup_broker

setup_broker()


def _options(job: JobName) -> dict[str, Any]:
    return {"actor_name": job.value, "queue_name": JOB_QUEUES[job].value}


@dramatiq.actor(**_options(JobName.PURGE_AUDIT_LOG), max_retries=3, time_limit=600_000)
def purge_audit_log() -> None:
    retention.purge_expired()


@dramatiq.actor(**_options(JobName.PURGE_EXPIRED_SESSIONS), max_retries=3, time_limit=600_000)
def purge_expired_sessions() -> None:
    sessions.purge_expired()
