"""Delivery receipts for e-mail sent through Amazon SES (NOTIF-02).

With ``ONCALL_NOTIFICATIONS__SES_CONFIGURATION_SET`` set, every e-mail goes out with that
configuration set and the tag ``oncall_notification=<id>``. The configuration set's event
destination is an SNS topic whose HTTPS subscription is ``POST /api/v1/webhooks/ses/events``;
SES echoes the tag in each event, so nothing needs to map SES message ids back.

What is believed: only a message whose SNS signature verifies (Amazon's certificate,
``backend.ingest.sns_signature``) **and** whose ``TopicArn`` is the configured
``ses_events_topic_arn``. The topic check matters: SNS signs any account's messages, so
without it another AWS account's events could name our notification ids. The topic's
subscription confirmation is fetched at once (only an ``https://sns.<region>.amazonaws.com``
URL, as for CloudWatch); an unsubscribe confirmation is acknowledged and ignored.

Events: ``Delivery`` → delivered; a permanent ``Bounce``, ``Reject`` and ``Rendering Failure``
→ failed for good (timeline line; a page falls back to the next channel tier, ``receipts``).
``Send``, ``DeliveryDelay``, transient bounces, complaints, opens and clicks change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import httpx2
import structlog

from backend.core.errors import (
    ErrorCode,
    ExternalServiceError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from backend.core.settings import get_settings
from backend.ingest.parsers.cloudwatch import SUBSCRIBE_URL
from backend.ingest.sns_check import verify_if_enabled
from backend.ingest.sns_signature import SnsSignatureError
from backend.notifications import receipts
from backend.notifications.models import ChannelKind, NotificationStatus
from backend.notifications.providers.ses_email import NOTIFICATION_TAG

log = structlog.get_logger(__name__)
CONFIRM_TIMEOUT_SECONDS = 10.0
_EMAIL = frozenset({ChannelKind.EMAIL})
_FAILED = frozenset({"reject", "rendering failure"})


class SesEventOutcome(StrEnum):
    SUBSCRIBED = "subscribed"
    DELIVERED = "delivered"
    FAILED = "failed"
    IGNORED = "ignored"


def _confirm(url: str) -> int:
    """GET the subscription's confirmation URL; its HTTP status."""
    with httpx2.Client(timeout=CONFIRM_TIMEOUT_SECONDS) as client:
        return client.get(url).status_code


# Swapped by tests for a recorder: the real URL is always Amazon's.
confirm_subscription: Callable[[str], int] = _confirm


def handle(body: bytes) -> SesEventOutcome:
    """Act on one SNS delivery to the SES events endpoint. Idempotent (a repeated event finds
    the notification already finished).

    Raises:
        NotFound: receipts are not configured (no topic ARN).
        ValidationFailed: not an SNS message (422).
        PermissionDenied: the signature does not verify, or another topic sent it (403,
            code ``invalid_signature``); nothing changed.
        ExternalServiceError: the subscription could not be confirmed (SNS retries).
    """
    topic = get_settings().notifications.ses_events_topic_arn
    if not topic:
        raise NotFound("SES delivery receipts are not configured on this server.")
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if not isinstance(message, dict) or not isinstance(message.get("Type"), str):
        raise ValidationFailed.field("Type", "an Amazon SNS message (JSON) is expected")
    try:
        verify_if_enabled(message)
    except SnsSignatureError as exc:
        raise PermissionDenied(str(exc), code=ErrorCode.INVALID_SIGNATURE) from exc
    if message.get("TopicArn") != topic:
        raise PermissionDenied(
            "This message comes from another SNS topic than the configured SES events topic.",
            code=ErrorCode.INVALID_SIGNATURE,
        )
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        return _subscribe(message)
    if kind != "Notification":
        return SesEventOutcome.IGNORED  # UnsubscribeConfirmation
    return _apply(message.get("Message"))


def _subscribe(message: dict[str, Any]) -> SesEventOutcome:
    url = message.get("SubscribeURL")
    if not isinstance(url, str) or not SUBSCRIBE_URL.match(url):
        raise ValidationFailed.field(
            "SubscribeURL", "required: an https://sns.<region>.amazonaws.com URL"
        )
    try:
        status = confirm_subscription(url)
    except httpx2.HTTPError as exc:
        raise ExternalServiceError(f"Confirming the subscription failed: {exc}") from exc
    if status != 200:
        raise ExternalServiceError(f"Confirming the subscription failed: HTTP {status}.")
    log.info("ses_events_subscribed", topic=message.get("TopicArn"))
    return SesEventOutcome.SUBSCRIBED


def _notification_id(event: dict[str, Any]) -> int | None:
    mail = event.get("mail")
    tags = mail.get("tags") if isinstance(mail, dict) else None
    values = tags.get(NOTIFICATION_TAG) if isinstance(tags, dict) else None
    value = values[0] if isinstance(values, list) and values else None
    return int(value) if isinstance(value, str) and value.isdigit() else None


def kind_of(event: dict[str, Any]) -> str:
    """The event's type, lower case: ``eventType`` (configuration-set events) or
    ``notificationType`` (an identity's feedback notifications)."""
    return str(event.get("eventType") or event.get("notificationType") or "").strip().lower()


def verdict(event: dict[str, Any]) -> tuple[NotificationStatus, str] | None:
    """(final status, detail) for an SES event, or None when it changes nothing."""
    lowered = kind_of(event)
    if lowered == "delivery":
        delivery = event.get("delivery")
        smtp = delivery.get("smtpResponse") if isinstance(delivery, dict) else None
        detail = f"SES delivered ({smtp})" if smtp else "SES delivered"
        return NotificationStatus.DELIVERED, detail[:200]
    if lowered == "bounce":
        bounce = event.get("bounce")
        if not isinstance(bounce, dict) or bounce.get("bounceType") != "Permanent":
            return None  # transient or undetermined: SES keeps trying
        sub = str(bounce.get("bounceSubType", ""))
        return NotificationStatus.FAILED, f"SES permanent bounce ({sub})"[:200]
    if lowered in _FAILED:
        return NotificationStatus.FAILED, f"SES {lowered}"
    return None


def _apply(raw: Any) -> SesEventOutcome:
    try:
        event = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ValidationFailed.field("Message", "an SES event (JSON) is expected")
    notification_id = _notification_id(event)
    found = verdict(event)
    if notification_id is None or found is None:
        return SesEventOutcome.IGNORED
    target, detail = found
    outcome = receipts.finish(
        notification_id, target, detail, receipt=kind_of(event), channels=_EMAIL
    )
    return {
        receipts.ReceiptOutcome.DELIVERED: SesEventOutcome.DELIVERED,
        receipts.ReceiptOutcome.FAILED: SesEventOutcome.FAILED,
    }.get(outcome, SesEventOutcome.IGNORED)
