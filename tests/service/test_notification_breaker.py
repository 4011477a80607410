"""Provider health (NOTIF-04): circuit breaker per provider and failover, with the real
twilio client against a local server answering like Twilio, and the outbox as failover."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update

from backend.core.db import unit_of_work
from backend.core.settings import NotificationSettings, get_settings
from backend.notifications import dispatch, health, queries
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.health import BreakerState, state_of
from backend.notifications.models import ChannelKind, NotificationStatus, ProviderHealth
from backend.notifications.providers import OutgoingMessage
from tests.factories.identity import actor_of
from tests.factories.notifications import verified_method
from tests.service.test_notification_providers import SID, FakeTwilio, twilio, twilio_settings
from tests.service.test_notifications import World, world

__all__ = ["twilio", "world"]  # the fixtures
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
SMS = OutgoingMessage(channel="sms", to="+15550001", body="[ESC-L1][CRITICAL] #7 Disk full")
DOWN = (503, {"code": 20500, "message": "Service unavailable"})


@pytest.fixture
def traveller() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as coordinates:
        yield coordinates


def test_breaker_states() -> None:
    assert state_of(None, T0, 60) is BreakerState.CLOSED
    assert state_of(T0, T0 + timedelta(seconds=59), 60) is BreakerState.OPEN
    assert state_of(T0, T0 + timedelta(seconds=60), 60) is BreakerState.HALF_OPEN


def states(s: NotificationSettings) -> list[tuple[str, BreakerState, int]]:
    return [(h.name, h.state, h.consecutive_failures) for h in health.provider_health(s)]


def test_three_failures_open_the_breaker_then_failover_half_open_trial_and_close(
    twilio: FakeTwilio,  # the fixture
    traveller: time_machine.Coordinates,
) -> None:
    s = twilio_settings(twilio, sms_failover_provider="outbox")
    twilio.answer = DOWN
    for n in range(1, 4):
        used, result = dispatch.send_with_failover("sms", SMS, s)
        assert (used, result.ok) == ("outbox", True)
        assert result.summary.startswith("twilio: Twilio 503 (code 20500)")
        assert result.summary.endswith(f"outbox: stored as outbox message {n}")
    assert len(twilio.requests) == 3
    assert states(s) == [("outbox", BreakerState.CLOSED, 0), ("twilio", BreakerState.OPEN, 3)]
    # Open: Twilio is not called at all; the outbox takes the message.
    used, result = dispatch.send_with_failover("sms", SMS, s)
    assert (used, result.summary) == (
        "outbox",
        "twilio: circuit open; outbox: stored as outbox message 4",
    )
    assert len(twilio.requests) == 3
    # Half-open after 60 s: one trial; it fails, so the breaker opens for another period.
    traveller.shift(timedelta(seconds=60))
    used, _ = dispatch.send_with_failover("sms", SMS, s)
    assert (used, len(twilio.requests)) == ("outbox", 4)
    assert states(s)[1] == ("twilio", BreakerState.OPEN, 4)
    dispatch.send_with_failover("sms", SMS, s)
    assert len(twilio.requests) == 4
    # The next trial succeeds: closed again, Twilio carries the traffic.
    traveller.shift(timedelta(seconds=60))
    twilio.answer = (201, {})
    used, result = dispatch.send_with_failover("sms", SMS, s)
    assert (used, result.ok, result.summary) == ("twilio", True, "twilio: Twilio queued")
    assert states(s)[1] == ("twilio", BreakerState.CLOSED, 0)


def test_a_permanent_error_does_not_count_against_the_provider(
    twilio: FakeTwilio,  # the fixture
    traveller: time_machine.Coordinates,
) -> None:
    s = twilio_settings(twilio, sms_failover_provider="outbox")
    twilio.answer = (400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    for _ in range(4):
        used, result = dispatch.send_with_failover("sms", SMS, s)
        # Not retryable: the failover is not tried for a bad number either.
        assert (used, result.ok, result.retryable) == ("twilio", False, False)
    assert len(twilio.requests) == 4
    assert states(s) == []


def test_without_failover_an_open_breaker_is_a_retryable_failure(
    twilio: FakeTwilio,  # the fixture
    traveller: time_machine.Coordinates,
) -> None:
    s = twilio_settings(twilio)
    twilio.answer = DOWN
    for _ in range(3):
        dispatch.send_with_failover("sms", SMS, s)
    used, result = dispatch.send_with_failover("sms", SMS, s)
    assert (used, result.ok, result.retryable) == ("twilio", False, True)
    assert result.summary == "twilio: circuit open"
    assert len(twilio.requests) == 3


def test_a_page_goes_out_through_the_failover_provider_when_twilio_is_down(
    world: World,  # the fixture
    twilio: FakeTwilio,  # the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in {
        "SMS_PROVIDER": "twilio",
        "SMS_FAILOVER_PROVIDER": "outbox",
        "TWILIO_BASE_URL": twilio.url,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_FROM": "+15550000",
    }.items():
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
    get_settings.cache_clear()
    twilio.answer = DOWN
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    incident_id, deliveries = world.page()
    assert dispatch.deliver(deliveries[0].notification_id) is DeliverOutcome.DONE
    log = queries.list_notifications(actor_of(world.crew.admin), incident_id=incident_id)
    first = log[-1]
    assert (first.status, first.provider, first.attempts) == (
        NotificationStatus.DELIVERED,
        "outbox",
        1,
    )
    ((attempt),) = first.attempt_log
    assert (attempt.provider, attempt.status) == ("outbox", NotificationStatus.DELIVERED)
    assert attempt.response.startswith("twilio: Twilio 503 (code 20500)")
    assert len(twilio.requests) == 1


def test_a_closed_breaker_costs_no_write_per_success_and_other_processes_are_seen_soon(
    twilio: FakeTwilio,  # the fixture (settings and database)
    traveller: time_machine.Coordinates,
) -> None:
    s = twilio_settings(twilio)

    def last_success() -> datetime | None:
        (row,) = [h for h in health.provider_health(s) if h.name == "twilio"]
        return row.last_success_at

    health.record("twilio", ok=True, retryable=False, summary="ok", s=s)
    assert last_success() == T0
    # Closed, no failures, written moments ago: the next successes are not written...
    traveller.shift(timedelta(seconds=4))
    health.record("twilio", ok=True, retryable=False, summary="ok", s=s)
    assert last_success() == T0
    # ...until KNOWN_FOR has passed.
    traveller.shift(timedelta(seconds=1))
    health.record("twilio", ok=True, retryable=False, summary="ok", s=s)
    assert last_success() == T0 + timedelta(seconds=5)
    # Failures are always written; after one, the next success is written at once.
    health.record("twilio", ok=False, retryable=True, summary="503", s=s)
    assert states(s) == [("twilio", BreakerState.CLOSED, 1)]
    health.record("twilio", ok=True, retryable=False, summary="ok", s=s)
    assert states(s) == [("twilio", BreakerState.CLOSED, 0)]
    # Another worker process opens the breaker: this one sees it once what it knows is stale.
    assert not health.is_open("twilio", s)
    with unit_of_work() as uow:
        uow.session.execute(
            update(ProviderHealth.__table__)  # type: ignore[attr-defined]
            .where(ProviderHealth.__table__.c.name == "twilio")  # type: ignore[attr-defined]
            .values(opened_at=T0 + timedelta(seconds=5), consecutive_failures=3)
        )
    assert not health.is_open("twilio", s)
    traveller.shift(health.KNOWN_FOR)
    assert health.is_open("twilio", s)
