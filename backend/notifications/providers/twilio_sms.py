"""SMS through Twilio's Messages API with the real ``twilio`` client and a timeout.

``twilio_base_url`` replaces ``https://api.twilio.com`` (tests use a local server). 429 and 5xx
answers and network errors are retryable; other 4xx (bad number, unverified sender) are not.

A page's message asks for delivery receipts: ``StatusCallback`` is
``{ONCALL_BASE_URL}/api/v1/webhooks/twilio/status?notification=<id>`` (``receipts.py`` turns
``delivered`` / ``undelivered`` / ``failed`` into the notification's status).
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.core.settings import NotificationSettings, get_settings
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

STATUS_PATH = "/api/v1/webhooks/twilio/status"


def status_callback_url(base_url: str, notification_id: int) -> str:
    """Where Twilio posts a message's or call's status changes (the receipts route)."""
    return f"{base_url.rstrip('/')}{STATUS_PATH}?notification={notification_id}"


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, settings: NotificationSettings, base_url: str | None = None) -> None:
        self._s = settings
        self._base_url = base_url

    def _client(self) -> Client:
        s = self._s
        client = Client(
            s.twilio_account_sid,
            s.twilio_auth_token.get_secret_value(),
            http_client=TwilioHttpClient(timeout=s.timeout_seconds),
            environment={},
        )
        if s.twilio_base_url:
            client.api.base_url = s.twilio_base_url.rstrip("/")
        return client

    def send(self, message: OutgoingMessage) -> ProviderResult:
        extra: dict[str, str] = {}
        if message.notification_id is not None:
            base_url = self._base_url if self._base_url is not None else get_settings().base_url
            extra["status_callback"] = status_callback_url(base_url, message.notification_id)
        try:
            sent = self._client().messages.create(
                to=message.to, from_=self._s.twilio_from, body=message.body, **extra
            )
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            return ProviderResult.failure(
                f"Twilio {exc.status} (code {exc.code}): {exc.msg}"[:200], retryable=retryable
            )
        except (requests.RequestException, TwilioException) as exc:
            return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)
        return ProviderResult(
            ok=True,
            status="sent",
            summary=f"Twilio {sent.status}",
            provider_id=str(sent.sid or ""),
        )
