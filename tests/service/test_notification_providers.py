"""Providers through their real client libraries against local servers on 127.0.0.1.

SMTP: ``smtplib`` against an ``aiosmtpd`` server in a thread. SMS: the ``twilio`` client
against a small HTTP server that answers like Twilio's Messages API. Each: the exact message
received, a provider error (retryable or not), and a timeout.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from backend.core.errors import PermanentError
from backend.core.settings import NotificationSettings
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.smtp import SmtpProvider
from backend.notifications.providers.twilio_sms import TwilioSmsProvider
from tests.support.threaded_server import serving

SID = "AC" + "1" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- SMTP --------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.reply = "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.reply


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def smtp_settings(port: int, **kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "email_provider": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "email_from": "OnCall <oncall@example.org>",
        "timeout_seconds": 2,
    }
    values.update(kw)
    return NotificationSettings(**values)


EMAIL = OutgoingMessage(
    channel="email",
    to="ann@example.org",
    subject="[CRITICAL] #7 Disk full",
    body="CRITICAL incident #7: Disk full\n",
    html="<p>Disk full</p>",
    notification_id=1,
)


def test_smtp_delivers_the_exact_message(smtp_server: tuple[Recorder, int]) -> None:
    recorder, port = smtp_server
    provider = provider_for("email", smtp_settings(port))
    assert isinstance(provider, SmtpProvider)
    result = provider.send(EMAIL)
    assert (result.ok, result.status, result.summary) == (True, "sent", "accepted by SMTP")
    (envelope,) = recorder.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("oncall@example.org", ["ann@example.org"])
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "OnCall <oncall@example.org>",
        "ann@example.org",
        "[CRITICAL] #7 Disk full",
    )
    assert mail["Message-ID"] == result.provider_id
    parts = [(p.get_content_type(), p.get_content()) for p in mail.walk() if not p.is_multipart()]
    # SMTP carries CRLF line ends.
    assert parts == [
        ("text/plain", "CRITICAL incident #7: Disk full\r\n"),
        ("text/html", "<p>Disk full</p>\r\n"),
    ]


@pytest.mark.parametrize(
    ("_case", "reply", "retryable"),
    [("mailbox full, try later", "451 try later", True), ("no such user", "550 no", False)],
)
def test_smtp_rejections(
    smtp_server: tuple[Recorder, int], _case: str, reply: str, retryable: bool
) -> None:
    recorder, port = smtp_server
    recorder.reply = reply
    result = SmtpProvider(smtp_settings(port)).send(EMAIL)
    assert (result.ok, result.status, result.retryable) == (False, "failed", retryable)
    assert result.summary.startswith(f"SMTP {reply[:3]}")


def test_smtp_times_out_on_a_server_that_never_answers() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = SmtpProvider(smtp_settings(port, timeout_seconds=0.3)).send(EMAIL)
    assert (result.ok, result.retryable) == (False, True)
    assert "timed out" in result.summary


def test_smtp_refused_connection_is_retryable() -> None:
    result = SmtpProvider(smtp_settings(free_port())).send(EMAIL)
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary.startswith("ConnectionRefusedError")


# --- Twilio ------------------------------------------------------------------------------------


class FakeTwilio(ThreadingHTTPServer):
    """Answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` like Twilio."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), TwilioHandler)
        self.requests: list[dict[str, Any]] = []
        self.answer: tuple[int, dict[str, Any]] = (201, {})
        self.delay = 0.0
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class TwilioHandler(BaseHTTPRequestHandler):
    server: FakeTwilio

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
                "sid": "SM" + "a" * 32,
                "status": "queued",
                "to": form["To"][0],
                "from": form["From"][0],
                "body": form["Body"][0],
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
def twilio() -> Iterator[FakeTwilio]:
    yield from serving(FakeTwilio())


def twilio_settings(server: FakeTwilio, **kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "sms_provider": "twilio",
        "twilio_account_sid": SID,
        "twilio_auth_token": "tok-secret",
        "twilio_from": "+15550000",
        "twilio_base_url": server.url,
        "timeout_seconds": 2,
    }
    values.update(kw)
    return NotificationSettings(**values)


SMS = OutgoingMessage(channel="sms", to="+15550001", body="[ESC-L1][CRITICAL] #7 Disk full")


def test_twilio_sends_the_exact_message(twilio: FakeTwilio) -> None:
    provider = provider_for("sms", twilio_settings(twilio))
    assert isinstance(provider, TwilioSmsProvider)
    result = provider.send(SMS)
    assert (result.ok, result.status, result.summary, result.provider_id) == (
        True,
        "sent",
        "Twilio queued",
        "SM" + "a" * 32,
    )
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"] == {
        "To": "+15550001",
        "From": "+15550000",
        "Body": "[ESC-L1][CRITICAL] #7 Disk full",
    }
    assert request["authorization"].startswith("Basic ")
    # The auth token never appears in what we keep.
    assert "tok-secret" not in repr(result)


@pytest.mark.parametrize(
    ("_case", "status", "retryable"),
    [("bad number", 400, False), ("rate limited", 429, True), ("twilio down", 503, True)],
)
def test_twilio_errors(twilio: FakeTwilio, _case: str, status: int, retryable: bool) -> None:
    twilio.answer = (status, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    result = TwilioSmsProvider(twilio_settings(twilio)).send(SMS)
    assert (result.ok, result.status, result.retryable) == (False, "failed", retryable)
    assert result.summary.startswith(f"Twilio {status} (code 21211)")


def test_twilio_times_out(twilio: FakeTwilio) -> None:
    twilio.delay = 5.0
    result = TwilioSmsProvider(twilio_settings(twilio, timeout_seconds=0.3)).send(SMS)
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary.startswith(("ReadTimeout", "ConnectionError", "Timeout"))


def test_an_unknown_provider_for_a_channel_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError):
        provider_for("voice", NotificationSettings(voice_provider="ses"))
