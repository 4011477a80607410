"""SMS through Twilio's Messages API with the real ``twilio`` client and a timeout.

``twilio_base_url`` replaces ``https://api.twilio.com`` (tests use a local server). 429 and 5xx
answers and network errors are retryable; other 4xx (bad number, unverified sender) are not.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from backend.core.settings import NotificationSettings
from backend.notifications.providers.base import OutgoingMessage, ProviderResult


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

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
        try:
            sent = self._client().messages.create(
                to=message.to, from_=self._s.twilio_from, body=message.body
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
