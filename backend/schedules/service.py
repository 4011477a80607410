"""Schedule and layer commands and plain reads. The only writer of schedules and layers.

Every command authorizes through ``backend.teams.service.authorize`` (TEAM_ADMIN edits a
schedule and its layers; any signed-in user reads), writes an audit row in the same
transaction and publishes a domain event after commit on topics ``schedules`` and
``schedule:<id>``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import FieldError, ValidationFailed
from backend.core.events import DomainEvent, get_bus
from backend.schedules import queries
from backend.schedules.errors import LayerNotFound, ScheduleNameTaken, ScheduleNotFound
from backend.schedules.models import Schedule, ScheduleLayer
from backend.schedules.schemas import (
    LayerCreate,
    LayerOut,
    LayerUpdate,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleOut,
    ScheduleUpdate,
    WindowIn,
    WindowOut,
    check_rule,
)
from backend.teams import queries as team_queries
from backend.teams.models import TeamRole
from backend.teams.policy import ROLE_RANK, TeamAction
from backend.teams.service import authorize


def publish(uow: UnitOfWork, actor: Actor, name: str, schedule: Schedule, **payload: Any) -> None:
    """Announce ``name`` for ``schedule`` after commit."""
    event = DomainEvent(
        name=name,
        payload={"schedule_id": schedule.id, "team_id": schedule.team_id, **payload},
        topics=("schedules", f"schedule:{schedule.id}"),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))


def record(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    schedule: Schedule,
    diff: dict[str, Any],
    severity: Severity = Severity.MEDIUM,
) -> None:
    """Audit ``action`` on ``schedule`` and publish it as an event after commit."""
    audit.record(
        uow,
        actor,
        action,
        target_type="schedule",
        target_id=schedule.id,
        target_label=schedule.name,
        severity=severity,
        diff=diff,
    )
    publish(uow, actor, action, schedule)


def load(session: Session, schedule_id: int) -> Schedule:
    schedule = queries.schedule_by_id(session, schedule_id)
    if schedule is None:
        raise ScheduleNotFound(f"Schedule {schedule_id} does not exist.")
    return schedule


def load_for(session: Session, actor: Actor, schedule_id: int, action: TeamAction) -> Schedule:
    """The schedule, once ``actor`` may perform ``action`` on its team.

    Raises:
        ScheduleNotFound, Unauthenticated, PermissionDenied.
    """
    require_authenticated(actor)
    schedule = load(session, schedule_id)
    authorize(session, actor, schedule.team_id, action)
    return schedule


def require_rotating_members(
    session: Session, team_id: int, user_ids: list[int], field: str, *, indexed: bool = True
) -> None:
    """Raises ValidationFailed naming every id that is not a RESPONDER+ of the team."""
    errors = []
    for index, user_id in enumerate(user_ids):
        role = team_queries.role_of(session, team_id, user_id)
        if role is None or ROLE_RANK[role] < ROLE_RANK[TeamRole.RESPONDER]:
            errors.append(
                FieldError(
                    ("body", field, index) if indexed else ("body", field),
                    f"user {user_id} is not a responder or admin of the schedule's team",
                )
            )
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)


def _snapshot(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "description": schedule.description,
    }


def _layer_snapshot(layer: ScheduleLayer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "priority": layer.priority,
        "participants": list(layer.participants),
        "rrule": layer.rrule,
        "handoff_time": layer.handoff_time.isoformat(),
        "starts_on": layer.starts_on.isoformat(),
        "restrictions": list(layer.restrictions),
    }


def _refuse_taken_name(session: Session, team_id: int, name: str, own_id: int | None) -> None:
    existing = queries.schedule_named(session, team_id, name)
    if existing is not None and existing.id != own_id:
        raise ScheduleNameTaken(f"The team already has a schedule named '{name}'.")


def create_schedule(actor: Actor, data: ScheduleCreate) -> ScheduleDetail:
    """Create an empty schedule for a team (TEAM_ADMIN).

    Raises:
        Unauthenticated, TeamNotFound, PermissionDenied, ScheduleNameTaken.
    """
    with unit_of_work() as uow:
        authorize(uow.session, actor, data.team_id, TeamAction.EDIT)
        _refuse_taken_name(uow.session, data.team_id, data.name, None)
        schedule = Schedule(**data.model_dump())
        uow.session.add(schedule)
        uow.session.flush()
        record(uow, actor, "schedules.schedule.created", schedule, {"after": _snapshot(schedule)})
        return detail_of(uow.session, schedule)


def update_schedule(actor: Actor, schedule_id: int, data: ScheduleUpdate) -> ScheduleDetail:
    """Rename a schedule or change its zone or description (TEAM_ADMIN).

    Raises:
        ScheduleNotFound, PermissionDenied, ScheduleNameTaken.
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.EDIT)
        before = _snapshot(schedule)
        changes = data.model_dump(exclude_none=True)
        if "name" in changes:
            _refuse_taken_name(uow.session, schedule.team_id, changes["name"], schedule.id)
        for key, value in changes.items():
            setattr(schedule, key, value)
        diff = audit.changes(before, _snapshot(schedule))
        if diff:
            schedule.updated_at = clock.now()
            uow.session.add(schedule)
            record(uow, actor, "schedules.schedule.updated", schedule, diff)
        return detail_of(uow.session, schedule)


