"""Several domain events published in one Redis round trip arrive complete and in order; a
dead Redis is still only a warning."""

from __future__ import annotations

import secrets
import time

import pytest
import redis
from structlog.testing import capture_logs

from backend.core.events import DomainEvent, RedisEventBus

pytestmark = pytest.mark.integration


def events(count: int) -> list[DomainEvent]:
    return [
        DomainEvent(name=f"alerts.alert.received.{i}", payload={"i": i}, topics=("alerts",))
        for i in range(count)
    ]


def test_publish_many_delivers_every_event_in_order(redis_url: str) -> None:
    channel = f"oncall-test-{secrets.token_hex(6)}"
    listener = redis.Redis.from_url(redis_url)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    while pubsub.get_message(timeout=1.0) is not None:  # the subscribe confirmation
        pass
    sent = events(3)
    RedisEventBus(redis_url, channel).publish_many(sent)
    received: list[DomainEvent] = []
    deadline = time.monotonic() + 10
    while len(received) < len(sent) and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)
        if message is not None:
            received.append(DomainEvent.from_json(message["data"]))
    pubsub.close()
    listener.close()
    assert received == sent


def test_publish_many_without_redis_only_warns(closed_port: int) -> None:
    bus = RedisEventBus(f"redis://127.0.0.1:{closed_port}/0", "oncall-nowhere")
    with capture_logs() as logs:
        bus.publish_many(events(2))
    assert [entry["event"] for entry in logs] == ["event_publish_failed"]
