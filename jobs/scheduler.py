"""Periodic work: sends messages on a fixed cadence; the actors do the work (idempotently).

Several schedulers may run (one per machine, or one per embedded process): in production a
Redis lock per period makes sure each periodic job is sent once per period.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
import structlog

from backend.core import clock
from backend.core.jobs import JobName, enqueue
from backend.core.settings import Settings, get_settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Periodic:
    job: JobName
    every_seconds: int


SCHEDULE: tuple[Periodic, ...] = (
    Periodic(JobName.PURGE_EXPIRED_SESSIONS, 3600),
    Periodic(JobName.PURGE_AUDIT_LOG, 24 * 3600),
    Periodic(JobName.CHECK_HEARTBEATS, 30),
    Periodic(JobName.CONFIRM_SNS_SUBSCRIPTIONS, 300),
    Periodic(JobName.PURGE_INGEST_KEYS, 3600),
    Periodic(JobName.SYNC_CALENDARS, 3600),
    # Every 5 s: when Dramatiq's in-memory delay buffers are full (thousands of far-future
    # steps, e.g. of incidents a storm opened), a step's delayed message waits in Redis behind
    # them and the sweep is what runs it, at most sweep_batch per sweep (docs/benchmarks.md).
    Periodic(JobName.SWEEP_ESCALATIONS, 5),
    Periodic(JobName.SWEEP_NOTIFICATIONS, 15),
)
# Shorter than the shortest period (the escalation sweep, 5 s), so none is skipped.
TICK_SECONDS = 1


class Scheduler:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or get_settings()
        self._redis = (
            redis.Redis.from_url(self._settings.redis.url, socket_timeout=2)
            if self._settings.redis.enabled
            else None
        )
        self._last_period: dict[JobName, int] = {}

    def _claim(self, item: Periodic, period: int) -> bool:
        """True if this process should send ``item`` for ``period`` (first claimer wins)."""
        if self._last_period.get(item.job) == period:
            return False
        self._last_period[item.job] = period
        if self._redis is None:
            return True
        key = f"oncall:scheduler:{item.job.value}:{period}"
        return bool(self._redis.set(key, "1", nx=True, ex=item.every_seconds * 2))

    def tick(self) -> list[JobName]:
        """Send every job whose period has started and was not yet sent; returns what was sent."""
        sent: list[JobName] = []
        now = int(clock.now().timestamp())
        for item in SCHEDULE:
            period = now // item.every_seconds
            try:
                if self._claim(item, period):
                    enqueue(item.job)
                    sent.append(item.job)
            except redis.RedisError:
                # Periodic work is maintenance: the next tick tries again.
                log.warning("scheduler_tick_failed", job=item.job.value, exc_info=True)
                self._last_period.pop(item.job, None)
        return sent

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.tick()
            stop.wait(TICK_SECONDS)


def start_in_thread(settings: Settings | None = None) -> threading.Event:
    """Run the scheduler in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Scheduler(settings).run, args=(stop,), name="oncall-scheduler", daemon=True
    )
    thread.start()
    return stop
