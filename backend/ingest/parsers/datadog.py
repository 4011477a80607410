"""Datadog Webhooks integration: the default payload or our recommended template.

``alert_transition`` (``Triggered``, ``Recovered``, …) says firing or resolved; without it the
``[Recovered]`` title prefix does. ``alert_cycle_key`` ties a trigger to its recovery, so it is
the dedup key when present; ``id`` (the event id) is the delivery id.
"""

from __future__ import annotations

import re
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

_PREFIX = re.compile(r"^\s*\[(?P<word>[^\]]+)\]\s*")


def _unset(value: Any) -> Any:
    # Datadog leaves "$VARIABLE" in place when a template variable has no value.
    return None if isinstance(value, str) and value.startswith("$") else value


def _split_title(title: str) -> tuple[str, str]:
    """``"[Recovered] CPU high"`` → ``("recovered", "CPU high")``; P-prefixes are skipped."""
    transition = ""
    while match := _PREFIX.match(title):
        word = match.group("word").strip().lower()
        if not re.fullmatch(r"p\d", word):
            transition = transition or word
        title = title[match.end() :]
    return transition, title.strip()


def parse(body: Any, ctx: ParseContext) -> ParsedDelivery:
    """Parse a Datadog webhook.

    Raises:
        ValidationFailed: not an object, or no title.
    """
    data = {k: _unset(v) for k, v in require_object(body).items()}
    raw_title = text(pick(data, "title", "event_title", "alert_title"), 10_000)
    if not raw_title:
        raise invalid((("title",), "required: the $EVENT_TITLE variable"))
    title_transition, title = _split_title(raw_title)
    transition = str(pick(data, "alert_transition") or title_transition).lower()
    action = EventAction.RESOLVE if transition.startswith("recovered") else EventAction.TRIGGER
    labels = labels_from(pick(data, "tags") or [])
    scope = text(pick(data, "alert_scope"), 500)
    if scope:
        labels.setdefault("scope", scope)
    alert_id = text(pick(data, "alert_id"), 100)
    alert = build_alert(
        title=title or raw_title,
        action=action,
        severity=pick(data, "alert_priority", "priority") or pick(data, "alert_type"),
        description=pick(data, "body", "text_only_msg", "event_msg") or "",
        source=pick(data, "hostname", "host") or "datadog",
        dedup_key=pick(data, "alert_cycle_key", "aggreg_key")
        or (alert_id and f"{alert_id}:{scope}")
        or None,
        labels=labels,
        links=links_from(pick(data, "link", "url") or []),
        occurred_at=first_timestamp(
            [pick(data, "date_posix"), pick(data, "date"), pick(data, "last_updated")],
            received_at=ctx.received_at,
        ),
        raw=body,
    )
    delivery_id = text(pick(data, "id"), 200) or None
    return ParsedDelivery(alerts=[alert], delivery_id=delivery_id)
