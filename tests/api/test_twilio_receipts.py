"""Delivery receipts (NOTIF-02/03): Twilio's status callbacks through the HTTP endpoint.

The SMS and the call are really sent with the ``twilio`` client to local servers answering
like Twilio's Messages and Calls APIs (they record the ``StatusCallback`` asked for); the
callbacks are then posted like Twilio would, signed with the real ``RequestValidator``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.incidents import service as incidents
from backend.incidents.models import IncidentEventKind
from backend.notifications import dispatch
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import (
    ChannelKind,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Urgency,
)
from backend.notifications.schemas import RuleIn
from tests.factories.identity import actor_of
from tests.factories.notifications import drain_paging, verified_method
from tests.service.test_notification_providers import SID, FakeTwilio
from tests.service.test_notification_twilio_voice import FakeTwilioCalls
from tests.service.test_notifications import NOTIFY_KINDS, World, timeline, world
from tests.support.threaded_server import serving

__all__ = ["world"]
AUTH_TOKEN = "twilio-auth-token-for-tests"
STATUS_URL = "/api/v1/webhooks/twilio/status"


@pytest.fixture
def messages() -> Iterator[FakeTwilio]:
    yield from serving(FakeTwilio())


@pytest.fixture
def calls() -> Iterator[FakeTwilioCalls]:
    yield from serving(FakeTwilioCalls())


def use_twilio(monkeypatch: pytest.MonkeyPatch, channel: str, url: str) -> None:
    for key, value in {
        f"{channel.upper()}_PROVIDER": "twilio",
        "TWILIO_BASE_URL": url,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": "+15550000",
        "TIMEOUT_SECONDS": "5",
    }.items():
        monkeypatch.setenv(f"ONCALL_NOTIFICATIONS__{key}", value)
    get_settings.cache_clear()


def sms_first(world: World) -> tuple[int, int]:
    """Ann's rules: SMS only; she also has a voice method. Page her; (incident, notification)."""
    ann = world.crew.id("ann")
    notifications.set_rules(
        actor_of(world.crew.ann),
        ann,
        Urgency.HIGH,
        [RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.SMS)],
    )
    verified_method(ann, ChannelKind.SMS, "+15550001")
    verified_method(ann, ChannelKind.VOICE, "+15550002")
    incident_id, (sms,) = world.page()
    assert dispatch.deliver(sms.notification_id) is DeliverOutcome.DONE
    return incident_id, sms.notification_id


def callback(
    client: TestClient, notification_id: int, params: dict[str, str], *, token: str = AUTH_TOKEN
) -> int:
    path = f"{STATUS_URL}?notification={notification_id}"
    url = get_settings().base_url.rstrip("/") + path
    signature = RequestValidator(token).compute_signature(url, params)
    answer = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    return answer.status_code


def state(notification_id: int) -> tuple[NotificationStatus, list[tuple[str, str]]]:
    with unit_of_work() as uow:
        row = uow.session.get(Notification, notification_id)
        assert row is not None
        attempts = uow.session.exec(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.notification_id == notification_id)
            .order_by(col(DeliveryAttempt.attempt))
        ).all()
        return row.status, [(a.status.value, a.response) for a in attempts]


