"""Several domain events published in one Redis round trip arrive complete and in order; a
dead Redis is still only a warning."""

from __future__ import annotations

import secrets
import socket
import time
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from backend.core.events import DomainEvent, QueuedRedisEventBus, RedisEventBus, get_bus, set_bus
from backend.core.settings import get_settings

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


def _listen(redis_url: str, channel: str) -> tuple[redis.Redis, Any]:
    listener = redis.Redis.from_url(redis_url)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    while pubsub.get_message(timeout=1.0) is not None:  # the subscribe confirmation
        pass
    return listener, pubsub


def _receive(pubsub: Any, count: int) -> list[DomainEvent]:
    received: list[DomainEvent] = []
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)
        if message is not None:
            received.append(DomainEvent.from_json(message["data"]))
    return received


def test_queued_bus_sends_every_event_of_many_publishes_in_order(redis_url: str) -> None:
    channel = f"oncall-test-{secrets.token_hex(6)}"
    listener, pubsub = _listen(redis_url, channel)
    bus = QueuedRedisEventBus(redis_url, channel)
    sent = events(1_000)
    for i in range(0, len(sent), 3):  # single publishes and small groups, as commands do
        if i % 2:
            bus.publish(sent[i])
            bus.publish_many(sent[i + 1 : i + 3])
        else:
            bus.publish_many(sent[i : i + 3])
    assert bus.flush(10)
    received = _receive(pubsub, len(sent))
    pubsub.close()
    listener.close()
    assert received == sent


def test_queued_bus_returns_at_once_when_redis_does_not_answer() -> None:
    # A listening socket nobody reads: a direct publish would wait out the 2 s socket timeout.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        bus = QueuedRedisEventBus(url, "oncall-silent")
        with capture_logs() as logs:
            started = time.monotonic()
            bus.publish_many(events(2))
            bus.publish(events(1)[0])
            returned_after = time.monotonic() - started
            assert bus.flush(10)
    assert returned_after < 0.5
    # The sender logged the failure once the timeout ended its send.
    assert logs
    assert {entry["event"] for entry in logs} == {"event_publish_failed"}


def test_queued_bus_drops_past_its_backlog_with_a_warning() -> None:
    # A Redis that never answers (a listening socket nobody reads) keeps the sender stuck in
    # its first send, so everything after the first batch waits in the queue.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        bus = QueuedRedisEventBus(url, "oncall-stuck", max_pending=5)
        with capture_logs() as logs:
            bus.publish(events(1)[0])
            deadline = time.monotonic() + 5
            while bus._queue.qsize() and time.monotonic() < deadline:  # the sender took it
                time.sleep(0.01)
            bus.publish_many(events(8))
        dropped = [entry for entry in logs if entry["event"] == "event_dropped_backlog"]
        assert len(dropped) == 1  # the first one past the limit; the rest of that call too
        assert bus._queue.qsize() == 5
        assert bus.flush(10)  # the 2 s socket timeout ends the stuck send; the rest then fail


def test_the_process_bus_is_the_queued_one_when_redis_is_configured(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_REDIS__URL", redis_url)
    get_settings.cache_clear()
    set_bus(None)
    try:
        assert isinstance(get_bus(), QueuedRedisEventBus)
    finally:
        set_bus(None)
        get_settings.cache_clear()
