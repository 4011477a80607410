"""Storing alerts and grouping them into incidents, inside the caller's transaction.

Correct under concurrency on both engines without ``SELECT … FOR UPDATE``:

* Opening: ``INSERT … ON CONFLICT DO NOTHING`` against the unique partial index on the active
  (service, dedup key); a loser re-selects the winner's incident.
* Joining: the alert is inserted first, then the incident's advisory lock is taken *shared*
  (held until commit; joiners do not wait for each other) and the incident checked active; if
  it was resolved in between, the alert is moved to a fresh incident. The incident row is not
  written (its alert count and last alert time are derived from its alerts, ADR 0011) unless
  the alert raises its severity.
* Auto-resolving (and any resolve, backend/incidents/service.py): the advisory lock is taken
  *exclusively* before counting the firing alerts, so on PostgreSQL it waits for the joiners in
  flight and the count sees every alert they attached; joiners after it see it resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, select, text, update
from sqlmodel import Session

from backend.core.db import advisory_lock, insert_ignoring_conflict
from backend.incidents.models import (
    ACTIVE_PREDICATE,
    ACTIVE_STATUSES,
    INCIDENT_LOCK_NAMESPACE,
    SEVERITY_RANK,
    Incident,
    IncidentStatus,
)
from backend.ingest.models import Alert, AlertKind, AlertStatus
from backend.ingest.normalise import NormalisedAlert
from backend.ingest.schemas import AlertOutcome

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_ALERT = Alert.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_ACTIVE = [s.value for s in ACTIVE_STATUSES]
_MAX_ATTEMPTS = 5


@dataclass
class GroupingContext:
    """Where and when alerts are grouped; collects what to announce after commit."""

    service_id: int
    received_at: datetime
    window_seconds: int
    auto_resolve: bool
    in_maintenance: bool = False
    integration_id: int | None = None
    delivery_id: int | None = None
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def _insert_alert(
    session: Session, ctx: GroupingContext, alert: NormalisedAlert, **values: Any
) -> int:
    row = {
        "integration_id": ctx.integration_id,
        "delivery_id": ctx.delivery_id,
        "service_id": ctx.service_id,
        "severity": alert.severity,
        "dedup_key": alert.dedup_key,
        "title": alert.title,
        "description": alert.description,
        "source": alert.source,
        "labels": alert.labels,
        "links": alert.links,
        "raw": alert.raw,
        "occurred_at": alert.occurred_at or ctx.received_at,
        "received_at": ctx.received_at,
        **values,
    }
    return int(session.execute(insert(_ALERT).values(**row).returning(_ALERT.c.id)).scalar_one())


def _active_incident(session: Session, ctx: GroupingContext, key: str) -> tuple[int, str] | None:
    stmt = select(_INCIDENT.c.id, _INCIDENT.c.severity).where(
        _INCIDENT.c.service_id == ctx.service_id,
        _INCIDENT.c.dedup_key == key,
        _INCIDENT.c.status.in_(_ACTIVE),
    )
    row = session.execute(stmt).first()
    return None if row is None else (int(row[0]), str(row[1]))


def _newer_resolve_exists(session: Session, ctx: GroupingContext, alert: NormalisedAlert) -> bool:
    """A resolve for this key, received within the window, is newer than this firing event."""
    since = ctx.received_at - timedelta(seconds=ctx.window_seconds)
    stmt = select(_ALERT.c.id).where(
        _ALERT.c.service_id == ctx.service_id,
        _ALERT.c.dedup_key == alert.dedup_key,
        _ALERT.c.status == AlertStatus.RESOLVED.value,
        _ALERT.c.kind == AlertKind.RESOLVE.value,
        _ALERT.c.received_at >= since,
        _ALERT.c.occurred_at >= (alert.occurred_at or ctx.received_at),
    )
    return session.execute(stmt.limit(1)).first() is not None


def _open_incident(session: Session, ctx: GroupingContext, alert: NormalisedAlert) -> int | None:
    row = insert_ignoring_conflict(
        session,
        _INCIDENT,
        {
            "title": alert.title,
            "severity": alert.severity,
            "status": IncidentStatus.OPEN,
            "service_id": ctx.service_id,
            "dedup_key": alert.dedup_key,
            "in_maintenance": ctx.in_maintenance,
            "opened_at": ctx.received_at,
        },
        index_elements=["service_id", "dedup_key"],
        index_where=text(ACTIVE_PREDICATE),
        returning=["id"],
    )
    return None if row is None else int(row[0])


def _join(
    session: Session, ctx: GroupingContext, incident_id: int, severity: str, alert: NormalisedAlert
) -> bool:
    """Whether the incident the alert was just attached to is still active (False: resolved
    meanwhile). Under the shared incident lock (ADR 0011): joiners do not wait for each other,
    only for a resolve in flight. The row is written only to raise the severity."""
    advisory_lock(session, INCIDENT_LOCK_NAMESPACE, incident_id, shared=True)
    active = and_(_INCIDENT.c.id == incident_id, _INCIDENT.c.status.in_(_ACTIVE))
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK.get(severity, 0):  # type: ignore[call-overload]  # str keys of a StrEnum map
        raised = update(_INCIDENT).where(active).values(severity=alert.severity)
        return bool(session.execute(raised).rowcount)  # type: ignore[attr-defined]  # CursorResult
    return session.execute(select(_INCIDENT.c.id).where(active)).first() is not None


def trigger(session: Session, ctx: GroupingContext, alert: NormalisedAlert) -> AlertOutcome:
    """Store a firing alert and group it: join the active incident or open one."""
    alert_id: int | None = None
    for _ in range(_MAX_ATTEMPTS):
        active = _active_incident(session, ctx, alert.dedup_key)
        if active is not None:
            incident_id, severity = active
            if alert_id is None:
                alert_id = _insert_alert(
                    session, ctx, alert, kind=AlertKind.TRIGGER, status=AlertStatus.FIRING,
                    incident_id=incident_id,
                )  # fmt: skip
            else:
                _move_alert(session, alert_id, incident_id)
            if _join(session, ctx, incident_id, severity, alert):
                return AlertOutcome(
                    id=alert_id,
                    outcome="grouped",
                    incident_id=incident_id,
                    dedup_key=alert.dedup_key,
                )
            continue
        if alert_id is None and _newer_resolve_exists(session, ctx, alert):
            stale_id = _insert_alert(
                session, ctx, alert, kind=AlertKind.TRIGGER, status=AlertStatus.RESOLVED,
                resolved_at=ctx.received_at,
            )  # fmt: skip
            return AlertOutcome(
                id=stale_id, outcome="stale", incident_id=None, dedup_key=alert.dedup_key
            )
        incident_id_new = _open_incident(session, ctx, alert)
        if incident_id_new is None:
            continue  # another transaction opened it first: join theirs
        ctx.opened.append(incident_id_new)
        if alert_id is None:
            alert_id = _insert_alert(
                session, ctx, alert, kind=AlertKind.TRIGGER, status=AlertStatus.FIRING,
                incident_id=incident_id_new,
            )  # fmt: skip
        else:
            _move_alert(session, alert_id, incident_id_new)
        return AlertOutcome(
            id=alert_id, outcome="new", incident_id=incident_id_new, dedup_key=alert.dedup_key
        )
    msg = "incident grouping did not settle; the transaction is retried by the sender"
    raise RuntimeError(msg)


def _move_alert(session: Session, alert_id: int, incident_id: int) -> None:
    session.execute(update(_ALERT).where(_ALERT.c.id == alert_id).values(incident_id=incident_id))


def resolve(session: Session, ctx: GroupingContext, alert: NormalisedAlert) -> AlertOutcome:
    """Store a resolve event, resolve the firing alerts it covers, and auto-resolve incidents
    left without firing alerts (when the integration allows)."""
    resolved_at = alert.occurred_at or ctx.received_at
    stmt = (
        update(_ALERT)
        .where(
            _ALERT.c.service_id == ctx.service_id,
            _ALERT.c.dedup_key == alert.dedup_key,
            _ALERT.c.status == AlertStatus.FIRING.value,
            _ALERT.c.occurred_at <= resolved_at,
        )
        .values(status=AlertStatus.RESOLVED, resolved_at=ctx.received_at)
        .returning(_ALERT.c.incident_id)
    )
    incident_ids = sorted({int(r[0]) for r in session.execute(stmt) if r[0] is not None})
    active = _active_incident(session, ctx, alert.dedup_key)
    incident_id = incident_ids[-1] if incident_ids else (active[0] if active else None)
    alert_id = _insert_alert(
        session, ctx, alert, kind=AlertKind.RESOLVE, status=AlertStatus.RESOLVED,
        resolved_at=ctx.received_at, incident_id=incident_id,
    )  # fmt: skip
    if ctx.auto_resolve:
        for candidate in incident_ids:
            if _resolve_if_quiet(session, ctx, candidate):
                ctx.resolved.append(candidate)
    return AlertOutcome(
        id=alert_id, outcome="resolved", incident_id=incident_id, dedup_key=alert.dedup_key
    )


def _resolve_if_quiet(session: Session, ctx: GroupingContext, incident_id: int) -> bool:
    # Joiners in flight first (they hold the incident lock shared until they commit), so the
    # count below sees every firing alert attached so far; later joiners see it resolved.
    advisory_lock(session, INCIDENT_LOCK_NAMESPACE, incident_id, shared=False)
    lock = (
        update(_INCIDENT)
        .where(_INCIDENT.c.id == incident_id, _INCIDENT.c.status.in_(_ACTIVE))
        .values(status=_INCIDENT.c.status)
    )
    if not session.execute(lock).rowcount:  # type: ignore[attr-defined]  # CursorResult
        return False
    firing = session.execute(
        select(func.count())
        .select_from(_ALERT)
        .where(_ALERT.c.incident_id == incident_id, _ALERT.c.status == AlertStatus.FIRING.value)
    ).scalar_one()
    if firing:
        return False
    session.execute(
        update(_INCIDENT)
        .where(_INCIDENT.c.id == incident_id)
        .values(status=IncidentStatus.RESOLVED, resolved_at=ctx.received_at)
    )
    return True


def acknowledge(session: Session, ctx: GroupingContext, alert: NormalisedAlert) -> AlertOutcome:
    """Acknowledge the active incident with this key (PagerDuty/New Relic acknowledge)."""
    stmt = (
        update(_INCIDENT)
        .where(
            _INCIDENT.c.service_id == ctx.service_id,
            _INCIDENT.c.dedup_key == alert.dedup_key,
            _INCIDENT.c.status == IncidentStatus.OPEN.value,
        )
        .values(status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=ctx.received_at)
        .returning(_INCIDENT.c.id)
    )
    row = session.execute(stmt).first()
    if row is None:
        active = _active_incident(session, ctx, alert.dedup_key)
        incident_id = active[0] if active else None
    else:
        incident_id = int(row[0])
    return AlertOutcome(
        id=None, outcome="acknowledged", incident_id=incident_id, dedup_key=alert.dedup_key
    )
