"""E-mail through Amazon SES with boto3 against moto in server mode on 127.0.0.1, and SES as
the failover of an SMTP server that refuses connections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from backend.core.settings import NotificationSettings
from backend.notifications import dispatch
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.ses_email import SesEmailProvider
from tests.service.test_notification_providers import free_port

EMAIL = OutgoingMessage(
    channel="email",
    to="ann@example.org",
    subject="[CRITICAL] #7 Disk full",
    body="CRITICAL incident #7: Disk full\n",
)


@pytest.fixture
def moto_url() -> Iterator[str]:
    # moto's backends are process-wide: start from an empty one.
    ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].reset()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].reset()


def ses_settings(url: str, **kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "email_provider": "ses",
        "email_from": "OnCall <oncall@example.org>",
        "ses_endpoint_url": url,
        "ses_access_key_id": "testing",
        "ses_secret_access_key": "testing",
        # Generous: moto's first answer can be slow on a busy machine.
        "timeout_seconds": 15,
    }
    values.update(kw)
    return NotificationSettings(**values)


def verify_sender(url: str) -> None:
    boto3.client(
        "ses",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # moto's dummy credentials
    ).verify_email_identity(EmailAddress="oncall@example.org")


def sent() -> list[tuple[str, str, str, dict[str, list[str]]]]:
    return [
        (m.source, m.subject, m.body, m.destinations)
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    ]


def test_ses_sends_the_exact_email(moto_url: str) -> None:
    verify_sender(moto_url)
    provider = provider_for("email", ses_settings(moto_url))
    assert isinstance(provider, SesEmailProvider)
    result = provider.send(EMAIL)
    assert (result.ok, result.status, result.summary) == (
        True,
        "sent",
        "SES accepted from oncall@example.org",
    )
    assert sent() == [
        (
            "OnCall <oncall@example.org>",
            "[CRITICAL] #7 Disk full",
            "CRITICAL incident #7: Disk full\n",
            {"ToAddresses": ["ann@example.org"]},
        )
    ]


def test_ses_refuses_an_unverified_sender_permanently(moto_url: str) -> None:
    result = SesEmailProvider(ses_settings(moto_url)).send(EMAIL)
    assert (result.ok, result.retryable) == (False, False)
    assert result.summary.startswith("SES 400 MessageRejected")
    assert sent() == []


def test_ses_takes_over_when_smtp_is_unreachable(moto_url: str) -> None:
    verify_sender(moto_url)
    s = ses_settings(
        moto_url,
        email_provider="smtp",
        email_failover_provider="ses",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
    )
    used, result = dispatch.send_with_failover("email", EMAIL, s)
    assert (used, result.ok) == ("ses", True)
    assert result.summary.startswith("smtp: ConnectionRefusedError")
    assert result.summary.endswith("; ses: SES accepted from oncall@example.org")
    assert len(sent()) == 1
