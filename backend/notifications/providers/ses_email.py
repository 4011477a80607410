"""E-mail through Amazon SES (``SendEmail``: text + HTML) with boto3, a timeout and no hidden
retries (ours are in the database).

Throttling, 5xx answers and network errors are retryable; other client errors (an unverified
sender, a rejected message) are not.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.core.settings import NotificationSettings
from backend.notifications.providers import aws
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

RETRYABLE_CODES = frozenset({"Throttling", "ThrottlingException", "ServiceUnavailable"})
# The message tag SES echoes in its events: the notification's id.
NOTIFICATION_TAG = "oncall_notification"


class SesEmailProvider:
    name = "ses"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def _client(self) -> Any:
        s = self._s
        return aws.client(
            "ses",
            region=s.ses_region,
            endpoint_url=s.ses_endpoint_url,
            access_key_id=s.ses_access_key_id,
            secret_access_key=s.ses_secret_access_key.get_secret_value(),
            timeout_seconds=s.timeout_seconds,
        )

    def send(self, message: OutgoingMessage) -> ProviderResult:
        body: dict[str, Any] = {"Text": {"Data": message.body, "Charset": "UTF-8"}}
        if message.html:
            body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
        receipts: dict[str, Any] = {}
        if self._s.ses_configuration_set and message.notification_id is not None:
            # SES publishes the message's events (delivery, bounce …) through the configuration
            # set with this tag, which names the notification (ses_events.py).
            receipts = {
                "ConfigurationSetName": self._s.ses_configuration_set,
                "Tags": [{"Name": NOTIFICATION_TAG, "Value": str(message.notification_id)}],
            }
        try:
            answer = self._client().send_email(
                Source=self._s.email_from,
                Destination={"ToAddresses": [message.to]},
                Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": body},
                **receipts,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(error.get("Code", ""))
            retryable = code in RETRYABLE_CODES or status >= 500 or status == 429
            return ProviderResult.failure(
                f"SES {status} {code}: {error.get('Message', '')}"[:200], retryable=retryable
            )
        except BotoCoreError as exc:  # timeouts, refused connections
            return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)
        return ProviderResult(
            ok=True,
            status="sent",
            summary=f"SES accepted from {parseaddr(self._s.email_from)[1]}",
            provider_id=str(answer.get("MessageId", "")),
        )
