"""What ingestion tells the incidents area, inside ingestion's own transaction.

Alert grouping (``backend/ingest/grouping.py``) opens, joins, acknowledges and resolves
incidents with single SQL statements, for correctness under storms. This hook then does the
incident side in the same transaction: timeline lines, starting the escalation of each new
incident (its step is enqueued after commit), and clearing the escalation token of incidents
an integration acknowledged or resolved (their Slack pages are refreshed after commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from backend.core.db import UnitOfWork
from backend.core.events import DomainEvent, get_bus
from backend.escalation import engine
from backend.incidents import timeline
from backend.incidents.chat_refresh import refresh_chat_pages
from backend.incidents.models import Incident, IncidentEventKind, IncidentStatus

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime


@dataclass
class GroupingChanges:
    source_label: str  # "integration:Grafana", "heartbeat"
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    alerts: list[tuple[int, int]] = field(default_factory=list)  # (alert id, incident id)


def after_grouping(uow: UnitOfWork, changes: GroupingChanges) -> None:
    """Record and escalate what grouping just did (call before the transaction commits)."""
    session, label = uow.session, changes.source_label
    opened = set(changes.opened)
    for incident_id in changes.opened:
        timeline.record(
            session,
            incident_id,
            IncidentEventKind.OPENED,
            f"Opened by {label}.",
            actor_label=label,
        )
    for alert_id, incident_id in changes.alerts:
        verb = "Opening alert" if incident_id in opened else "Alert grouped"
        timeline.record(
            session,
            incident_id,
            IncidentEventKind.ALERT,
            f"{verb} from {label}.",
            actor_label=label,
            data={"alert_id": alert_id},
        )
    for incident_id in changes.opened:
        engine.start(uow, incident_id, actor_label=label)
    for incident_id in dict.fromkeys(changes.acknowledged):
        _acknowledged(uow, incident_id, label)
    for incident_id in dict.fromkeys(changes.resolved):
        engine.stop(session, incident_id)
        refresh_chat_pages(uow, incident_id)
        timeline.record(
            session,
            incident_id,
            IncidentEventKind.RESOLVED,
            f"Resolved: every alert resolved ({label}).",
            actor_label=label,
        )
        session.execute(
            update(_INCIDENT)
            .where(_INCIDENT.c.id == incident_id, _INCIDENT.c.resolved_by == "")
            .values(resolved_by=label[:320])
        )


def _acknowledged(uow: UnitOfWork, incident_id: int, label: str) -> None:
    # Grouping's UPDATE moved OPEN → ACKNOWLEDGED only if it was OPEN: an empty
    # acknowledged_by tells that it happened in this transaction.
    taken = uow.session.execute(
        update(_INCIDENT)
        .where(
            _INCIDENT.c.id == incident_id,
            _INCIDENT.c.status == IncidentStatus.ACKNOWLEDGED.value,
            _INCIDENT.c.acknowledged_by == "",
        )
        .values(acknowledged_by=label[:320])
    )
    if not taken.rowcount:  # type: ignore[attr-defined]  # CursorResult
        return
    engine.stop(uow.session, incident_id)
    refresh_chat_pages(uow, incident_id)
    timeline.record(
        uow.session,
        incident_id,
        IncidentEventKind.ACKNOWLEDGED,
        f"Acknowledged by {label}.",
        actor_label=label,
    )
    event = DomainEvent(
        name="incidents.incident.acknowledged",
        payload={"incident_id": incident_id, "status": IncidentStatus.ACKNOWLEDGED.value},
        topics=("incidents", f"incident:{incident_id}"),
        actor_label=label,
    )
    uow.after_commit(lambda: get_bus().publish(event))
