from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from dramatiq.brokers.stub import StubBroker

from backend.core.jobs import JobName
from jobs.scheduler import Scheduler


def test_each_periodic_job_is_sent_once_per_period(stub_broker: StubBroker) -> None:
    scheduler = Scheduler()
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC), tick=False) as clock:
        assert scheduler.tick() == [
            JobName.PURGE_EXPIRED_SESSIONS,
            JobName.PURGE_AUDIT_LOG,
            JobName.CHECK_HEARTBEATS,
            JobName.CONFIRM_SNS_SUBSCRIPTIONS,
            JobName.PURGE_INGEST_KEYS,
            JobName.SYNC_CALENDARS,
            JobName.SWEEP_ESCALATIONS,
            JobName.SWEEP_NOTIFICATIONS,
        ]
        assert scheduler.tick() == []
        clock.shift(timedelta(minutes=59))
        assert scheduler.tick() == [
            JobName.CHECK_HEARTBEATS,
            JobName.CONFIRM_SNS_SUBSCRIPTIONS,
            JobName.SWEEP_ESCALATIONS,
            JobName.SWEEP_NOTIFICATIONS,
        ]
        clock.shift(timedelta(minutes=1))
        assert scheduler.tick() == [
            JobName.PURGE_EXPIRED_SESSIONS,
            JobName.CHECK_HEARTBEATS,
            JobName.CONFIRM_SNS_SUBSCRIPTIONS,
            JobName.PURGE_INGEST_KEYS,
            JobName.SYNC_CALENDARS,
            JobName.SWEEP_ESCALATIONS,
            JobName.SWEEP_NOTIFICATIONS,
        ]
    assert stub_broker.queues["bulk"].qsize() == 7
    assert stub_broker.queues["default"].qsize() == 6
    assert stub_broker.queues["paging"].qsize() == 6
