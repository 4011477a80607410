"""Domain events cross processes through Redis pub/sub; losing Redis never fails a command."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from collections.abc import AsyncGenerator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
import redis
from structlog.testing import capture_logs

from backend.core.events import DomainEvent, RedisEventBus

pytestmark = pytest.mark.integration
T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBE_TIMEOUT_S = 10.0
DELIVERY_TIMEOUT_S = 30.0

EVENT = DomainEvent(
    name="teams.member.added",
    payload={"team_id": 7, "user_id": 42, "role": "TEAM_ADMIN", "tags": ["a", "b"]},
    topics=("teams", "team:7", "user:42"),
    actor_label="admin@example.org",
    at="2026-11-23T18:00:00+00:00",
)

# Runs in a separate interpreter: publishes a malformed message straight to the channel (the
# subscriber must skip it) and then EVENT through RedisEventBus.
PUBLISHER = """
import json, sys
import redis
from backend.core.events import DomainEvent, RedisEventBus

url, channel, raw_event = sys.argv[1], sys.argv[2], sys.argv[3]
client = redis.Redis.from_url(url)
client.publish(channel, "{not json")
client.close()
data = json.loads(raw_event)
RedisEventBus(url, channel).publish(
    DomainEvent(
        name=data["name"],
        payload=data["payload"],
        topics=tuple(data["topics"]),
        actor_label=data["actor_label"],
        at=data["at"],
    )
)
"""


def run_in_fresh_loop(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in its own thread: a test earlier in the session (Playwright's sync API)
    may have left an event loop running on this thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _subscribers(client: redis.Redis, channel: str) -> int:
    counts = cast(list[tuple[bytes, int]], client.pubsub_numsub(channel))
    return dict(counts).get(channel.encode(), 0)


def _subscription(url: str, channel: str) -> AsyncGenerator[DomainEvent, None]:
    return cast(AsyncGenerator[DomainEvent, None], RedisEventBus(url, channel).subscribe())


def _wait_for_subscriber(url: str, channel: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
        while _subscribers(client, channel) < 1:
            if time.monotonic() > deadline:
                pytest.fail(f"the subscriber did not subscribe to {channel} in time")
            time.sleep(0.02)
    finally:
        client.close()


async def _receive_from_other_process(url: str, channel: str) -> list[DomainEvent]:
    stream = _subscription(url, channel)
    first = asyncio.ensure_future(anext(stream))
    received: list[DomainEvent] = []
    try:
        # Subscribing happens inside the first anext(); publish only once Redis counts us.
        await asyncio.to_thread(_wait_for_subscriber, url, channel)
        publisher = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PUBLISHER,
            url,
            channel,
            EVENT.to_json(),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(publisher.communicate(), DELIVERY_TIMEOUT_S)
        assert publisher.returncode == 0, output.decode(errors="replace")
        received.append(await asyncio.wait_for(first, DELIVERY_TIMEOUT_S))
        # Exactly one event: nothing else arrives (the malformed message was skipped).
        with pytest.raises(TimeoutError):
            received.append(await asyncio.wait_for(anext(stream), 0.5))
    finally:
        first.cancel()
        await stream.aclose()
    return received


def test_subscriber_receives_an_event_published_by_another_process(redis_url: str) -> None:
    channel = f"oncall:it:events:{secrets.token_hex(8)}"
    with capture_logs() as logs:
        received = run_in_fresh_loop(_receive_from_other_process(redis_url, channel))
    assert received == [EVENT]
    assert received[0].name == "teams.member.added"
    assert received[0].payload == {
        "team_id": 7,
        "user_id": 42,
        "role": "TEAM_ADMIN",
        "tags": ["a", "b"],
    }
    assert received[0].topics == ("teams", "team:7", "user:42")
    assert [(entry["event"], entry["channel"]) for entry in logs] == [("event_malformed", channel)]


def test_subscriber_leaves_the_channel_when_closed(redis_url: str) -> None:
    channel = f"oncall:it:events:{secrets.token_hex(8)}"

    async def subscribe_then_close() -> None:
        stream = _subscription(redis_url, channel)
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.to_thread(_wait_for_subscriber, redis_url, channel)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        await stream.aclose()

    run_in_fresh_loop(subscribe_then_close())
    client = redis.Redis.from_url(redis_url)
    try:
        assert _subscribers(client, channel) == 0
    finally:
        client.close()


def test_publish_with_redis_unreachable_logs_and_returns(closed_port: int) -> None:
    bus = RedisEventBus(f"redis://127.0.0.1:{closed_port}/15", "oncall:it:events:unreachable")
    started = time.monotonic()
    with capture_logs() as logs:
        result = bus.publish(EVENT)  # type: ignore[func-returns-value]  # asserting it is None
    elapsed = time.monotonic() - started
    assert result is None
    assert len(logs) == 1
    assert logs[0]["event"] == "event_publish_failed"
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["event_name"] == "teams.member.added"
    assert logs[0]["exc_info"] is True
    # A refused connection fails fast; the 2 s socket timeouts bound the worst case.
    assert elapsed < 5


def test_event_json_round_trip_is_exact() -> None:
    assert DomainEvent.from_json(EVENT.to_json()) == EVENT
    assert json.loads(EVENT.to_json()) == {
        "name": "teams.member.added",
        "payload": {"team_id": 7, "user_id": 42, "role": "TEAM_ADMIN", "tags": ["a", "b"]},
        "topics": ["teams", "team:7", "user:42"],
        "actor_label": "admin@example.org",
        "at": "2026-11-23T18:00:00+00:00",
    }
