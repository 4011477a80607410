"""PagerDuty Events API v2 (``POST /v2/enqueue``), validated the way PagerDuty does.

``trigger`` needs ``payload.summary``, ``payload.source`` and ``payload.severity``
(critical/error/warning/info); ``acknowledge`` and ``resolve`` need ``dedup_key``. A trigger
without a ``dedup_key`` gets one made from its content, so a retried identical event keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.ingest.normalise import (
    EventAction,
    ParseContext,
    ParsedDelivery,
    build_alert,
    digest,
    first_timestamp,
    labels_from,
    links_from,
    text,
)
from backend.ingest.parsers.common import invalid, require_object

SEVERITIES = ("critical", "error", "warning", "info")
_ACTIONS = {a.value: a for a in EventAction}


def _validate(data: Mapping[str, Any]) -> tuple[EventAction, Mapping[str, Any]]:
    errors: list[tuple[tuple[str | int, ...], str]] = []
    action = _ACTIONS.get(str(data.get("event_action") or ""))
    if action is None:
        errors.append((("event_action",), "must be one of trigger, acknowledge, resolve"))
    payload = data.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    if action is EventAction.TRIGGER:
        for name in ("summary", "source"):
            if not text(payload.get(name), 1024):
                errors.append((("payload", name), "is missing or blank"))
        if payload.get("severity") not in SEVERITIES:
            errors.append((("payload", "severity"), f"must be one of {', '.join(SEVERITIES)}"))
    elif action is not None and not text(data.get("dedup_key"), 255):
        errors.append((("dedup_key",), f"is required for event_action {action.value}"))
    if errors:
        raise invalid(*errors)
    assert action is not None
    return action, payload


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse one Events API v2 event.

    Raises:
        ValidationFailed: what PagerDuty would answer 400 "invalid event" to.
    """
    data = require_object(body)
    action, payload = _validate(data)
    details = payload.get("custom_details")
    labels = labels_from(
        {k: payload.get(k) for k in ("component", "group", "class") if payload.get(k)}
    )
    if isinstance(details, Mapping):
        labels.update({k: v for k, v in labels_from(details).items() if k not in labels})
    title = text(payload.get("summary"), 1024) or f"{action.value} {data.get('dedup_key')}"
    dedup_key = (
        data.get("dedup_key") or digest({k: v for k, v in data.items() if k != "routing_key"})[:32]
    )
    alert = build_alert(
        title=title,
        action=action,
        severity=payload.get("severity"),
        description=details if isinstance(details, str) else "",
        source=payload.get("source") or data.get("client"),
        dedup_key=dedup_key,
        labels=labels,
        links=links_from(
            [
                *_list(data.get("links")),
                {"href": data.get("client_url"), "text": data.get("client")},
            ]
        ),
        occurred_at=first_timestamp([payload.get("timestamp")], received_at=ctx.received_at),
        raw={k: v for k, v in data.items() if k != "routing_key"},
    )
    return ParsedDelivery(alerts=[alert])
