"""Voice calls through Twilio's Calls API with the real ``twilio`` client and a timeout.

The call carries its TwiML inline (``twiml=``, built with ``VoiceResponse``): the page is read
inside a ``<Gather numDigits="1">`` offering 1 acknowledge, 2 details, 9 escalate, posted to
``{ONCALL_BASE_URL}/api/v1/webhooks/twilio/voice?notification=<id>``. Answering machine
detection is ``DetectMessageEnd``: on a voicemail Twilio waits for the beep, so the recording
holds the whole page followed by a short closing line (nobody presses a key there).

429, 5xx and network errors are retryable; other 4xx (bad number, unverified caller id) are not.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from backend.core.settings import NotificationSettings, get_settings
from backend.notifications.providers.base import OutgoingMessage, ProviderResult
from backend.notifications.providers.twilio_sms import status_callback_url

MENU = "Press 1 to acknowledge, 2 to hear the details, 9 to escalate."
CLOSING = "No key was pressed. Open OnCall to respond. Goodbye."
GATHER_PATH = "/api/v1/webhooks/twilio/voice"


def call_twiml(text: str, action_url: str) -> str:
    """The call's TwiML: the page and the menu inside one single-digit ``<Gather>``."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url, method="POST", timeout=8)
    gather.say(f"{text} {MENU}")
    response.say(CLOSING)
    return str(response)


def gather_url(base_url: str, notification_id: int | None) -> str:
    url = base_url.rstrip("/") + GATHER_PATH
    return f"{url}?notification={notification_id}" if notification_id is not None else url


class TwilioVoiceProvider:
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
        base_url = self._base_url if self._base_url is not None else get_settings().base_url
        twiml = call_twiml(message.body, gather_url(base_url, message.notification_id))
        extra: dict[str, str] = {}
        if message.notification_id is not None:  # the call's final status (receipts.py)
            extra["status_callback"] = status_callback_url(base_url, message.notification_id)
        try:
            call = self._client().calls.create(
                to=message.to,
                from_=self._s.twilio_from,
                twiml=twiml,
                machine_detection="DetectMessageEnd",
                timeout=30,
                **extra,
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
            summary=f"Twilio call {call.status}",
            provider_id=str(call.sid or ""),
        )
