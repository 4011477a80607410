"""Browser push (RFC 8030) through the real ``pywebpush``: the payload encrypted for the
subscription (``aes128gcm``, RFC 8188) and signed with the installation's VAPID key (RFC 8292,
``Authorization: vapid t=…,k=…``; see ``backend/notifications/vapid.py``).

The contact method's address is the browser's PushSubscription JSON. The payload is JSON the
service worker (``assets/sw.js``) shows: ``title``, ``body``, ``url`` (the incident, or the
notifications page for a verification code) and ``tag`` (one notification per incident on the
device, replaced by a later page). High-urgency pages and verification codes go with
``Urgency: high`` (push services may otherwise hold messages for a sleeping phone); every
message has a TTL (``web_push_ttl_seconds``).

Answers: 201/202 sent; 404/410 the subscription is gone (the browser unsubscribed, or its
data was cleared): permanent; 429, 5xx and network errors or timeouts: retryable; other 4xx
(a bad VAPID signature, a payload too large): permanent. No hidden retries: ours are in the
database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02, VapidException
from pywebpush import WebPushException, webpush

from backend.catalog.models import Service
from backend.core.db import unit_of_work
from backend.core.errors import PermanentError, ValidationFailed
from backend.core.settings import NotificationSettings, get_settings
from backend.escalation.models import PageRequest
from backend.incidents.models import Incident
from backend.notifications import rules, vapid, web_push_subscription
from backend.notifications.models import Notification, NotificationPurpose
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

GONE = frozenset({404, 410})
TITLE_ROOM = 120
BODY_ROOM = 400  # the whole encrypted payload must stay under 4 KB


@dataclass(frozen=True)
class PushContent:
    """What the service worker shows, and how urgently the push service should deliver it."""

    title: str
    body: str
    url: str
    tag: str
    urgency: str  # RFC 8030 Urgency: "high" or "normal"

    def payload(self) -> str:
        return json.dumps(
            {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag},
            separators=(",", ":"),
        )


def _clip(text: str, room: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def content(message: OutgoingMessage, base_url: str) -> PushContent:
    """The push of ``message``: a page shows its incident, anything else (a verification code,
    a critical-failure page to admins) its own text with a link to the notifications page."""
    base = base_url.rstrip("/")
    other = PushContent(
        title=_clip(message.subject or "OnCall", TITLE_ROOM),
        body=_clip(message.body, BODY_ROOM),
        url=f"{base}/notifications",
        tag=f"oncall-{message.notification_id or 0}",
        urgency="high",  # a verification code is awaited; a critical failure is urgent
    )
    if message.notification_id is None:
        return other
    with unit_of_work() as uow:
        session = uow.session
        row = session.get(Notification, message.notification_id)
        incident = session.get(Incident, row.incident_id) if row and row.incident_id else None
        if row is None or incident is None:
            return other
        link = f"{base}/incidents/{incident.id}"
        if row.purpose is not NotificationPurpose.PAGE:
            return PushContent(other.title, other.body, link, other.tag, "high")
        service = session.get(Service, incident.service_id)
        page = session.get(PageRequest, row.page_request_id) if row.page_request_id else None
        severity = incident.severity.value
        level = (page.level if page else 0) + 1
        return PushContent(
            title=_clip(f"[{severity}] #{incident.id} {incident.title}", TITLE_ROOM),
            body=_clip(
                f"{service.name if service else 'Incident'} · escalation level {level}. "
                "Tap to open.",
                BODY_ROOM,
            ),
            url=link,
            tag=f"incident-{incident.id}",
            urgency="high" if rules.urgency_of(severity) == "high" else "normal",
        )


def subject(settings: NotificationSettings) -> str:
    """The VAPID ``sub`` claim: the configured one, or mailto: with the e-mail sender."""
    if settings.web_push_subject:
        return settings.web_push_subject
    return f"mailto:{parseaddr(settings.email_from)[1] or 'oncall@localhost'}"


def failure(exc: WebPushException) -> ProviderResult:
    """A push service's refusal as a provider result (never the VAPID token)."""
    response = exc.response
    status = int(exc.status_code or 0)
    if status == 0:  # refused before anything was sent (e.g. keys pywebpush cannot use)
        return ProviderResult.failure(f"Web push not sent: {exc.message}"[:200], retryable=False)
    reason = str(getattr(response, "reason", "") or "")
    if status in GONE:
        return ProviderResult.failure(
            f"Web push {status} {reason}: the browser subscription is gone (unsubscribed or "
            "expired); the contact method is removed: enable browser notifications again",
            retryable=False,
            gone=True,
        )
    retryable = status == 429 or status >= 500
    text = str(getattr(response, "text", "") or "")
    return ProviderResult.failure(f"Web push {status} {reason}: {text}"[:200], retryable=retryable)


class WebPushProvider:
    name = "webpush"

    def __init__(self, settings: NotificationSettings) -> None:
        self._s = settings

    def send(self, message: OutgoingMessage) -> ProviderResult:
        s = self._s
        try:
            target = web_push_subscription.parse(
                message.to, allow_insecure=s.web_push_allow_insecure_endpoints
            )
            keys = vapid.keys()
        except ValidationFailed as exc:
            return ProviderResult.failure(
                f"Not a browser subscription: {exc.detail}", retryable=False
            )
        except PermanentError as exc:
            return ProviderResult.failure(exc.detail, retryable=False)
        push = content(message, get_settings().base_url)
        try:
            answer = webpush(
                target.as_info(),
                data=push.payload(),
                # RFC 8292 (Authorization: vapid t=…,k=…), not the draft "WebPush" scheme.
                vapid_private_key=Vapid02(private_key=keys.private_key),
                vapid_claims={"sub": subject(s)},  # a fresh dict: pywebpush adds aud and exp
                ttl=s.web_push_ttl_seconds,
                headers={"Urgency": push.urgency},
                timeout=s.timeout_seconds,
            )
        except WebPushException as exc:
            return failure(exc)
        except VapidException as exc:
            return ProviderResult.failure(
                f"VAPID claims refused ({exc}); set notifications.web_push_subject to a "
                "mailto: address or an https: URL"[:200],
                retryable=False,
            )
        except requests.RequestException as exc:  # timeouts, refused connections
            return ProviderResult.failure(f"{type(exc).__name__}: {exc}"[:200], retryable=True)
        assert isinstance(answer, requests.Response)  # not curl mode
        host = urlsplit(target.endpoint).hostname
        return ProviderResult(
            ok=True,
            status="sent",
            summary=f"Web push {answer.status_code} accepted by {host}",
            provider_id=str(answer.headers.get("Location", ""))[:200],
        )
