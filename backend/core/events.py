"""Domain events, published after commit.

Two buses with one interface: :class:`RedisEventBus` (production: every process publishes to
one Redis channel and every Reflex backend worker subscribes) and :class:`InProcessEventBus`
(embedded default and fast tests). Subscribers are async iterators so the Reflex lifespan task
can consume them without blocking its event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import queue as thread_queue  # asyncio.Queue is the other one here
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
import structlog

from backend.core import clock
from backend.core.settings import get_settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, named ``namespace.entity.verb`` (``teams.member.added``).

    ``topics`` say which screens care (``teams``, ``team:<id>``, ``user:<id>``, ``audit``).
    """

    name: str
    payload: dict[str, Any] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    actor_label: str = ""
    at: str = field(default_factory=lambda: clock.now().isoformat())

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "payload": self.payload,
                "topics": list(self.topics),
                "actor_label": self.actor_label,
                "at": self.at,
            },
            default=str,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> DomainEvent:
        data = json.loads(raw)
        return cls(
            name=str(data["name"]),
            payload=dict(data.get("payload") or {}),
            topics=tuple(data.get("topics") or ()),
            actor_label=str(data.get("actor_label") or ""),
            at=str(data.get("at") or ""),
        )


class EventBus(Protocol):
    def publish(self, event: DomainEvent) -> None: ...

    def subscribe(self) -> AsyncIterator[DomainEvent]: ...


class InProcessEventBus:
    """Fan-out to asyncio queues in this process; safe to publish from any thread."""

    def __init__(self, max_queue: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[DomainEvent]]] = []
        self._max_queue = max_queue

    def publish(self, event: DomainEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            loop.call_soon_threadsafe(self._offer, queue, event)

    @staticmethod
    def _offer(queue: asyncio.Queue[DomainEvent], event: DomainEvent) -> None:
        if queue.full():
            # A stuck consumer must not grow memory without bound; screens re-read on reconnect.
            log.warning("event_dropped_slow_subscriber", event_name=event.name)
            return
        queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[DomainEvent]:
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self._max_queue)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subscribers.remove(entry)


class RedisEventBus:
    """Publish/subscribe over one Redis channel so every process sees every event."""

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, event: DomainEvent) -> None:
        try:
            self._client.publish(self._channel, event.to_json())
        except redis.RedisError:
            # Events are a live-update hint, never the record: the change is committed and
            # screens re-read on their next load. Losing a hint must not fail the command.
            log.warning("event_publish_failed", event_name=event.name, exc_info=True)

    def publish_many(self, events: list[DomainEvent]) -> None:
        """Publish ``events`` in order in one round trip (a pipeline, not a transaction)."""
        try:
            pipe = self._client.pipeline(transaction=False)
            for event in events:
                pipe.publish(self._channel, event.to_json())
            pipe.execute()
        except redis.RedisError:
            log.warning("event_publish_failed", event_name=events[0].name, exc_info=True)

    async def subscribe(self) -> AsyncIterator[DomainEvent]:
        client = aioredis.Redis.from_url(self._url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    yield DomainEvent.from_json(message["data"])
                except (ValueError, KeyError):
                    log.warning("event_malformed", channel=self._channel)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            await client.aclose()


class QueuedRedisEventBus(RedisEventBus):
    """A :class:`RedisEventBus` whose publishes return at once: one sender thread per process
    sends what is queued, as many events as are waiting in one pipeline.

    The production bus. Events are hints (the change is already committed), so the command that
    published them need not wait for Redis: on the ingest hot path the publish round trip was
    about a quarter of the ingest thread's CPU and held an ingest slot (docs/benchmarks.md);
    under load one pipeline now carries the events of many commands. Order within a process is
    kept (one queue, one sender). At most ``max_pending`` events wait; past that (Redis down
    for long) new ones are dropped with a warning, as a slow subscriber's are. Pending events
    are sent at interpreter exit (``flush``), so short-lived CLI commands still announce.
    """

    def __init__(self, url: str, channel: str, max_pending: int = 10_000) -> None:
        super().__init__(url, channel)
        self._max_pending = max_pending
        self._start_lock = threading.Lock()
        self._pid = -1
        self._queue: thread_queue.Queue[DomainEvent] = thread_queue.Queue(max_pending)

    def publish(self, event: DomainEvent) -> None:
        self.publish_many([event])

    def publish_many(self, events: list[DomainEvent]) -> None:
        pending = self._sender_queue()
        for event in events:
            try:
                pending.put_nowait(event)
            except thread_queue.Full:
                log.warning("event_dropped_backlog", event_name=event.name)
                return

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was sent (or failed); False if ``timeout`` passed."""
        if self._pid != os.getpid():
            return True  # nothing was queued in this process (a fork's copy is not ours)
        pending = self._queue
        with pending.all_tasks_done:
            return pending.all_tasks_done.wait_for(lambda: pending.unfinished_tasks == 0, timeout)

    def _sender_queue(self) -> thread_queue.Queue[DomainEvent]:
        # Started on first use in each process: granian and Dramatiq fork their workers, and a
        # thread does not survive a fork (the child gets a fresh queue and its own sender).
        pid = os.getpid()
        if self._pid != pid:
            with self._start_lock:
                if self._pid != pid:
                    self._queue = thread_queue.Queue(self._max_pending)
                    threading.Thread(
                        target=self._send_forever, name="event-sender", daemon=True
                    ).start()
                    atexit.register(self.flush, 2.0)
                    self._pid = pid
        return self._queue

    def _send_forever(self) -> None:
        pending = self._queue
        while True:
            batch = [pending.get()]
            while len(batch) < 500:
                try:
                    batch.append(pending.get_nowait())
                except thread_queue.Empty:
                    break
            try:
                super().publish_many(batch)
            finally:
                for _ in batch:
                    pending.task_done()


_bus_lock = threading.Lock()
_bus: EventBus | None = None


def get_bus() -> EventBus:
    """The process-wide bus: Redis when configured, in-process otherwise."""
    global _bus
    with _bus_lock:
        if _bus is None:
            settings = get_settings()
            if settings.redis.enabled:
                _bus = QueuedRedisEventBus(settings.redis.url, settings.redis.events_channel)
            else:
                _bus = InProcessEventBus()
        return _bus


def publish_all(events: list[DomainEvent]) -> None:
    """Publish ``events`` in order on the process-wide bus; one Redis round trip for all."""
    bus = get_bus()
    if isinstance(bus, RedisEventBus) and len(events) > 1:
        bus.publish_many(events)
        return
    for event in events:
        bus.publish(event)


def set_bus(bus: EventBus | None) -> None:
    global _bus
    with _bus_lock:
        _bus = bus
