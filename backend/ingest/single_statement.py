"""The PostgreSQL hot path (ADR 0010): a delivery of one firing alert stored by ONE statement.

``oncall_ingest_trigger`` (migration 0009) does in the database what ``persist.store_delivery``
does from Python — delivery log row, idempotency claim, grouping, the alert, the timeline lines
and the escalation start — as a single statement, committed before this returns: one round
trip instead of about fifteen, and no ORM. The statements of alerts arriving at the same moment
share one transaction and one round trip (group commit, ADR 0014); alone, an alert's is a
transaction of its own. Routing
and maintenance windows are decided here first, from the same per-process caches as the Python
path. After commit the same things happen as there: the escalation step is enqueued, then the
domain events are published.

Everything else (SQLite, resolves, acknowledges, several alerts per delivery, SNS
confirmations, ignored events) goes through ``persist.store_delivery``; the behavioural tests
run over both paths (tests/integration/test_ingest_pg.py).
"""

from __future__ import annotations

import json

from backend.core import clock
from backend.core.db import get_engine, is_sqlite
from backend.core.group_commit import call_grouped
from backend.escalation.engine import new_token, send
from backend.ingest import grouping, persist
from backend.ingest.models import DeliveryOutcome
from backend.ingest.normalise import DeliveryKind, EventAction
from backend.ingest.schemas import AlertOutcome, IngestResult

# 25 placeholders, no user text in the SQL itself.
_SQL = "SELECT * FROM oncall_ingest_trigger(" + ", ".join(["%s"] * 25) + ")"  # noqa: S608


def applies(d: persist.DeliveryInput) -> bool:
    """Whether ``d`` takes the one-statement path: PostgreSQL, and one firing alert."""
    parsed = d.parsed
    return (
        parsed.kind is DeliveryKind.ALERTS
        and len(parsed.alerts) == 1
        and parsed.alerts[0].action is EventAction.TRIGGER
        and not is_sqlite(get_engine())
    )


def store(d: persist.DeliveryInput) -> IngestResult:
    """Persist ``d`` (see :func:`applies`) in one statement; announce after commit.

    Raises:
        ServiceUnavailable: the database is down (nothing was stored).
    """
    alert = d.parsed.alerts[0]
    service_id = persist.route_of(None, d, alert)
    maintenance = persist.in_maintenance(None, service_id, d.received_at)
    label = f"integration:{d.integration.name}"
    # Sent together with the other alerts arriving at the same moment (group_commit.py).
    rows = call_grouped(
        _SQL,
        (
            d.integration.id,
            d.received_at,
            clock.now(),
            json.dumps(d.headers),
            d.remote_ip,
            d.idempotency_key,
            d.fingerprint,
            d.body,
            d.body_truncated,
            persist.claim_key(d),
            persist.claim_expires(d),
            service_id,
            maintenance,
            d.integration.dedup_window_seconds,
            label,
            new_token(),
            alert.severity.value,
            alert.dedup_key,
            alert.title,
            alert.description,
            alert.source,
            json.dumps(alert.labels),
            json.dumps(alert.links),
            json.dumps(alert.raw),
            clock.as_utc(alert.occurred_at or d.received_at),
        ),
    )
    delivery_id, prior_id = int(rows[0][0]), rows[0][1]
    if prior_id is not None:
        note = f"repeat of delivery {prior_id}"
        repeated = [
            AlertOutcome(id=row[2], outcome="repeated", incident_id=row[4], dedup_key=row[5])
            for row in rows
            if row[2] is not None
        ]
        return IngestResult(
            delivery_id=delivery_id, outcome=DeliveryOutcome.DUPLICATE, alerts=repeated, note=note
        )
    _, _, alert_id, outcome, incident_id, dedup_key, token = rows[0]
    ctx = grouping.GroupingContext(
        service_id=service_id,
        received_at=d.received_at,
        window_seconds=d.integration.dedup_window_seconds,
        auto_resolve=d.integration.auto_resolve,
        in_maintenance=maintenance,
        integration_id=d.integration.id,
        delivery_id=delivery_id,
        opened=[incident_id] if outcome == "new" else [],
    )
    outcomes = [
        AlertOutcome(id=alert_id, outcome=outcome, incident_id=incident_id, dedup_key=dedup_key)
    ]
    # The same order as the unit of work's after-commit hooks: the step, then the events.
    if token is not None:
        send(incident_id, token, 0)
    persist.publish(persist.delivery_events(d, delivery_id, outcomes, [ctx]))
    return IngestResult(delivery_id=delivery_id, outcome=DeliveryOutcome.ACCEPTED, alerts=outcomes)
