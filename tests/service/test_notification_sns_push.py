"""Mobile push through AWS SNS (Publish to a platform endpoint ARN) with boto3 against moto in
server mode on 127.0.0.1: the exact per-platform message, a disabled endpoint (permanent), SNS
unreachable (retryable)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.sns_push import SnsPushProvider
from tests.service.test_notification_providers import free_port
from tests.service.test_notification_sns import moto_url, sns_settings

__all__ = ["moto_url"]  # the fixture
PUSH = OutgoingMessage(
    channel="push",
    to="",
    body="[CRITICAL] INC-7 Disk full (api) https://oncall.test/incidents/7",
    subject="[CRITICAL] INC-7 Disk full",
)


def endpoint(url: str, *, enabled: bool = True) -> str:
    client: Any = boto3.client(
        "sns",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    app = client.create_platform_application(
        Name="oncall", Platform="GCM", Attributes={"PlatformCredential": "fcm-key"}
    )["PlatformApplicationArn"]
    return str(
        client.create_platform_endpoint(
            PlatformApplicationArn=app,
            Token="device-token-1",
            Attributes={"Enabled": "true" if enabled else "false"},
        )["EndpointArn"]
    )


def push_to(arn: str) -> OutgoingMessage:
    return OutgoingMessage(channel=PUSH.channel, to=arn, body=PUSH.body, subject=PUSH.subject)


def test_sns_pushes_the_exact_message(moto_url: str) -> None:
    arn = endpoint(moto_url)
    provider = provider_for("push", sns_settings(moto_url, push_provider="sns"))
    assert isinstance(provider, SnsPushProvider)
    result = provider.send(push_to(arn))
    assert (result.ok, result.status, result.summary) == (True, "sent", "SNS push accepted")
    messages = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints[arn].messages
    assert list(messages) == [result.provider_id]
    alert = {"title": "[CRITICAL] INC-7 Disk full", "body": PUSH.body}
    assert json.loads(messages[result.provider_id]) == {
        "default": PUSH.body,
        "GCM": json.dumps({"notification": alert}),
        "APNS": json.dumps({"aps": {"alert": alert, "sound": "default"}}),
        "APNS_SANDBOX": json.dumps({"aps": {"alert": alert, "sound": "default"}}),
    }


def test_a_disabled_endpoint_is_permanent(moto_url: str) -> None:
    arn = endpoint(moto_url, enabled=False)
    result = SnsPushProvider(sns_settings(moto_url)).send(push_to(arn))
    assert (result.ok, result.retryable) == (False, False)
    assert result.summary.startswith("SNS 400 EndpointDisabled")


def test_sns_unreachable_is_retryable() -> None:
    settings = sns_settings(f"http://127.0.0.1:{free_port()}", timeout_seconds=1)
    result = SnsPushProvider(settings).send(push_to("arn:aws:sns:us-east-1:1:endpoint/GCM/x/y"))
    assert (result.ok, result.retryable) == (False, True)
