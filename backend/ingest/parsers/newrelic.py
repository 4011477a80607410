"""New Relic workflows webhook (the default issue payload template).

An issue is one alert keyed by its issue ``id``. ``state`` ACTIVATED/CREATED fire it,
ACKNOWLEDGED acknowledges, CLOSED resolves. New Relic sends no delivery id, so
``id:state:updatedAt`` stands in for one (a retry repeats all three).
"""

from __future__ import annotations

from typing import Any

from backend.ingest.normalise import (
    DeliveryKind,
    EventAction,
    ParseContext,
    ParsedDelivery,
    build_alert,
    first_timestamp,
    links_from,
    pick,
    storable,
    text,
)
from backend.ingest.parsers.common import invalid, require_object

_STATES = {
    "activated": EventAction.TRIGGER,
    "created": EventAction.TRIGGER,
    "acknowledged": EventAction.ACKNOWLEDGE,
    "closed": EventAction.RESOLVE,
}


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return storable(", ".join(str(v) for v in value if isinstance(v, str | int)))[:500]
    return text(value, 500)


def _title(value: Any) -> str:
    return text(value[0] if isinstance(value, list) and value else value, 10_000)


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse a New Relic workflow notification.

    Raises:
        ValidationFailed: not an object, no issue ``id`` or no ``title``.
    """
    data = require_object(body)
    issue_id = text(pick(data, "id", "issueId"), 200)
    title = _title(pick(data, "title", "issueTitle"))
    errors = []
    if not issue_id:
        errors.append((("id",), "required: the issue id ({{json issueId}})"))
    if not title:
        errors.append((("title",), "required: the issue title"))
    if errors:
        raise invalid(*errors)
    state = text(pick(data, "state"), 40).lower()
    action = _STATES.get(state)
    delivery_id = f"{issue_id}:{state}:{text(pick(data, 'updatedAt'), 40)}"
    if action is None:
        return ParsedDelivery(
            kind=DeliveryKind.IGNORED, delivery_id=delivery_id, note=f"state {state!r}"
        )
    labels = {
        name: joined
        for name, value in (
            ("policy", pick(data, "alertPolicyNames")),
            ("condition", pick(data, "alertConditionNames")),
            ("entities", pick(data, "impactedEntities")),
            ("workflow", pick(data, "workflowName")),
        )
        if (joined := _joined(value))
    }
    alert = build_alert(
        title=title,
        action=action,
        severity=pick(data, "priority"),
        description=text(pick(data, "description", "conditionDescription"), 20_000),
        source=_joined(pick(data, "sources")) or "newrelic",
        dedup_key=issue_id,
        labels=labels,
        links=links_from([{"href": pick(data, "issueUrl", "issuePageUrl"), "text": "Issue"}]),
        occurred_at=first_timestamp(
            [pick(data, "updatedAt"), pick(data, "createdAt")], received_at=ctx.received_at
        ),
        raw=data,
    )
    return ParsedDelivery(alerts=[alert], delivery_id=delivery_id)
