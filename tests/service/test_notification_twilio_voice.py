"""The Twilio voice provider with the real ``twilio`` client against a local server answering
like Twilio's Calls API: the exact form posted (inline TwiML with the page inside a one-digit
``<Gather>``, answering-machine detection), errors mapped retryable or not, and the timeout."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from backend.core.settings import NotificationSettings
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.twilio_voice import TwilioVoiceProvider
from tests.support.threaded_server import serving

SID = "AC" + "0" * 32
CALL_SID = "CA" + "b" * 32


class FakeTwilioCalls(ThreadingHTTPServer):
    """Answers ``POST /2010-04-01/Accounts/{sid}/Calls.json`` like Twilio."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CallsHandler)
        self.requests: list[dict[str, Any]] = []
        self.answer: tuple[int, dict[str, Any]] = (201, {})
        self.delay = 0.0
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class CallsHandler(BaseHTTPRequestHandler):
    server: FakeTwilioCalls

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        self.server.requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("authorization"),
                "form": {k: v[0] for k, v in form.items()},
            }
        )
        if self.server.delay:
            self.server.release.wait(self.server.delay)
        status, body = self.server.answer
        if status == 201:
            body = {
                "sid": CALL_SID,
                "status": "queued",
                "to": form["To"][0],
                "from": form["From"][0],
                "account_sid": SID,
            }
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def twilio() -> Iterator[FakeTwilioCalls]:
    yield from serving(FakeTwilioCalls())


def voice_settings(server: FakeTwilioCalls, **kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "voice_provider": "twilio",
        "twilio_account_sid": SID,
        "twilio_auth_token": "tok-secret",
        "twilio_from": "+15550000",
        "twilio_base_url": server.url,
        "timeout_seconds": 2,
    }
    values.update(kw)
    return NotificationSettings(**values)


CALL = OutgoingMessage(
    channel="voice",
    to="+15550001",
    body="OnCall page. CRITICAL incident 7 on api: Disk full.",
    notification_id=42,
)


def test_twilio_places_the_exact_call(twilio: FakeTwilioCalls) -> None:
    provider = provider_for("voice", voice_settings(twilio))
    assert isinstance(provider, TwilioVoiceProvider)
    result = TwilioVoiceProvider(voice_settings(twilio), base_url="https://oncall.test/").send(CALL)
    assert (result.ok, result.status, result.summary, result.provider_id) == (
        True,
        "sent",
        "Twilio call queued",
        CALL_SID,
    )
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert request["form"] == {
        "To": "+15550001",
        "From": "+15550000",
        "MachineDetection": "DetectMessageEnd",
        "Timeout": "30",
        "StatusCallback": "https://oncall.test/api/v1/webhooks/twilio/status?notification=42",
        "Twiml": (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            '<Gather action="https://oncall.test/api/v1/webhooks/twilio/voice?notification=42" '
            'method="POST" numDigits="1" timeout="8">'
            "<Say>OnCall page. CRITICAL incident 7 on api: Disk full. "
            "Press 1 to acknowledge, 2 to hear the details, 9 to escalate.</Say></Gather>"
            "<Say>No key was pressed. Open OnCall to respond. Goodbye.</Say></Response>"
        ),
    }
    assert request["authorization"].startswith("Basic ")
    assert "tok-secret" not in repr(result)


@pytest.mark.parametrize(
    ("_case", "status", "retryable"),
    [("bad number", 400, False), ("rate limited", 429, True), ("twilio down", 503, True)],
)
def test_twilio_call_errors(
    twilio: FakeTwilioCalls, _case: str, status: int, retryable: bool
) -> None:
    twilio.answer = (status, {"code": 21217, "message": "Phone number is not a valid number"})
    result = TwilioVoiceProvider(voice_settings(twilio), base_url="http://x").send(CALL)
    assert (result.ok, result.status, result.retryable) == (False, "failed", retryable)
    assert result.summary.startswith(f"Twilio {status} (code 21217)")


def test_twilio_call_times_out(twilio: FakeTwilioCalls) -> None:
    twilio.delay = 5.0
    settings = voice_settings(twilio, timeout_seconds=0.3)
    result = TwilioVoiceProvider(settings, base_url="http://x").send(CALL)
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary.startswith(("ReadTimeout", "ConnectionError", "Timeout"))


def test_a_refused_connection_is_retryable() -> None:
    settings = NotificationSettings(
        voice_provider="twilio",
        twilio_account_sid=SID,
        twilio_auth_token="t",
        twilio_from="+1",
        twilio_base_url="http://127.0.0.1:1",
        timeout_seconds=1,
    )
    result = TwilioVoiceProvider(settings, base_url="http://x").send(CALL)
    assert (result.ok, result.retryable) == (False, True)
