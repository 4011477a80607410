"""Incident reads: the filtered, cursor-paginated list and the detail view (INC-03).

Every signed-in user may read every incident (like the service catalogue): responders of one
team often need to see what another team is fighting. Commands check who may act.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from backend.catalog.models import Service
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import ValidationFailed
from backend.escalation.policy import from_snapshot
from backend.identity.models import User
from backend.incidents import access, timeline
from backend.incidents.models import EscalationState, Incident
from backend.incidents.schemas import (
    AlertBrief,
    EscalationInfo,
    IncidentDetail,
    IncidentFilter,
    IncidentPage,
    IncidentSummary,
    ServiceLinkOut,
)
from backend.ingest.models import Alert, AlertKind
from backend.teams.models import Team

MAX_PAGE = 200
MAX_ALERTS = 100


def _names(session: Session, model: type[User] | type[Team], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(model.id, model.name).where(col(model.id).in_(ids))).all()
    return {int(i): str(n) for i, n in rows if i is not None}


def _level(incident: Incident) -> int | None:
    if incident.escalation_state is not EscalationState.ACTIVE:
        return None
    levels = len((incident.escalation_snapshot or {}).get("levels", [])) or 1
    return incident.escalation_step % levels + 1


def alert_tallies(session: Session, incident_ids: set[int]) -> dict[int, tuple[int, datetime]]:
    """For each incident: how many firing-kind alerts it has, and when the latest arrived.

    Derived on read (ADR 0011), one grouped query for a whole page: grouping never writes the
    incident row, so an alert storm's joiners do not wait for each other. Every incident has
    at least its opening alert; the caller falls back to ``opened_at`` all the same.
    """
    if not incident_ids:
        return {}
    rows = session.exec(
        select(Alert.incident_id, func.count(), func.max(Alert.received_at))
        .where(col(Alert.incident_id).in_(incident_ids), Alert.kind == AlertKind.TRIGGER)
        .group_by(col(Alert.incident_id))
    ).all()
    return {int(i): (int(n), at) for i, n, at in rows if i is not None}


def summaries(
    session: Session,
    incidents: Sequence[Incident],
    tallies: dict[int, tuple[int, datetime]] | None = None,
) -> list[IncidentSummary]:
    """List rows with service, team and assignee names and alert counts (four queries for the
    whole page; ``tallies`` when the caller has already read them)."""
    service_ids = {i.service_id for i in incidents}
    services = (
        {s.id: s for s in session.exec(select(Service).where(col(Service.id).in_(service_ids)))}
        if service_ids
        else {}
    )
    teams = _names(session, Team, {s.team_id for s in services.values() if s.team_id})
    users = _names(session, User, {i.assignee_id for i in incidents if i.assignee_id})
    if tallies is None:
        tallies = alert_tallies(session, {i.id for i in incidents if i.id is not None})
    out: list[IncidentSummary] = []
    for incident in incidents:
        service = services[incident.service_id]
        assert incident.id is not None
        out.append(
            IncidentSummary(
                id=incident.id,
                title=incident.title,
                status=incident.status,
                severity=incident.severity,
                priority=incident.priority,
                service_id=incident.service_id,
                service_name=service.name,
                team_id=service.team_id,
                team_name=teams.get(service.team_id or 0, ""),
                assignee_id=incident.assignee_id,
                assignee_name=users.get(incident.assignee_id or 0, ""),
                alert_count=tallies[incident.id][0] if incident.id in tallies else 0,
                in_maintenance=incident.in_maintenance,
                opened_at=incident.opened_at,
                acknowledged_at=incident.acknowledged_at,
                resolved_at=incident.resolved_at,
                escalation_state=incident.escalation_state,
                escalation_level=_level(incident),
                next_escalation_at=incident.next_escalation_at,
            )
        )
    return out


def _alerts(session: Session, incident_id: int) -> list[AlertBrief]:
    rows = session.exec(
        select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(col(Alert.id).desc())
        .limit(MAX_ALERTS)
    ).all()
    return [
        AlertBrief(
            id=a.id or 0,
            title=a.title,
            status=a.status.value,
            severity=a.severity,
            source=a.source,
            description=a.description,
            labels=a.labels,
            links=a.links,
            occurred_at=a.occurred_at,
            received_at=a.received_at,
            resolved_at=a.resolved_at,
        )
        for a in rows
    ]


def detail(session: Session, actor: Actor, incident: Incident, service: Service) -> IncidentDetail:
    """The detail DTO of a loaded incident."""
    assert incident.id is not None
    tallies = alert_tallies(session, {incident.id})
    (row,) = summaries(session, [incident], tallies)
    tally = tallies.get(incident.id)
    snapshot = incident.escalation_snapshot or {}
    chain = from_snapshot(snapshot)
    return IncidentDetail(
        **row.model_dump(),
        dedup_key=incident.dedup_key,
        details=incident.details,
        resolution_note=incident.resolution_note,
        acknowledged_by=incident.acknowledged_by,
        resolved_by=incident.resolved_by,
        closed_at=incident.closed_at,
        last_alert_at=tally[1] if tally else incident.opened_at,
        service_links=[
            ServiceLinkOut(title=str(link.get("title", "")), url=str(link.get("url", "")))
            for link in service.links
        ],
        escalation=EscalationInfo(
            policy_id=incident.escalation_policy_id,
            policy_name=str(snapshot.get("policy_name", "")),
            state=incident.escalation_state,
            step=incident.escalation_step,
            next_at=incident.next_escalation_at,
            levels=len(chain.levels),
            repeat=chain.repeat,
        ),
        alerts=_alerts(session, incident.id),
        timeline=timeline.entries(session, incident.id),
        can_respond=access.can_respond(session, actor, service),
    )


def get_incident(actor: Actor, incident_id: int) -> IncidentDetail:
    """One incident with its alerts and timeline.

    Raises:
        Unauthenticated, IncidentNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        loaded = access.load(uow.session, incident_id)
        return detail(uow.session, actor, loaded.incident, loaded.service)


