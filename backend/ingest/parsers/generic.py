"""Our own generic webhook: ``{"title": …, "severity": …, …}``; unknown fields are kept.

Strict on what we need (``title``, a known ``status``, object ``labels``), lenient on the rest:
aliases in snake/camel case (``dedupKey``, ``message``/``body`` → description) are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.ingest.normalise import (
    EventAction,
    ParseContext,
    ParsedDelivery,
    build_alert,
    first_timestamp,
    labels_from,
    links_from,
    pick,
    text,
)
from backend.ingest.parsers.common import invalid, require_object

_STATUS = {"firing": EventAction.TRIGGER, "resolved": EventAction.RESOLVE}


def _status(data: Mapping[str, Any]) -> EventAction:
    value = pick(data, "status", "state")
    if value is None:
        return EventAction.TRIGGER
    action = _STATUS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if action is None:
        raise invalid((("status",), "must be 'firing' or 'resolved'"))
    return action


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse one generic alert.

    Raises:
        ValidationFailed: no title, a status other than firing/resolved, labels not an object.
    """
    data = require_object(body)
    title = text(pick(data, "title", "summary", "subject", "name"), 10_000)
    if not title:
        raise invalid((("title",), "required: a non-empty string"))
    raw_labels = pick(data, "labels", "tags")
    if raw_labels is not None and not isinstance(raw_labels, Mapping):
        raise invalid((("labels",), "must be an object of string values"))
    description = pick(data, "description", "message", "body", "details", "text")
    alert = build_alert(
        title=title,
        action=_status(data),
        severity=pick(data, "severity", "priority", "level"),
        description=description if isinstance(description, str) else "",
        source=pick(data, "source", "host", "hostname"),
        dedup_key=pick(data, "dedup_key", "deduplication_key", "incident_key", "alias"),
        labels=labels_from(raw_labels),
        links=links_from(pick(data, "links", "link", "url") or []),
        occurred_at=first_timestamp(
            [
                pick(data, "timestamp", "occurred_at", "time", "created_at", "date"),
                ctx.header_time and ctx.header_time.isoformat(),
            ],
            received_at=ctx.received_at,
        ),
        raw=data,
    )
    return ParsedDelivery(alerts=[alert])
