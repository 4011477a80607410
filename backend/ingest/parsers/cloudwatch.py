"""AWS CloudWatch alarms delivered by an SNS HTTPS subscription.

The body is an SNS envelope (sent as ``text/plain``). ``SubscriptionConfirmation`` carries the
URL that confirms the subscription (confirmed by a job after commit); ``Notification`` carries
the alarm as a JSON string in ``Message``. ALARM fires, OK resolves, INSUFFICIENT_DATA is
ignored. The alarm ARN is the dedup key; the SNS ``MessageId`` (kept across SNS retries) is
the delivery id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend.ingest.normalise import (
    DeliveryKind,
    EventAction,
    NormalisedAlert,
    ParseContext,
    ParsedDelivery,
    build_alert,
    first_timestamp,
    links_from,
    text,
)
from backend.ingest.parsers.common import invalid, is_shallow, loads, require_object

# Only AWS's own SNS endpoints may be fetched to confirm a subscription.
SUBSCRIBE_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\?", re.ASCII)
_STATES = {"alarm": EventAction.TRIGGER, "ok": EventAction.RESOLVE}


def _alarm(
    alarm: Mapping[str, Any], envelope: Mapping[str, Any], ctx: ParseContext
) -> NormalisedAlert:
    state = str(alarm.get("NewStateValue") or "").lower()
    region = text(alarm.get("Region"), 100)
    name = text(alarm.get("AlarmName"), 400)
    trigger = alarm.get("Trigger") if isinstance(alarm.get("Trigger"), Mapping) else {}
    assert isinstance(trigger, Mapping)
    labels = {
        key: value
        for key, value in (
            ("account", text(alarm.get("AWSAccountId"), 40)),
            ("region", region),
            ("namespace", text(trigger.get("Namespace"), 200)),
            ("metric", text(trigger.get("MetricName"), 200)),
            ("previous_state", text(alarm.get("OldStateValue"), 40)),
        )
        if value
    }
    reason = text(alarm.get("NewStateReason"), 5000)
    description = "\n\n".join(p for p in (text(alarm.get("AlarmDescription"), 5000), reason) if p)
    arn = text(alarm.get("AlarmArn"), 255)
    return build_alert(
        title=f"{name}: {state.upper()}" if name else text(envelope.get("Subject"), 500),
        action=_STATES.get(state, EventAction.TRIGGER),
        severity=None,
        description=description,
        source=f"cloudwatch:{region}" if region else "cloudwatch",
        dedup_key=arn or f"{labels.get('account', '')}:{region}:{name}",
        labels=labels,
        links=links_from([]),
        occurred_at=first_timestamp(
            [alarm.get("StateChangeTime"), envelope.get("Timestamp")], received_at=ctx.received_at
        ),
        raw=alarm,
    )


def _notification(envelope: Mapping[str, Any], ctx: ParseContext) -> ParsedDelivery:
    message = envelope.get("Message")
    delivery_id = text(envelope.get("MessageId"), 200) or None
    try:
        alarm = loads(message) if isinstance(message, str) else None
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's limit
        alarm = None
    if not is_shallow(alarm):
        alarm = None  # kept as the plain message text below, never dropped
    if isinstance(alarm, Mapping) and "AlarmName" in alarm:
        if str(alarm.get("NewStateValue") or "").lower() not in _STATES:
            state = text(alarm.get("NewStateValue"), 40)
            return ParsedDelivery(
                kind=DeliveryKind.IGNORED, delivery_id=delivery_id, note=f"alarm state {state!r}"
            )
        return ParsedDelivery(alerts=[_alarm(alarm, envelope, ctx)], delivery_id=delivery_id)
    # A plain SNS message published by something else: still an alert, never dropped.
    subject = text(envelope.get("Subject"), 500)
    body = message if isinstance(message, str) else ""
    alert = build_alert(
        title=subject or (body.splitlines()[0] if body else "SNS notification"),
        action=EventAction.TRIGGER,
        severity=None,
        description=body,
        source=text(envelope.get("TopicArn"), 255) or "sns",
        dedup_key=None,
        labels={},
        links=[],
        occurred_at=first_timestamp([envelope.get("Timestamp")], received_at=ctx.received_at),
        raw=dict(envelope),
    )
    return ParsedDelivery(alerts=[alert], delivery_id=delivery_id)


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse an SNS message carrying a CloudWatch alarm (or a subscription handshake).

    Raises:
        ValidationFailed: not an SNS envelope, or a confirmation without an AWS SubscribeURL.
    """
    envelope = require_object(body)
    kind = envelope.get("Type")
    if kind == "Notification":
        return _notification(envelope, ctx)
    delivery_id = text(envelope.get("MessageId"), 200) or None
    if kind == "SubscriptionConfirmation":
        url = envelope.get("SubscribeURL")
        if not isinstance(url, str) or not SUBSCRIBE_URL.match(url):
            raise invalid(
                (("SubscribeURL",), "required: an https://sns.<region>.amazonaws.com URL")
            )
        return ParsedDelivery(
            kind=DeliveryKind.SUBSCRIPTION_CONFIRMATION,
            delivery_id=delivery_id,
            subscribe_url=url,
            note=text(envelope.get("TopicArn"), 255),
        )
    if kind == "UnsubscribeConfirmation":
        return ParsedDelivery(
            kind=DeliveryKind.IGNORED, delivery_id=delivery_id, note="unsubscribe"
        )
    raise invalid(
        (("Type",), "must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation")
    )
