"""SMS through AWS SNS with boto3 against moto in server mode on 127.0.0.1, and SNS as the
failover of a Twilio that is down (NOTIF-01/04)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends

from backend.core.settings import NotificationSettings
from backend.notifications import dispatch
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.sns_sms import SnsSmsProvider
from tests.service.test_notification_providers import (
    FakeTwilio,
    free_port,
    twilio,
    twilio_settings,
)

__all__ = ["twilio"]  # the fixture
SMS = OutgoingMessage(channel="sms", to="+15550001", body="[ESC-L1][CRITICAL] #7 Disk full")


@pytest.fixture
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].reset()


def sns_settings(url: str, **kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "sms_provider": "sns",
        "sns_endpoint_url": url,
        "sns_access_key_id": "testing",
        "sns_secret_access_key": "testing",
        "timeout_seconds": 2,
    }
    values.update(kw)
    return NotificationSettings(**values)


def sent() -> list[tuple[str, str]]:
    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def test_sns_publishes_the_exact_sms(moto_url: str) -> None:
    provider = provider_for("sms", sns_settings(moto_url))
    assert isinstance(provider, SnsSmsProvider)
    result = provider.send(SMS)
    assert (result.ok, result.status, result.summary) == (True, "sent", "SNS accepted")
    assert sent() == [("+15550001", "[ESC-L1][CRITICAL] #7 Disk full")]
    assert result.provider_id in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages


def test_sns_refuses_a_number_that_is_not_e164(moto_url: str) -> None:
    bad = OutgoingMessage(channel="sms", to="0800-call-me", body="x")
    result = SnsSmsProvider(sns_settings(moto_url)).send(bad)
    assert (result.ok, result.retryable) == (False, False)
    assert result.summary.startswith("SNS 400 InvalidParameter")
    assert sent() == []


def test_sns_unreachable_is_retryable() -> None:
    result = SnsSmsProvider(sns_settings(f"http://127.0.0.1:{free_port()}")).send(SMS)
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary.startswith("EndpointConnectionError")


def test_sns_takes_over_when_twilio_is_down(moto_url: str, twilio: FakeTwilio) -> None:
    twilio.answer = (503, {"code": 20500, "message": "Service unavailable"})
    s = twilio_settings(
        twilio,
        sms_failover_provider="sns",
        sns_endpoint_url=moto_url,
        sns_access_key_id="testing",
        sns_secret_access_key="testing",
    )
    used, result = dispatch.send_with_failover("sms", SMS, s)
    assert (used, result.ok) == ("sns", True)
    assert result.summary.startswith("twilio: Twilio 503 (code 20500)")
    assert result.summary.endswith("; sns: SNS accepted")
    assert len(twilio.requests) == 1
    assert sent() == [("+15550001", "[ESC-L1][CRITICAL] #7 Disk full")]
