"""Prometheus Alertmanager webhook (``version: "4"``): a group becomes one alert per alert.

Each alert is keyed by its ``fingerprint`` (a hash of its labels, stable across firing and
resolved), so a resolved notification resolves the same alert it fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.ingest.normalise import (
    EventAction,
    NormalisedAlert,
    ParseContext,
    ParsedDelivery,
    build_alert,
    digest,
    first_timestamp,
    labels_from,
    links_from,
    pick,
)
from backend.ingest.parsers.common import require_list, require_object


def alert_from(
    item: Mapping[str, Any], group: Mapping[str, Any], ctx: ParseContext
) -> NormalisedAlert:
    """One Alertmanager-shaped alert (Grafana's webhook uses the same shape)."""
    labels = labels_from(item.get("labels") or {})
    annotations = item.get("annotations") if isinstance(item.get("annotations"), Mapping) else {}
    assert isinstance(annotations, Mapping)
    resolved = str(item.get("status") or group.get("status") or "").lower() == "resolved"
    action = EventAction.RESOLVE if resolved else EventAction.TRIGGER
    title = pick(annotations, "summary", "title") or labels.get("alertname") or "Alertmanager alert"
    links = links_from(
        [
            {"href": item.get("generatorURL"), "text": "Source"},
            {"href": annotations.get("runbook_url"), "text": "Runbook"},
        ]
    )
    times = [item.get("endsAt"), item.get("startsAt")] if resolved else [item.get("startsAt")]
    return build_alert(
        title=title,
        action=action,
        severity=labels.get("severity") or labels.get("priority"),
        description=pick(annotations, "description", "message") or "",
        source=labels.get("instance") or labels.get("job") or group.get("receiver"),
        # Old Alertmanagers sent no fingerprint: the labels identify the alert just as well.
        dedup_key=item.get("fingerprint") or digest(labels)[:16],
        labels=labels,
        links=links,
        occurred_at=first_timestamp(times, received_at=ctx.received_at),
        raw=item,
    )


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse an Alertmanager notification.

    Raises:
        ValidationFailed: not an object, or ``alerts`` missing/empty/not objects.
    """
    data = require_object(body)
    items = require_list(data, "alerts")
    return ParsedDelivery(alerts=[alert_from(item, data, ctx) for item in items])
