"""SMS through AWS SNS (``Publish`` to a phone number) with boto3, a timeout and no hidden
retries (ours are in the database). Meant as Twilio's failover (NOTIF-01/04).

Throttling, 5xx answers and network errors are retryable; other client errors are not.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.core.settings import NotificationSettings
from backend.notifications.providers import aws
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

RETRYABLE_CODES = frozenset({"Throttling", "ThrottlingException", "InternalError", "KMSThrottling"})


class SnsSmsProvider:
    name = "sns"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def _client(self) -> Any:
        s = self._s
        return aws.client(
            "sns",
            region=s.sns_region,
            endpoint_url=s.sns_endpoint_url,
            access_key_id=s.sns_access_key_id,
            secret_access_key=s.sns_secret_access_key.get_secret_value(),
            timeout_seconds=s.timeout_seconds,
        )

    def send(self, message: OutgoingMessage) -> ProviderResult:
        try:
            answer = self._client().publish(
                PhoneNumber=message.to,
                Message=message.body,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
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
        message_id = str(answer.get("MessageId", ""))
        return ProviderResult(
            ok=True, status="sent", summary="SNS accepted", provider_id=message_id
        )
