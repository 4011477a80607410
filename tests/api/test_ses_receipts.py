"""Delivery receipts for e-mail through Amazon SES (NOTIF-02): SES events delivered by SNS.

The page's e-mail is really sent with boto3 to moto in server mode; the request boto3 made is
read back (moto ignores configuration sets and tags). SES's events are then posted as SNS
would post them, signed by the stand-in certificate of ``tests/factories/sns.py`` with
signature checking on, from the configured topic or from another.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.core.settings import get_settings
from backend.notifications import dispatch, ses_events
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, NotificationStatus, Urgency
from backend.notifications.providers import aws
from backend.notifications.schemas import RuleIn
from tests.api.test_twilio_receipts import state
from tests.factories.identity import actor_of
from tests.factories.notifications import verified_method
from tests.factories.sns import certificate_server, signed
from tests.service.test_notification_ses import moto_url, verify_sender
from tests.service.test_notifications import NOTIFY_KINDS, World, timeline, world

__all__ = ["moto_url", "world"]
URL = "/api/v1/webhooks/ses/events"
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall-ses-events"
CONFIRM = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"


@pytest.fixture
def receipts_on(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """SES as the e-mail provider with receipts configured; yields the certificate prefix."""
    verify_sender(moto_url)
    with certificate_server() as prefix:
        for key, value in {
            "NOTIFICATIONS__EMAIL_PROVIDER": "ses",
            "NOTIFICATIONS__EMAIL_FROM": "OnCall <oncall@example.org>",
            "NOTIFICATIONS__SES_ENDPOINT_URL": moto_url,
            "NOTIFICATIONS__SES_ACCESS_KEY_ID": "testing",
            "NOTIFICATIONS__SES_SECRET_ACCESS_KEY": "testing",
            "NOTIFICATIONS__TIMEOUT_SECONDS": "15",
            "NOTIFICATIONS__SES_CONFIGURATION_SET": "oncall-events",
            "NOTIFICATIONS__SES_EVENTS_TOPIC_ARN": TOPIC,
            "INGEST__SNS_VERIFY_SIGNATURES": "true",
            "INGEST__SNS_TEST_CERT_URL_PREFIX": prefix,
        }.items():
            monkeypatch.setenv(f"ONCALL_{key}", value)
        get_settings.cache_clear()
        aws.client.cache_clear()
        yield prefix
    get_settings.cache_clear()
    aws.client.cache_clear()


def email_page(world: World) -> tuple[int, int, dict[str, Any]]:
    """Page Ann by e-mail only; (incident, notification, the SendEmail parameters boto3 sent)."""
    ann = world.crew.id("ann")
    notifications.set_rules(
        actor_of(world.crew.ann),
        ann,
        Urgency.HIGH,
        [RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.EMAIL)],
    )
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    incident_id, (email,) = world.page()
    sent: list[dict[str, Any]] = []
    real = aws.client

    def recording(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        made.meta.events.register(
            "provide-client-params.ses.SendEmail", lambda params, **_: sent.append(params)
        )
        return made

    aws.client = recording  # type: ignore[assignment]  # the real client, observed
    try:
        assert dispatch.deliver(email.notification_id) is DeliverOutcome.DONE
    finally:
        aws.client = real
    (params,) = sent
    return incident_id, email.notification_id, params


def event(notification_id: int | str, kind: str, **detail: Any) -> str:
    """An SES event as its configuration set publishes it (the tag names the notification)."""
    return json.dumps(
        {
            "eventType": kind,
            "mail": {
                "timestamp": "2026-03-04T10:00:01.000Z",
                "messageId": "0100018e-example",
                "source": "oncall@example.org",
                "destination": ["ann@example.org"],
                "tags": {
                    "ses:configuration-set": ["oncall-events"],
                    "oncall_notification": [str(notification_id)],
                },
            },
            **detail,
        }
    )


def sns(prefix: str, message: str, *, topic: str = TOPIC) -> dict[str, Any]:
    return signed(
        {
            "Type": "Notification",
            "MessageId": "5d1b6c5e-0000-4000-8000-000000000001",
            "TopicArn": topic,
            "Message": message,
            "Timestamp": "2026-03-04T10:00:02.000Z",
        },
        version="2",
        cert_url=prefix + "cert.pem",
    )


def post(client: TestClient, message: dict[str, Any]) -> Any:
    return client.post(
        URL, content=json.dumps(message), headers={"Content-Type": "text/plain; charset=UTF-8"}
    )


def test_an_email_asks_for_events_and_a_delivery_event_marks_it_delivered(
    client: TestClient, world: World, receipts_on: str
) -> None:
    _, notification_id, params = email_page(world)
    assert params["ConfigurationSetName"] == "oncall-events"
    assert params["Tags"] == [{"Name": "oncall_notification", "Value": str(notification_id)}]
    assert state(notification_id)[0] is NotificationStatus.SENT
    accepted = event(notification_id, "Delivery", delivery={"smtpResponse": "250 2.6.0 Ok"})
    assert post(client, sns(receipts_on, accepted)).status_code == 204
    status, attempts = state(notification_id)
    assert status is NotificationStatus.DELIVERED
    assert attempts[-1][0] == "delivered"
    assert attempts[-1][1].endswith("SES delivered (250 2.6.0 Ok)")
    # A late bounce after the delivery changes nothing.
    bounce = event(notification_id, "Bounce", bounce={"bounceType": "Permanent"})
    assert post(client, sns(receipts_on, bounce)).status_code == 204
    assert state(notification_id)[0] is NotificationStatus.DELIVERED


def test_a_permanent_bounce_fails_the_email_and_the_page_falls_back(
    client: TestClient, world: World, receipts_on: str
) -> None:
    incident_id, notification_id, _ = email_page(world)
    verified_method(world.crew.id("ann"), ChannelKind.SMS, "+15550001")
    transient = event(notification_id, "Bounce", bounce={"bounceType": "Transient"})
    assert post(client, sns(receipts_on, transient)).status_code == 204
    assert state(notification_id)[0] is NotificationStatus.SENT  # SES keeps trying
    permanent = event(
        notification_id, "Bounce", bounce={"bounceType": "Permanent", "bounceSubType": "General"}
    )
    assert post(client, sns(receipts_on, permanent)).status_code == 204
    assert state(notification_id)[0] is NotificationStatus.FAILED
    # Every primary channel failed for good: Ann is texted (notification-tiers.md).
    assert timeline(incident_id, *NOTIFY_KINDS) == [
        "Paged Ann by e-mail.",
        "E-mail to Ann was not delivered: SES permanent bounce (General).",
        "E-mail to Ann failed; texting Ann by SMS instead.",
    ]


def test_forged_unsigned_and_foreign_events_are_refused_and_change_nothing(
    client: TestClient, world: World, receipts_on: str
) -> None:
    _, notification_id, _ = email_page(world)
    bounce = event(notification_id, "Bounce", bounce={"bounceType": "Permanent"})
    good = sns(receipts_on, bounce)
    refusals = {
        "unsigned": {k: v for k, v in good.items() if k not in ("Signature", "SigningCertURL")},
        "tampered": {**good, "Message": event(notification_id + 1, "Delivery")},
        "another account's topic": sns(receipts_on, bounce, topic=TOPIC.replace("1234", "9999")),
    }
    for why, message in refusals.items():
        answer = post(client, message)
        assert answer.status_code == 403, (why, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "invalid_signature", why
    not_sns = client.post(URL, content=b"not json", headers={"Content-Type": "text/plain"})
    assert not_sns.status_code == 422
    assert state(notification_id)[0] is NotificationStatus.SENT


def test_the_subscription_of_the_configured_topic_is_confirmed_once_signed(
    client: TestClient, receipts_on: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []
    monkeypatch.setattr(ses_events, "confirm_subscription", lambda url: fetched.append(url) or 200)
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "5d1b6c5e-0000-4000-8000-000000000002",
        "Token": "abc",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": CONFIRM,
        "Timestamp": "2026-03-04T10:00:00.000Z",
    }
    foreign = signed({**confirmation, "TopicArn": TOPIC + "-other"}, cert_url=receipts_on + "c.pem")
    assert post(client, foreign).status_code == 403
    assert fetched == []
    assert post(client, signed(confirmation, cert_url=receipts_on + "cert.pem")).status_code == 204
    assert fetched == [CONFIRM]


def test_without_a_configured_topic_the_endpoint_is_not_found(client: TestClient) -> None:
    assert get_settings().notifications.ses_events_topic_arn == ""
    answer = client.post(URL, content=b"{}", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 404