def delete_schedule(actor: Actor, schedule_id: int) -> None:
    """Delete a schedule with its layers, overrides, swaps and feeds (TEAM_ADMIN).

    Raises:
        ScheduleNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.DELETE)
        before = {"before": _snapshot(schedule)}
        record(uow, actor, "schedules.schedule.deleted", schedule, before, Severity.HIGH)
        # Children go with the foreign keys' ON DELETE CASCADE (SQLite enforces it: PRAGMA).
        uow.session.delete(schedule)


def _restrictions(windows: list[WindowIn]) -> list[dict[str, Any]]:
    return [
        {"days": w.days, "start": w.start.isoformat("minutes"), "end": w.end.isoformat("minutes")}
        for w in windows
    ]


def add_layer(actor: Actor, schedule_id: int, data: LayerCreate) -> LayerOut:
    """Add a rotation layer (TEAM_ADMIN); participants must be responders of the team.

    Raises:
        ScheduleNotFound, PermissionDenied, ValidationFailed.
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.EDIT)
        require_rotating_members(uow.session, schedule.team_id, data.participants, "participants")
        layer = ScheduleLayer(
            schedule_id=schedule_id,
            **data.model_dump(exclude={"restrictions"}),
            restrictions=_restrictions(data.restrictions),
        )
        uow.session.add(layer)
        uow.session.flush()
        diff = {"layer_id": layer.id, "after": _layer_snapshot(layer)}
        record(uow, actor, "schedules.layer.created", schedule, diff)
        return layer_out(layer)


def update_layer(actor: Actor, schedule_id: int, layer_id: int, data: LayerUpdate) -> LayerOut:
    """Change a layer (TEAM_ADMIN); the merged result is validated as a whole.

    Raises:
        ScheduleNotFound, LayerNotFound, PermissionDenied, ValidationFailed.
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.EDIT)
        layer = _layer(uow.session, schedule_id, layer_id)
        before = _layer_snapshot(layer)
        changes = data.model_dump(exclude_none=True, exclude={"restrictions"})
        if data.restrictions is not None:
            changes["restrictions"] = _restrictions(data.restrictions)
        _validate_merged(uow.session, schedule, layer, changes)
        for key, value in changes.items():
            setattr(layer, key, value)
        diff = audit.changes(before, _layer_snapshot(layer))
        if diff:
            layer.updated_at = clock.now()
            uow.session.add(layer)
            record(uow, actor, "schedules.layer.updated", schedule, {"layer_id": layer_id, **diff})
        return layer_out(layer)


def _validate_merged(
    session: Session, schedule: Schedule, layer: ScheduleLayer, changes: dict[str, Any]
) -> None:
    if "participants" in changes:
        require_rotating_members(session, schedule.team_id, changes["participants"], "participants")
    try:
        check_rule(
            changes.get("rrule", layer.rrule),
            changes.get("starts_on", layer.starts_on),
            changes.get("handoff_time", layer.handoff_time),
        )
    except ValueError as exc:
        raise ValidationFailed.field("rrule", str(exc)) from exc


def delete_layer(actor: Actor, schedule_id: int, layer_id: int) -> None:
    """Remove a layer (TEAM_ADMIN).

    Raises:
        ScheduleNotFound, LayerNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        schedule = load_for(uow.session, actor, schedule_id, TeamAction.EDIT)
        layer = _layer(uow.session, schedule_id, layer_id)
        diff = {"layer_id": layer_id, "before": _layer_snapshot(layer)}
        uow.session.delete(layer)
        record(uow, actor, "schedules.layer.deleted", schedule, diff)


def _layer(session: Session, schedule_id: int, layer_id: int) -> ScheduleLayer:
    layer = session.get(ScheduleLayer, layer_id)
    if layer is None or layer.schedule_id != schedule_id:
        raise LayerNotFound(f"Layer {layer_id} is not in schedule {schedule_id}.")
    return layer


def list_schedules(actor: Actor, *, team_id: int | None = None) -> list[ScheduleOut]:
    """Every schedule (visible to all signed-in users), optionally one team's."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        return [out(s) for s in queries.schedules(uow.session, team_id=team_id)]


def get_schedule(actor: Actor, schedule_id: int) -> ScheduleDetail:
    """One schedule with its layers, highest priority first.

    Raises:
        Unauthenticated, ScheduleNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        return detail_of(uow.session, load(uow.session, schedule_id))


def out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut.model_validate(schedule, from_attributes=True)


def detail_of(session: Session, schedule: Schedule) -> ScheduleDetail:
    assert schedule.id is not None
    return ScheduleDetail(
        **out(schedule).model_dump(),
        layers=[layer_out(layer) for layer in queries.layers(session, schedule.id)],
    )


def layer_out(layer: ScheduleLayer) -> LayerOut:
    assert layer.id is not None
    return LayerOut(
        id=layer.id,
        schedule_id=layer.schedule_id,
        name=layer.name,
        priority=layer.priority,
        participants=list(layer.participants),
        rrule=layer.rrule,
        handoff_time=layer.handoff_time,
        starts_on=layer.starts_on,
        restrictions=[WindowOut.model_validate(r) for r in layer.restrictions],
    )
