"""Heartbeats (ALERT-03), maintenance windows (ALERT-04) and the SNS confirmation job, with a
controllable clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import time_machine
from sqlmodel import select

from backend.core.db import unit_of_work
from backend.incidents.models import Incident, IncidentStatus
from backend.ingest import heartbeats, maintenance, retention, sns
from backend.ingest.errors import HeartbeatNotFound
from backend.ingest.models import (
    HeartbeatStatus,
    IdempotencyRecord,
    InboundDelivery,
    IntegrationType,
)
from backend.ingest.schemas import HeartbeatCreate, MaintenanceWindowCreate
from tests.factories.ingest import (
    ADMIN,
    make_integration,
    make_service,
    send_generic,
    send_provider,
)
from tests.service.test_ingest import alert_count

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"


def incidents() -> list[Incident]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(Incident)))


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_missed_heartbeat_opens_an_incident_and_the_next_check_in_resolves_it() -> None:
    service_id = make_service("Cron")
    with time_machine.travel(T0, tick=False) as clock:
        created = heartbeats.create_monitor(
            ADMIN,
            HeartbeatCreate(
                name="nightly", service_id=service_id, interval_seconds=300, grace_seconds=60
            ),
        )
        token = token_of(created.check_in_url)
        assert heartbeats.check_in(token).status is HeartbeatStatus.UP
        clock.shift(timedelta(seconds=359))
        assert heartbeats.check_heartbeats() == 0
        clock.shift(timedelta(seconds=2))
        assert heartbeats.check_heartbeats() == 1
        assert heartbeats.check_heartbeats() == 0  # already down: no second incident
        (incident,) = incidents()
        assert (incident.status, incident.dedup_key) == (
            IncidentStatus.OPEN,
            f"heartbeat:{created.monitor.id}",
        )
        clock.shift(timedelta(seconds=30))
        back = heartbeats.check_in(token)
        assert back.status is HeartbeatStatus.UP
        assert incidents()[0].status is IncidentStatus.RESOLVED


def test_a_monitor_that_never_checks_in_is_missed_too() -> None:
    service_id = make_service("Cron")
    with time_machine.travel(T0, tick=False) as clock:
        heartbeats.create_monitor(
            ADMIN,
            HeartbeatCreate(
                name="never", service_id=service_id, interval_seconds=60, grace_seconds=0
            ),
        )
        clock.shift(timedelta(seconds=61))
        assert heartbeats.check_heartbeats() == 1


def test_unknown_check_in_token() -> None:
    with pytest.raises(HeartbeatNotFound):
        heartbeats.check_in("nope")


def test_a_deleted_monitor_no_longer_checks_in_or_fires() -> None:
    service_id = make_service("Cron")
    with time_machine.travel(T0, tick=False) as clock:
        created = heartbeats.create_monitor(
            ADMIN, HeartbeatCreate(name="gone", service_id=service_id, interval_seconds=60)
        )
        heartbeats.delete_monitor(ADMIN, created.monitor.id)
        assert heartbeats.list_monitors(ADMIN, service_id) == []
        with pytest.raises(HeartbeatNotFound):
            heartbeats.check_in(token_of(created.check_in_url))
        clock.shift(timedelta(hours=1))
        assert heartbeats.check_heartbeats() == 0
        with pytest.raises(HeartbeatNotFound):
            heartbeats.delete_monitor(ADMIN, created.monitor.id)


def test_maintenance_window_marks_incidents_but_stores_and_groups_alerts() -> None:
    created = make_integration()
    service_id = created.integration.service_id
    assert service_id is not None
    with time_machine.travel(T0, tick=False) as clock:
        maintenance.create_window(
            ADMIN,
            MaintenanceWindowCreate(
                service_id=service_id,
                starts_at=T0 + timedelta(minutes=10),
                ends_at=T0 + timedelta(minutes=40),
                reason="upgrade",
            ),
        )
        send_generic(created, {"title": "before", "dedup_key": "a"})
        clock.shift(timedelta(minutes=15))
        send_generic(created, {"title": "during", "dedup_key": "b"})
        send_generic(created, {"title": "during again", "dedup_key": "b"})
        clock.shift(timedelta(minutes=30))
        send_generic(created, {"title": "after", "dedup_key": "c"})
    by_key = {i.dedup_key: i for i in incidents()}
    assert {k: (i.in_maintenance, alert_count(i)) for k, i in by_key.items()} == {
        "a": (False, 1),
        "b": (True, 2),
        "c": (False, 1),
    }
    assert [w.reason for w in maintenance.list_windows(ADMIN, service_id, include_past=True)] == [
        "upgrade"
    ]


def test_sns_subscription_is_confirmed_by_the_job() -> None:
    created = make_integration(IntegrationType.CLOUDWATCH)
    payload = json.loads((FIXTURES / "cloudwatch/subscription_confirmation.json").read_text())
    result = send_provider(created, payload, content_type="text/plain; charset=UTF-8")
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(200, text="<ConfirmSubscriptionResponse/>")

    failing = httpx2.MockTransport(lambda request: httpx2.Response(403))
    assert sns.confirm_pending(transport=failing) == 0
    assert sns.confirm_pending(transport=httpx2.MockTransport(handler)) == 1
    assert seen == [payload["SubscribeURL"]]
    assert sns.confirm_pending(transport=httpx2.MockTransport(handler)) == 0  # nothing pending
    with unit_of_work() as uow:
        delivery = uow.session.get(InboundDelivery, result.delivery_id)
        assert delivery is not None
        assert (delivery.reason, delivery.detail) == (
            "subscription_confirmed",
            "subscription confirmed",
        )


def test_expired_idempotency_claims_are_purged() -> None:
    created = make_integration(dedup_window_seconds=60)
    with time_machine.travel(T0, tick=False) as clock:
        send_generic(created, {"title": "x"})
        clock.shift(timedelta(hours=2))
        assert retention.purge_expired_keys() == 1
    with unit_of_work() as uow:
        assert list(uow.session.exec(select(IdempotencyRecord))) == []
