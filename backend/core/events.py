"""Domain events, published after commit.

Two buses with one interface: :class:`RedisEventBus` (production: every process publishes to
one Redis channel and every Reflex backend worker subscribes) and :class:`InProcessEventBus`
(embedded default and fast tests). Subscribers are async iterators so the Reflex lifespan task
can consume them without blocking its event loop.
"""

from __future__ import annotations

import asyncio
import json
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


_bus_lock = threading.Lock()
_bus: EventBus | None = None


def get_bus() -> EventBus:
    """The process-wide bus: Redis when configured, in-process otherwise."""
    global _bus
    with _bus_lock:
        if _bus is None:
            settings = get_settings()
            if settings.redis.enabled:
                _bus = RedisEventBus(settings.redis.url, settings.redis.events_channel)
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
