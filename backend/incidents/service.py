"""Incident commands (INC-01). The only writer of incident status, assignment and edits.

Every command authorizes the actor (``access.authorize_respond``), applies the state machine
of :mod:`backend.incidents.lifecycle` with a compare-and-set on the from-statuses (two racing
commands cannot both win; the loser gets 409 ``invalid_transition`` and changes nothing),
writes an audit row and a timeline line in the same transaction, and publishes a domain event
after commit (topics ``incidents``, ``incident:<id>``, ``service:<id>``, ``team:<id>``).
Acknowledge and resolve clear the escalation token, so in-flight steps do nothing.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit
from backend.core import clock
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, advisory_lock, unit_of_work
from backend.core.errors import DomainError, InvalidTransition, ValidationFailed
from backend.escalation import engine, rearm
from backend.identity.models import User
from backend.incidents import lifecycle, queries, timeline
from backend.incidents.access import Loaded, authorize_respond, load, publish
from backend.incidents.chat_refresh import refresh_chat_pages
from backend.incidents.errors import ActiveDuplicate
from backend.incidents.lifecycle import Transition
from backend.incidents.models import (
    ACTIVE_STATUSES,
    INCIDENT_LOCK_NAMESPACE,
    EscalationState,
    Incident,
    IncidentEventKind,
    IncidentStatus,
)
from backend.incidents.schemas import (
    BulkIn,
    BulkItem,
    BulkResult,
    IncidentDetail,
    IncidentUpdate,
)
from backend.teams import queries as team_queries
from backend.teams.models import TeamRole
from backend.teams.policy import ROLE_RANK

log = structlog.get_logger(__name__)
_INCIDENT = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime


def _audit(uow: UnitOfWork, actor: Actor, verb: str, loaded: Loaded, diff: dict[str, Any]) -> None:
    audit.record(
        uow,
        actor,
        f"incidents.incident.{verb}",
        target_type="incident",
        target_id=loaded.id,
        target_label=loaded.incident.title[:320],
        diff=diff,
    )


def _transition(
    uow: UnitOfWork, loaded: Loaded, transition: Transition, values: dict[str, Any]
) -> IncidentStatus:
    """Apply ``transition`` with a compare-and-set on its from-statuses.

    Raises:
        InvalidTransition: not allowed from the current status, or the status changed meanwhile.
        ActiveDuplicate: reopening would clash with another active incident's dedup key.
    """
    before = loaded.incident.status
    target = lifecycle.apply(before, transition)
    if before in ACTIVE_STATUSES and target not in ACTIVE_STATUSES:
        # Wait for alerts being grouped into it right now (ADR 0011): once this commits, later
        # ones see it inactive and open a fresh incident instead of joining a resolved one.
        advisory_lock(uow.session, INCIDENT_LOCK_NAMESPACE, loaded.id, shared=False)
    stmt = (
        update(_INCIDENT)
        .where(
            _INCIDENT.c.id == loaded.id,
            _INCIDENT.c.status.in_([s.value for s in lifecycle.sources(transition)]),
        )
        .values(status=target, **values)
    )
    try:
        changed = uow.session.execute(stmt).rowcount  # type: ignore[attr-defined]  # CursorResult
    except IntegrityError as exc:
        raise ActiveDuplicate(
            "Another active incident of this service has the same dedup key; resolve it first."
        ) from exc
    if not changed:
        raise InvalidTransition(
            f"The incident changed meanwhile; it can no longer be {transition.value}d.",
            status=before.value,
            transition=transition.value,
        )
    uow.session.refresh(loaded.incident)
    return before


def _acknowledge(uow: UnitOfWork, actor: Actor, incident_id: int) -> Loaded:
    loaded = load(uow.session, incident_id)
    authorize_respond(uow.session, actor, loaded.service)
    values: dict[str, Any] = {
        "acknowledged_at": clock.now(),
        "acknowledged_by": actor.label[:320],
        **engine.stop_values(),
    }
    if actor.user_id is not None:
        values["assignee_id"] = actor.user_id  # acknowledging takes the incident
    _transition(uow, loaded, Transition.ACKNOWLEDGE, values)
    timeline.record(
        uow.session,
        incident_id,
        IncidentEventKind.ACKNOWLEDGED,
        f"{actor.label} acknowledged.",
        actor=actor,
    )
    _audit(uow, actor, "acknowledged", loaded, {"status": ["OPEN", "ACKNOWLEDGED"]})
    publish(uow, actor, "incidents.incident.acknowledged", loaded)
    refresh_chat_pages(uow, loaded.id)
    return loaded


def _resolve(uow: UnitOfWork, actor: Actor, incident_id: int, note: str) -> Loaded:
    loaded = load(uow.session, incident_id)
    authorize_respond(uow.session, actor, loaded.service)
    values = {
        "resolved_at": clock.now(),
        "resolved_by": actor.label[:320],
        "resolution_note": note,
        **engine.stop_values(),
    }
    before = _transition(uow, loaded, Transition.RESOLVE, values)
    data = {"markdown": note, "html": timeline.render_note(note)} if note.strip() else {}
    timeline.record(
        uow.session,
        incident_id,
        IncidentEventKind.RESOLVED,
        f"{actor.label} resolved.",
        actor=actor,
        data=data,
    )
    _audit(uow, actor, "resolved", loaded, {"status": [before.value, "RESOLVED"]})
    publish(uow, actor, "incidents.incident.resolved", loaded)
    refresh_chat_pages(uow, loaded.id)
    return loaded


def _detail(uow: UnitOfWork, actor: Actor, loaded: Loaded) -> IncidentDetail:
    return queries.detail(uow.session, actor, loaded.incident, loaded.service)


def acknowledge(actor: Actor, incident_id: int) -> IncidentDetail:
    """Acknowledge an OPEN incident: assign it to the acknowledger and stop its escalation.

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition.
    """
    with unit_of_work() as uow:
        return _detail(uow, actor, _acknowledge(uow, actor, incident_id))


def resolve(actor: Actor, incident_id: int, note: str = "") -> IncidentDetail:
    """Resolve an OPEN or ACKNOWLEDGED incident, with an optional markdown resolution note.

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition.
    """
    with unit_of_work() as uow:
        return _detail(uow, actor, _resolve(uow, actor, incident_id, note))


def close(actor: Actor, incident_id: int) -> IncidentDetail:
    """Close a RESOLVED incident (final).

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition.
    """
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        _transition(uow, loaded, Transition.CLOSE, {"closed_at": clock.now()})
        timeline.record(
            uow.session,
            incident_id,
            IncidentEventKind.CLOSED,
            f"{actor.label} closed.",
            actor=actor,
        )
        _audit(uow, actor, "closed", loaded, {"status": ["RESOLVED", "CLOSED"]})
        publish(uow, actor, "incidents.incident.closed", loaded)
        refresh_chat_pages(uow, loaded.id)
        return _detail(uow, actor, loaded)


def reopen(actor: Actor, incident_id: int) -> IncidentDetail:
    """Reopen a RESOLVED incident; its escalation starts again from the first level.

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition, ActiveDuplicate.
    """
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        values: dict[str, Any] = {
            "resolved_at": None,
            "resolved_by": "",
            "acknowledged_at": None,
            "acknowledged_by": "",
            "escalation_state": EscalationState.NONE,
            "escalation_snapshot": None,
            "escalation_token": None,
            "escalation_step": 0,
            "next_escalation_at": None,
            "in_maintenance": False,
        }
        _transition(uow, loaded, Transition.REOPEN, values)
        timeline.record(
            uow.session,
            incident_id,
            IncidentEventKind.REOPENED,
            f"{actor.label} reopened.",
            actor=actor,
        )
        engine.start(uow, incident_id, actor_label=actor.label)
        uow.session.refresh(loaded.incident)
        _audit(uow, actor, "reopened", loaded, {"status": ["RESOLVED", "OPEN"]})
        publish(uow, actor, "incidents.incident.reopened", loaded)
        refresh_chat_pages(uow, loaded.id)
        return _detail(uow, actor, loaded)


def _check_assignee(uow: UnitOfWork, loaded: Loaded, user_id: int) -> User:
    user = uow.session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed.field("user_id", f"user {user_id} does not exist or is inactive")
    team_id = loaded.service.team_id
    if team_id is not None:
        role = team_queries.role_of(uow.session, team_id, user_id)
        if role is None or ROLE_RANK[role] < ROLE_RANK[TeamRole.RESPONDER]:
            raise ValidationFailed.field("user_id", "the user is not a responder of the team")
    return user


def reassign(actor: Actor, incident_id: int, user_id: int) -> IncidentDetail:
    """Assign the incident to a responder of the owning team (any active user for triage).

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition (closed),
        ValidationFailed (unknown user, not a responder of the team).
    """
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        lifecycle.ensure_editable(loaded.incident.status, "reassign")
        user = _check_assignee(uow, loaded, user_id)
        before = loaded.incident.assignee_id
        loaded.incident.assignee_id = user_id
        uow.session.add(loaded.incident)
        timeline.record(
            uow.session,
            incident_id,
            IncidentEventKind.REASSIGNED,
            f"{actor.label} assigned it to {user.name}.",
            actor=actor,
            data={"from_user_id": before, "to_user_id": user_id},
        )
        _audit(uow, actor, "reassigned", loaded, {"assignee_id": [before, user_id]})
        publish(uow, actor, "incidents.incident.reassigned", loaded, assignee_id=user_id)
        return _detail(uow, actor, loaded)


def update_incident(actor: Actor, incident_id: int, data: IncidentUpdate) -> IncidentDetail:
    """Edit title, severity, priority or details (only the fields sent).

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition (closed).
    """
    changes = data.model_dump(exclude_unset=True)
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        lifecycle.ensure_editable(loaded.incident.status, "edit")
        incident = loaded.incident
        before = {key: getattr(incident, key) for key in changes}
        for key, value in changes.items():
            setattr(incident, key, value)
        diff = audit.changes(audit.json_safe(before), audit.json_safe(changes))
        if diff:
            uow.session.add(incident)
            timeline.record(
                uow.session,
                incident_id,
                IncidentEventKind.EDITED,
                f"{actor.label} changed {', '.join(sorted(diff))}.",
                actor=actor,
                data=diff,
            )
            _audit(uow, actor, "updated", loaded, diff)
            publish(uow, actor, "incidents.incident.updated", loaded, fields=sorted(diff))
        return _detail(uow, actor, loaded)


def add_note(actor: Actor, incident_id: int, body: str) -> IncidentDetail:
    """Add a markdown note to the timeline (stored as source plus sanitised HTML).

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, ValidationFailed (blank note).
    """
    if not body.strip():
        raise ValidationFailed.field("body", "write something")
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        timeline.record(
            uow.session,
            incident_id,
            IncidentEventKind.NOTE,
            f"{actor.label} added a note.",
            actor=actor,
            data={"markdown": body, "html": timeline.render_note(body)},
        )
        _audit(uow, actor, "note_added", loaded, {"length": len(body)})
        publish(uow, actor, "incidents.incident.note_added", loaded)
        return _detail(uow, actor, loaded)


def escalate_now(actor: Actor, incident_id: int) -> IncidentDetail:
    """Fire the pending escalation level now ("escalate now"), with a fresh token.

    Raises:
        Unauthenticated, IncidentNotFound, PermissionDenied, InvalidTransition (not OPEN, no
        policy, or every level has fired).
    """
    with unit_of_work() as uow:
        loaded = load(uow.session, incident_id)
        authorize_respond(uow.session, actor, loaded.service)
        rearm.escalate_now(uow, actor, loaded.incident)
        uow.session.refresh(loaded.incident)
        _audit(uow, actor, "escalated", loaded, {"step": loaded.incident.escalation_step})
        publish(uow, actor, "incidents.incident.escalated", loaded, manual=True)
        return _detail(uow, actor, loaded)


def bulk(actor: Actor, data: BulkIn) -> BulkResult:
    """Acknowledge or resolve many incidents, each in its own transaction; reports each one.

    One item failing (not found, not allowed, wrong status) never affects the others.
    """
    items: list[BulkItem] = []
    for incident_id in dict.fromkeys(data.incident_ids):
        try:
            with unit_of_work() as uow:
                if data.action == "acknowledge":
                    loaded = _acknowledge(uow, actor, incident_id)
                else:
                    loaded = _resolve(uow, actor, incident_id, data.note)
                status: IncidentStatus | None = loaded.incident.status
            items.append(
                BulkItem(
                    incident_id=incident_id,
                    ok=True,
                    status=status,
                    error_code=None,
                    error_detail=None,
                )
            )
        except DomainError as exc:
            items.append(
                BulkItem(
                    incident_id=incident_id,
                    ok=False,
                    status=_status_of(incident_id),
                    error_code=exc.code.value,
                    error_detail=exc.detail,
                )
            )
    ok = sum(1 for item in items if item.ok)
    return BulkResult(succeeded=ok, failed=len(items) - ok, items=items)


def _status_of(incident_id: int) -> IncidentStatus | None:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        return None if incident is None else incident.status
