"""Dramatiq actors. Each: parse ids, call one service, return. Idempotent by design."""

from __future__ import annotations

from typing import Any

import dramatiq

from backend.audit import retention
from backend.core.errors import ExternalServiceError
from backend.core.jobs import JOB_QUEUES, JobName
from backend.escalation import engine as escalation
from backend.escalation import rearm
from backend.identity import sessions
from backend.ingest import heartbeats, sns
from backend.ingest import retention as ingest_retention
from backend.notifications import dispatch as notifications
from backend.notifications.providers import slack
from backend.schedules import calendar_sync
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


@dramatiq.actor(**_options(JobName.CONFIRM_SNS_SUBSCRIPTIONS), max_retries=0, time_limit=300_000)
def confirm_sns_subscriptions() -> None:
    # A sweep: failures stay pending in the database and the scheduler runs it again.
    sns.confirm_pending()


@dramatiq.actor(**_options(JobName.CHECK_HEARTBEATS), max_retries=0, time_limit=60_000)
def check_heartbeats() -> None:
    # No retries: the scheduler sends the next check within a minute anyway.
    heartbeats.check_heartbeats()


@dramatiq.actor(**_options(JobName.PURGE_INGEST_KEYS), max_retries=3, time_limit=600_000)
def purge_ingest_keys() -> None:
    ingest_retention.purge_expired_keys()


@dramatiq.actor(
    **_options(JobName.SYNC_CALENDAR),
    max_retries=3,
    min_backoff=30_000,
    max_backoff=600_000,
    time_limit=300_000,
    # Only provider outages are worth retrying; the error is also stored on the connection.
    retry_when=lambda retries, exc: retries < 3 and calendar_sync.retryable(exc),
)
def sync_calendar(connection_id: int) -> None:
    calendar_sync.sync_connection(int(connection_id))


@dramatiq.actor(**_options(JobName.SYNC_CALENDARS), max_retries=0, time_limit=3_600_000)
def sync_calendars() -> None:
    # A sweep: each failure is stored on its connection; the next period runs again.
    calendar_sync.sync_all()


@dramatiq.actor(
    **_options(JobName.ESCALATE_STEP),
    max_retries=5,
    min_backoff=1_000,
    max_backoff=30_000,
    # As a delivery's: the job also delivers the page's first notification (ADR 0016).
    time_limit=120_000,
)
def escalate_step(incident_id: int, token: str, step: int) -> None:
    # Retries are safe (the step is a compare-and-set); the sweeper catches what they miss.
    result = escalation.run_step(int(incident_id), str(token), int(step), hold_first=True)
    # The first notification due at once is delivered here rather than through the queue: one
    # message less per page, and no wait behind a backlog for it (ADR 0016). Never raises: a
    # failure hands it to the queue (a retry of this job would find the step done).
    for notification_id in result.held:
        notifications.deliver_held(notification_id)


@dramatiq.actor(**_options(JobName.SWEEP_ESCALATIONS), max_retries=0, time_limit=60_000)
def sweep_escalations() -> None:
    # No retries: the scheduler sends the next sweep within seconds anyway.
    rearm.hand_over()
    rearm.sweep()


@dramatiq.actor(
    **_options(JobName.DELIVER_NOTIFICATION),
    # Provider failures are retried by the dispatcher itself (backoff in the database, so the
    # sweeper can re-arm them); these retries only cover a database hiccup.
    max_retries=3,
    min_backoff=1_000,
    max_backoff=10_000,
    time_limit=120_000,
)
def deliver_notification(notification_id: int) -> None:
    notifications.deliver(int(notification_id))


@dramatiq.actor(**_options(JobName.SWEEP_NOTIFICATIONS), max_retries=0, time_limit=60_000)
def sweep_notifications() -> None:
    # No retries: the scheduler sends the next sweep within seconds anyway.
    notifications.sweep()


@dramatiq.actor(
    **_options(JobName.REFRESH_SLACK_MESSAGES),
    max_retries=3,
    min_backoff=5_000,
    max_backoff=60_000,
    time_limit=120_000,
    # Only Slack being unreachable or rate-limiting is worth another try (re-rendering every
    # page of the incident again is harmless: chat.update is idempotent).
    retry_when=lambda retries, exc: (
        retries < 3 and isinstance(exc, ExternalServiceError) and exc.retryable
    ),
)
def refresh_slack_messages(incident_id: int) -> None:
    slack.refresh_posted(int(incident_id))
