"""Browser push through the real ``pywebpush`` against a small push service on 127.0.0.1.

The "browser" is a P-256 key pair and an auth secret made here, so the test decrypts what the
push service received (``http_ece``, aes128gcm) and checks the VAPID JWT against the key pair
the installation persisted. Also: subscriptions are checked when added, a browser push contact
method is verified through the normal delivery path, and a page carries its incident's link.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dramatiq.brokers.stub import StubBroker
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import AlreadyExists, ErrorCode, ValidationFailed
from backend.core.settings import NotificationSettings, get_settings
from backend.escalation import engine
from backend.escalation.policy import TargetKind
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from backend.notifications import dispatch, vapid, web_push_subscription
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, DeliveryAttempt, Notification, Urgency
from backend.notifications.providers import OutgoingMessage, provider_for
from backend.notifications.providers.web_push import WebPushProvider
from backend.notifications.schemas import ContactMethodIn, RuleIn
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of, make_user
from tests.factories.ingest import send_generic
from tests.factories.notifications import drain_paging, verified_method
from tests.factories.schedules import make_crew


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Browser:
    """The receiving side of a subscription: what a browser keeps to decrypt its pushes."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> dict[str, Any]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        decoded: dict[str, Any] = json.loads(plain)
        return decoded


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """Answers like a push service: records each POST and replies with ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.received.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                self.send_response(outer.status)
                if outer.status == 201:
                    self.send_header("Location", f"http://127.0.0.1/m/{len(outer.received)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/push/abc123"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.thread.start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()


def push_settings(**kw: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "web_push_provider": "webpush",
        "web_push_allow_insecure_endpoints": True,
        "web_push_subject": "mailto:ops@example.org",
        "web_push_ttl_seconds": 600,
        "timeout_seconds": 2,
    }
    values.update(kw)
    return NotificationSettings(**values)


def message_to(browser: Browser, endpoint: str, **kw: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "channel": "web_push",
        "to": json.dumps(browser.subscription(endpoint)),
        "subject": "Your OnCall verification code",
        "body": "Your OnCall verification code is 123456.",
    }
    values.update(kw)
    return OutgoingMessage(**values)


# --- the provider ------------------------------------------------------------------------------


def test_push_is_encrypted_for_the_browser_and_signed_with_the_persisted_key(
    push_service: PushService,
) -> None:
    browser = Browser()
    provider = provider_for("web_push", push_settings())
    assert isinstance(provider, WebPushProvider)
    result = provider.send(message_to(browser, push_service.endpoint))
    assert (result.ok, result.status, result.retryable) == (True, "sent", True)
    assert result.summary == "Web push 201 accepted by 127.0.0.1"
    assert result.provider_id == "http://127.0.0.1/m/1"
    (got,) = push_service.received
    assert got.path == "/push/abc123"
    assert (got.headers["content-encoding"], got.headers["ttl"]) == ("aes128gcm", "600")
    assert got.headers["urgency"] == "high"
    assert browser.decrypt(got.body) == {
        "title": "Your OnCall verification code",
        "body": "Your OnCall verification code is 123456.",
        "url": "http://localhost:3000/notifications",
        "tag": "oncall-0",
    }
    scheme, _, params = got.headers["authorization"].partition(" ")
    parts = dict(p.split("=", 1) for p in params.split(","))
    assert (scheme, set(parts)) == ("vapid", {"t", "k"})
    persisted = vapid.public_key()
    assert parts["k"] == persisted
    # The JWT verifies with the persisted public key (an independent JOSE implementation).
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), base64.urlsafe_b64decode(persisted + "=")
    )
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = jwt.decode(parts["t"], ECKey.import_key(pem), algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    assert {k: token.claims[k] for k in ("aud", "sub")} == {
        "aud": f"http://127.0.0.1:{push_service.port}",
        "sub": "mailto:ops@example.org",
    }
    other = ECKey.generate_key("P-256")
    with pytest.raises(BadSignatureError):
        jwt.decode(parts["t"], other, algorithms=["ES256"])


@pytest.mark.parametrize(
    ("_case", "status", "retryable", "summary_start"),
    [
        ("unsubscribed", 410, False, "Web push 410 Gone: the browser subscription is gone"),
        ("unknown subscription", 404, False, "Web push 404 Not Found: the browser subscription"),
        ("push service down", 500, True, "Web push 500 Internal Server Error"),
        ("throttled", 429, True, "Web push 429 Too Many Requests"),
        ("bad VAPID token", 403, False, "Web push 403 Forbidden"),
    ],
)
def test_push_service_refusals(
    push_service: PushService, _case: str, status: int, retryable: bool, summary_start: str
) -> None:
    push_service.status = status
    result = WebPushProvider(push_settings()).send(message_to(Browser(), push_service.endpoint))
    assert (result.ok, result.status, result.retryable) == (False, "failed", retryable)
    assert result.summary.startswith(summary_start)
    assert len(push_service.received) == 1


def test_a_push_service_that_never_answers_times_out_retryably() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/push/x"
        result = WebPushProvider(push_settings(timeout_seconds=0.3)).send(
            message_to(Browser(), endpoint)
        )
    assert (result.ok, result.retryable) == (False, True)
    assert result.summary.startswith(("ReadTimeout", "ConnectTimeout", "ConnectionError"))
    assert "timed out" in result.summary


def test_a_plain_http_endpoint_is_refused_without_the_test_setting(
    push_service: PushService,
) -> None:
    result = WebPushProvider(push_settings(web_push_allow_insecure_endpoints=False)).send(
        message_to(Browser(), push_service.endpoint)
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "https" in result.summary
    assert push_service.received == []


def test_a_bad_vapid_subject_is_a_permanent_failure(push_service: PushService) -> None:
    result = WebPushProvider(push_settings(web_push_subject="ops")).send(
        message_to(Browser(), push_service.endpoint)
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "web_push_subject" in result.summary
    assert push_service.received == []


# --- subscriptions as contact methods ----------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "address", "message"),
    [
        ("not JSON", "https://push.example/1", "must be PushSubscription JSON"),
        ("a list", "[]", "must be a JSON object"),
        ("no keys", '{"endpoint": "https://push.example/1"}', "no keys"),
        (
            "plain http",
            '{"endpoint": "http://push.example/1", "keys": {"p256dh": "x", "auth": "y"}}',
            "must be an https:// URL",
        ),
        (
            "short p256dh",
            '{"endpoint": "https://push.example/1", "keys": {"p256dh": "AAAA", "auth": "y"}}',
            "keys.p256dh must hold 65 bytes, not 3",
        ),
    ],
)
def test_a_subscription_is_checked_when_added(_case: str, address: str, message: str) -> None:
    user = make_user()
    with pytest.raises(ValidationFailed) as refused:
        notifications.add_contact_method(
            actor_of(user),
            user.id or 0,
            ContactMethodIn(kind=ChannelKind.WEB_PUSH, address=address),
        )
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    (error,) = refused.value.errors
    assert (error.loc, message in error.msg) == (("body", "address"), True)
    assert notifications.list_contact_methods(actor_of(user), user.id or 0) == []


def test_other_addresses_stay_at_320_characters() -> None:
    user = make_user()
    with pytest.raises(ValidationFailed) as refused:
        notifications.add_contact_method(
            actor_of(user), user.id or 0, ContactMethodIn(kind=ChannelKind.EMAIL, address="a" * 321)
        )
    assert refused.value.errors[0].loc == ("body", "address")


def test_a_browser_is_verified_through_the_normal_delivery_path(
    push_service: PushService, monkeypatch: pytest.MonkeyPatch, stub_broker: StubBroker
) -> None:
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_PROVIDER", "webpush")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_ALLOW_INSECURE_ENDPOINTS", "true")
    get_settings.cache_clear()
    user, browser = make_user(), Browser()
    actor, user_id = actor_of(user), user.id or 0
    # Sent with spaces and in another key order: stored compact and canonical.
    raw = json.dumps(browser.subscription(push_service.endpoint), indent=1)
    method = notifications.add_contact_method(
        actor, user_id, ContactMethodIn(kind=ChannelKind.WEB_PUSH, address=raw, label="Laptop")
    )
    assert method.address == web_push_subscription.parse(raw, allow_insecure=True).address()
    assert " " not in method.address
    _, (sent,) = drain_paging(stub_broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.DONE
    (got,) = push_service.received
    shown = browser.decrypt(got.body)
    code = shown["body"].split("code is ")[1][:6]
    assert (shown["title"], shown["url"]) == (
        "Your OnCall verification code",
        "http://localhost:3000/notifications",
    )
    verified = notifications.verify_contact_method(actor, method.id, code)
    assert (verified.verified, verified.verification_pending) == (True, False)
    with unit_of_work() as uow:
        row = uow.session.get(Notification, sent.notification_id)
        assert row is not None
        assert row.provider == "webpush"
        attempts = uow.session.scalars(select(DeliveryAttempt)).all()
        assert [(a.provider, a.response) for a in attempts] == [
            ("webpush", "Web push 201 accepted by 127.0.0.1")
        ]
        # The audit log names the push service's host, never the subscription's keys.
        diffs = [e.diff for e in uow.session.scalars(select(AuditEntry)).all()]
    assert {"kind": "web_push", "address": "127.0.0.1"} in diffs
    # The same browser subscribing again is the same contact method.
    with pytest.raises(AlreadyExists):
        notifications.add_contact_method(
            actor, user_id, ContactMethodIn(kind=ChannelKind.WEB_PUSH, address=raw)
        )


T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("_case", "severity", "urgency"), [("critical", "critical", "high"), ("low", "low", "normal")]
)
def test_a_page_opens_its_incident_from_the_notification(
    push_service: PushService,
    monkeypatch: pytest.MonkeyPatch,
    stub_broker: StubBroker,
    _case: str,
    severity: str,
    urgency: str,
) -> None:
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_PROVIDER", "webpush")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_ALLOW_INSECURE_ENDPOINTS", "true")
    monkeypatch.setenv("ONCALL_BASE_URL", "https://oncall.example.org")
    get_settings.cache_clear()
    browser = Browser()
    with time_machine.travel(T0, tick=False):
        crew = make_crew()
        admin = actor_of(crew.admin)
        policy_id = make_policy(
            crew.team_id, "Primary", levels=[[(TargetKind.USER, crew.id("ann"))]], actor=admin
        )
        service_id = catalog.create_service(
            admin,
            ServiceCreate(name="Postgres", team_id=crew.team_id, escalation_policy_id=policy_id),
        ).id
        created = integrations.create_integration(
            admin,
            IntegrationCreate(name="Grafana", type=IntegrationType.GENERIC, service_id=service_id),
        )
        address = web_push_subscription.parse(
            json.dumps(browser.subscription(push_service.endpoint)), allow_insecure=True
        ).address()
        verified_method(crew.id("ann"), ChannelKind.WEB_PUSH, address)
        # Low urgency pages e-mail by default: Ann asks for browser push instead.
        low = RuleIn(urgency=Urgency.LOW, channel=ChannelKind.WEB_PUSH)
        notifications.set_rules(actor_of(crew.ann), crew.id("ann"), Urgency.LOW, [low])
        result = send_generic(
            created, {"title": "Disk full on db-1", "dedup_key": "disk", "severity": severity}
        )
        incident_id = result.alerts[0].incident_id
        steps, _ = drain_paging(stub_broker)
        for step in steps:
            engine.run_step(step.incident_id, step.token, step.step)
        _, deliveries = drain_paging(stub_broker)
        outcomes = [dispatch.deliver(d.notification_id) for d in deliveries]
    assert outcomes == [DeliverOutcome.DONE]
    (got,) = push_service.received
    assert got.headers["urgency"] == urgency
    assert browser.decrypt(got.body) == {
        "title": f"[{severity.upper()}] #{incident_id} Disk full on db-1",
        "body": "Postgres · escalation level 1. Tap to open.",
        "url": f"https://oncall.example.org/incidents/{incident_id}",
        "tag": f"incident-{incident_id}",
    }


def _subscribed_then_refused(
    push_service: PushService, monkeypatch: pytest.MonkeyPatch, status: int
) -> tuple[Actor, int]:
    """A user adds a browser subscription; the push service will answer ``status``."""
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_PROVIDER", "webpush")
    monkeypatch.setenv("ONCALL_NOTIFICATIONS__WEB_PUSH_ALLOW_INSECURE_ENDPOINTS", "true")
    get_settings.cache_clear()
    user = make_user()
    actor, user_id = actor_of(user), user.id or 0
    raw = json.dumps(Browser().subscription(push_service.endpoint))
    notifications.add_contact_method(
        actor, user_id, ContactMethodIn(kind=ChannelKind.WEB_PUSH, address=raw)
    )
    push_service.status = status
    return actor, user_id


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(
    push_service: PushService,
    monkeypatch: pytest.MonkeyPatch,
    stub_broker: StubBroker,
    status: int,
) -> None:
    """The browser unsubscribed (or the subscription expired): the push service answers
    404/410, the notification fails for good, and the contact method goes, audited with the
    reason, so no later page is planned for a dead subscription."""
    actor, user_id = _subscribed_then_refused(push_service, monkeypatch, status)
    _, (sent,) = drain_paging(stub_broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.FAILED
    assert notifications.list_contact_methods(actor, user_id) == []
    with unit_of_work() as uow:
        row = uow.session.get(Notification, sent.notification_id)
        assert row is not None
        assert row.contact_method_id is None  # the history stays, without the method
        removed = [
            e.diff
            for e in uow.session.scalars(select(AuditEntry)).all()
            if e.action == "notifications.contact_method.removed"
        ]
    assert len(removed) == 1
    assert removed[0]["address"] == "127.0.0.1"
    assert str(removed[0]["reason"]).startswith(f"Web push {status}")


def test_other_permanent_failures_keep_the_subscription(
    push_service: PushService, monkeypatch: pytest.MonkeyPatch, stub_broker: StubBroker
) -> None:
    # 403: our VAPID token refused, our problem, not the browser's.
    actor, user_id = _subscribed_then_refused(push_service, monkeypatch, 403)
    _, (sent,) = drain_paging(stub_broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.FAILED
    assert len(notifications.list_contact_methods(actor, user_id)) == 1
