"""SMS through AWS SNS with boto3 against moto in server mode on 127.0.0.1, and SNS as the
failover of a Twilio that is down (NOTIF-01/04)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    # moto's backends are process-wide: start from an empty one.
    sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].reset()
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
        # Generous: moto's first answer can be slow on a busy machine.
        "timeout_seconds": 15,
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


class Failing(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).count += 1
        body = (
            b'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
            b"<Type>Receiver</Type><Code>InternalError</Code><Message>boom</Message></Error>"
            b"<RequestId>r</RequestId></ErrorResponse>"
        )
        self.send_response(500)
        self.send_header("content-type", "text/xml")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_an_sns_error_is_retryable_and_botocore_does_not_retry_it_itself() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = SnsSmsProvider(sns_settings(url)).send(SMS)
    finally:
        server.shutdown()
        server.server_close()
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary == "SNS 500 InternalError: boom"
    assert Failing.count == 1  # our retries live in the database; a hidden one would double