def test_an_sms_asks_for_receipts_and_delivered_marks_it_delivered(
    client: TestClient, world: World, messages: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_twilio(monkeypatch, "sms", messages.url)
    _, notification_id = sms_first(world)
    (sent,) = messages.requests
    assert sent["form"]["StatusCallback"] == (
        f"http://localhost:3000/api/v1/webhooks/twilio/status?notification={notification_id}"
    )
    assert state(notification_id) == (NotificationStatus.SENT, [("sent", "Twilio queued")])
    receipt = {"MessageSid": "SM" + "a" * 32, "AccountSid": SID}
    assert callback(client, notification_id, {**receipt, "MessageStatus": "sent"}) == 204
    assert state(notification_id)[0] is NotificationStatus.SENT  # not final: nothing changes
    assert callback(client, notification_id, {**receipt, "MessageStatus": "delivered"}) == 204
    assert state(notification_id) == (
        NotificationStatus.DELIVERED,
        [("delivered", "Twilio queued; Twilio delivered")],
    )
    # A late "undelivered" after "delivered" changes nothing.
    assert callback(client, notification_id, {**receipt, "MessageStatus": "undelivered"}) == 204
    assert state(notification_id)[0] is NotificationStatus.DELIVERED


def test_a_wrong_signature_is_refused_and_changes_nothing(
    client: TestClient, world: World, messages: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_twilio(monkeypatch, "sms", messages.url)
    _, notification_id = sms_first(world)
    params = {"MessageSid": "SM1", "MessageStatus": "undelivered"}
    assert callback(client, notification_id, params, token="not-the-token") == 403
    unsigned = client.post(f"{STATUS_URL}?notification={notification_id}", data=params)
    assert unsigned.status_code == 403
    # The signature covers the URL: a valid one for another notification does not carry over.
    path = f"{STATUS_URL}?notification={notification_id + 1}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        get_settings().base_url.rstrip("/") + path, params
    )
    moved = client.post(
        f"{STATUS_URL}?notification={notification_id}",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert moved.status_code == 403
    assert state(notification_id) == (NotificationStatus.SENT, [("sent", "Twilio queued")])
    assert drain_paging(world.broker)[1] == []


def test_undelivered_fails_the_sms_and_falls_back_to_a_call(
    client: TestClient, world: World, messages: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_twilio(monkeypatch, "sms", messages.url)
    incident_id, notification_id = sms_first(world)
    params = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert callback(client, notification_id, params) == 204
    assert state(notification_id) == (
        NotificationStatus.FAILED,
        [("failed", "Twilio queued; Twilio undelivered (error 30003)")],
    )
    _, (call,) = drain_paging(world.broker)
    assert dispatch.deliver(call.notification_id) is DeliverOutcome.DONE  # outbox voice
    assert timeline(incident_id, *NOTIFY_KINDS) == [
        "Paged Ann by SMS.",
        "SMS to Ann was not delivered: Twilio undelivered (error 30003).",
        "SMS to Ann failed; calling Ann as the last resort.",
        "Paged Ann by voice call.",
    ]
    # Twilio repeats the callback: nothing more happens.
    assert callback(client, notification_id, params) == 204
    assert drain_paging(world.broker)[1] == []
    assert len(timeline(incident_id, IncidentEventKind.NOTIFICATION_FAILED)) == 2


def test_an_undelivered_sms_after_the_acknowledgement_calls_nobody(
    client: TestClient, world: World, messages: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_twilio(monkeypatch, "sms", messages.url)
    incident_id, notification_id = sms_first(world)
    incidents.acknowledge(actor_of(world.crew.ann), incident_id)
    assert callback(client, notification_id, {"MessageStatus": "failed"}) == 204
    assert state(notification_id)[0] is NotificationStatus.FAILED
    assert drain_paging(world.broker)[1] == []


def test_a_call_asks_for_its_final_status_and_completed_is_delivered(
    client: TestClient, world: World, calls: FakeTwilioCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_twilio(monkeypatch, "voice", calls.url)
    ann = world.crew.id("ann")
    verified_method(ann, ChannelKind.VOICE, "+15550002")
    _, (call,) = world.page()
    assert dispatch.deliver(call.notification_id) is DeliverOutcome.DONE
    (placed,) = calls.requests
    assert placed["form"]["StatusCallback"] == (
        f"http://localhost:3000/api/v1/webhooks/twilio/status?notification={call.notification_id}"
    )
    params = {"CallSid": "CA1", "CallStatus": "completed", "AnsweredBy": "human"}
    assert callback(client, call.notification_id, params) == 204
    assert state(call.notification_id) == (
        NotificationStatus.DELIVERED,
        [("delivered", "Twilio call queued; Twilio completed")],
    )