# --- the list --------------------------------------------------------------------------------


def encode_cursor(opened_at: datetime, incident_id: int) -> str:
    raw = f"{opened_at.isoformat()}|{incident_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raises ValidationFailed for a cursor we did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError(stamp)
        return at, int(ident)
    except ValueError as exc:
        raise ValidationFailed.field(
            "cursor", "not a cursor from this list", loc_prefix="query"
        ) from exc


def _membership(flt: IncidentFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.statuses:
        where.append(col(Incident.status).in_(flt.statuses))
    if flt.severities:
        where.append(col(Incident.severity).in_(flt.severities))
    if flt.service_ids:
        where.append(col(Incident.service_id).in_(flt.service_ids))
    if flt.escalation_states:
        where.append(col(Incident.escalation_state).in_(flt.escalation_states))
    if flt.team_ids:
        owned = select(Service.id).where(col(Service.team_id).in_(flt.team_ids))
        where.append(col(Incident.service_id).in_(owned))
    return where


def _conditions(actor: Actor, flt: IncidentFilter) -> list[ColumnElement[bool]]:
    where = _membership(flt)
    if flt.assigned_to_me:
        if actor.user_id is None:
            raise ValidationFailed.field("assigned_to_me", "only a user has incidents assigned")
        where.append(col(Incident.assignee_id) == actor.user_id)
    if flt.assignee_id is not None:
        where.append(col(Incident.assignee_id) == flt.assignee_id)
    if flt.opened_after is not None:
        where.append(col(Incident.opened_at) >= flt.opened_after)
    if flt.opened_before is not None:
        where.append(col(Incident.opened_at) < flt.opened_before)
    if flt.text.strip():
        where.append(col(Incident.title).ilike(f"%{flt.text.strip()}%"))
    return where


def list_incidents(
    actor: Actor, flt: IncidentFilter | None = None, *, cursor: str | None = None, limit: int = 50
) -> IncidentPage:
    """Incidents matching ``flt``, newest opened first, ``limit`` per page.

    Raises:
        Unauthenticated, ValidationFailed (bad cursor; ``assigned_to_me`` for a non-user).
    """
    require_authenticated(actor)
    flt = flt or IncidentFilter()
    limit = max(1, min(limit, MAX_PAGE))
    with unit_of_work() as uow:
        where = _conditions(actor, flt)
        if cursor:
            at, ident = decode_cursor(cursor)
            opened = col(Incident.opened_at)
            where.append(or_(opened < at, and_(opened == at, col(Incident.id) < ident)))
        stmt = (
            select(Incident)
            .where(*where)
            .order_by(col(Incident.opened_at).desc(), col(Incident.id).desc())
            .limit(limit + 1)
        )
        rows = list(uow.session.exec(stmt).all())
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        next_cursor = encode_cursor(last.opened_at, last.id) if more and last and last.id else None
        return IncidentPage(items=summaries(uow.session, rows), next_cursor=next_cursor)
