"""Mobile push through AWS SNS (``Publish`` to a platform endpoint ARN: FCM or APNs behind SNS)
with boto3, a timeout and no hidden retries (ours are in the database).

The contact method's address is the endpoint ARN the mobile app registered with
``CreatePlatformEndpoint``. One ``MessageStructure=json`` message carries the same title and
text for FCM (``GCM``), APNs (production and sandbox) and a ``default`` for anything else.
Throttling, 5xx answers and network errors are retryable; other client errors are not (a
disabled or deleted endpoint: the app was uninstalled or the token expired).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.core.settings import NotificationSettings
from backend.notifications.providers.base import OutgoingMessage, ProviderResult
from backend.notifications.providers.sns_sms import RETRYABLE_CODES, SnsSmsProvider


def push_payload(title: str, body: str) -> str:
    """The ``Message`` of a ``MessageStructure=json`` publish (each platform's value is JSON)."""
    apns = json.dumps({"aps": {"alert": {"title": title, "body": body}, "sound": "default"}})
    return json.dumps(
        {
            "default": body,
            "GCM": json.dumps({"notification": {"title": title, "body": body}}),
            "APNS": apns,
            "APNS_SANDBOX": apns,
        }
    )


class SnsPushProvider:
    name = "sns"

    def __init__(self, settings: NotificationSettings) -> None:
        # The same client settings (region, keys, endpoint, timeouts, no retries) as SNS SMS.
        self._sms = SnsSmsProvider(settings)

    def _client(self) -> Any:
        return self._sms._client()

    def send(self, message: OutgoingMessage) -> ProviderResult:
        title = message.subject or "OnCall"
        try:
            answer = self._client().publish(
                TargetArn=message.to,
                MessageStructure="json",
                Message=push_payload(title, message.body),
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(error.get("Code", ""))
            retryable = code in RETRYABLE_CODES or status >= 500 or status == 429
            return ProviderResult.failure(
                f"SNS {status} {code}: {error.get('Message', '')}"[:200], retryable=retryable
            )
        except BotoCoreError as exc:  # timeouts, refused connections
            return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)
        return ProviderResult(
            ok=True,
            status="sent",
            summary="SNS push accepted",
            provider_id=str(answer.get("MessageId", "")),
        )
