"""Job names and enqueueing by name, so ``backend`` never imports ``jobs``.

Actors are registered in ``jobs/actors.py`` under these names; a contract test checks that
every name has an actor and every actor has a name.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import dramatiq
from dramatiq import Message


class Queue(StrEnum):
    PAGING = "paging"  # escalation steps and page deliveries: never starved
    DEFAULT = "default"
    BULK = "bulk"  # retention, digests, exports


class JobName(StrEnum):
    PURGE_AUDIT_LOG = "purge_audit_log"
    PURGE_EXPIRED_SESSIONS = "purge_expired_sessions"
    CONFIRM_SNS_SUBSCRIPTIONS = "confirm_sns_subscriptions"
    CHECK_HEARTBEATS = "check_heartbeats"
    PURGE_INGEST_KEYS = "purge_ingest_keys"
    SYNC_CALENDAR = "sync_calendar"
    SYNC_CALENDARS = "sync_calendars"
    ESCALATE_STEP = "escalate_step"
    SWEEP_ESCALATIONS = "sweep_escalations"
    DELIVER_NOTIFICATION = "deliver_notification"
    SWEEP_NOTIFICATIONS = "sweep_notifications"
    REFRESH_SLACK_MESSAGES = "refresh_slack_messages"


JOB_QUEUES: dict[JobName, Queue] = {
    JobName.PURGE_AUDIT_LOG: Queue.BULK,
    JobName.PURGE_EXPIRED_SESSIONS: Queue.BULK,
    JobName.CONFIRM_SNS_SUBSCRIPTIONS: Queue.DEFAULT,
    # A missed heartbeat opens an incident: it must not wait behind bulk work.
    JobName.CHECK_HEARTBEATS: Queue.DEFAULT,
    JobName.PURGE_INGEST_KEYS: Queue.BULK,
    JobName.SYNC_CALENDAR: Queue.DEFAULT,
    JobName.SYNC_CALENDARS: Queue.BULK,
    JobName.ESCALATE_STEP: Queue.PAGING,
    # The sweeper re-arms lost escalation steps: it must run even when bulk work piles up.
    JobName.SWEEP_ESCALATIONS: Queue.PAGING,
    # Page deliveries and their sweeper: never behind bulk work.
    JobName.DELIVER_NOTIFICATION: Queue.PAGING,
    JobName.SWEEP_NOTIFICATIONS: Queue.PAGING,
    # Posted Slack pages re-rendered after an incident changed: useful, not paging.
    JobName.REFRESH_SLACK_MESSAGES: Queue.DEFAULT,
}


def enqueue(job: JobName, *, delay_ms: int | None = None, **kwargs: Any) -> Message[Any]:
    """Send ``job`` with keyword arguments (ids and tokens only, never objects).

    Call this from :meth:`UnitOfWork.after_commit`, never inside a transaction.
    """
    broker = dramatiq.get_broker()
    # Processes that only send (the web app) never import the actors that declare the queues.
    broker.declare_queue(JOB_QUEUES[job].value)
    message: Message[Any] = Message(
        queue_name=JOB_QUEUES[job].value,
        actor_name=job.value,
        args=(),
        kwargs=kwargs,
        options={},
    )
    return broker.enqueue(message, delay=delay_ms)
