"""Escalation policy commands and reads (ROUTE-01), the paging preview (ROUTE-03) and the
page-request outbox. The only writer of policies and levels.

Team admins (or platform admins) change a team's policies; every signed-in user reads them.
Every command writes an audit row and publishes ``escalation.policy.*`` after commit (topics
``escalation_policies``, ``team:<id>``).

Exactly one default per team: the database allows at most one (a unique partial index); the
service makes a team's first policy its default, moves the default in one transaction, refuses
to unset it directly, and promotes the oldest remaining policy when the default is deleted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.catalog.models import Service
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import FieldError, ValidationFailed
from backend.core.events import DomainEvent, get_bus
from backend.escalation.errors import PolicyInUse, PolicyNameTaken, PolicyNotFound
from backend.escalation.models import EscalationLevel, EscalationPolicy
from backend.escalation.policy import TargetKind
from backend.escalation.schemas import (
    LevelIn,
    LevelOut,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
    TargetOut,
)
from backend.escalation.targets import team_default
from backend.identity.models import User
from backend.incidents.models import ACTIVE_STATUSES, Incident
from backend.schedules.models import Schedule
from backend.teams import queries as team_queries
from backend.teams import service as teams
from backend.teams.errors import TeamNotFound
from backend.teams.policy import TeamAction

_POLICY = EscalationPolicy.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_LEVEL = EscalationLevel.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime


def _publish(uow: UnitOfWork, actor: Actor, name: str, policy: EscalationPolicy) -> None:
    event = DomainEvent(
        name=name,
        payload={"policy_id": policy.id, "team_id": policy.team_id},
        topics=("escalation_policies", f"team:{policy.team_id}"),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))


def _load(session: Session, policy_id: int) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise PolicyNotFound(f"Escalation policy {policy_id} does not exist.")
    return policy


def _check_targets(session: Session, team_id: int, levels: list[LevelIn]) -> None:
    """Users must be members of the team, schedules must belong to it (422 otherwise)."""
    members = {m.user_id for m, _ in team_queries.members(session, team_id)}
    schedules = set(session.exec(select(Schedule.id).where(Schedule.team_id == team_id)).all())
    errors: list[FieldError] = []
    for index, level in enumerate(levels):
        for t_index, target in enumerate(level.targets):
            known = members if target.type is TargetKind.USER else schedules
            if target.id not in known:
                what = "user is not a member" if target.type is TargetKind.USER else "schedule"
                errors.append(
                    FieldError(
                        ("body", "levels", index, "targets", t_index, "id"),
                        f"{target.type.value} {target.id}: no such {what} of the team",
                    )
                )
    if errors:
        raise ValidationFailed("; ".join(e.msg for e in errors), errors=errors)


def _write_levels(session: Session, policy_id: int, levels: list[LevelIn]) -> None:
    session.execute(delete(_LEVEL).where(_LEVEL.c.policy_id == policy_id))
    for position, level in enumerate(levels):
        session.add(
            EscalationLevel(
                policy_id=policy_id,
                position=position,
                timeout_minutes=level.timeout_minutes,
                targets=[t.model_dump(mode="json") for t in level.targets],
            )
        )


def _make_default(session: Session, policy: EscalationPolicy) -> None:
    # Unset the old default first, in SQL, so the partial unique index never sees two.
    session.execute(
        update(_POLICY)
        .where(_POLICY.c.team_id == policy.team_id, _POLICY.c.id != policy.id)
        .values(is_default=False)
    )
    policy.is_default = True


def _flush(uow: UnitOfWork, name: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise PolicyNameTaken(f"The team already has a policy named '{name}'.") from exc


def _out(session: Session, policy: EscalationPolicy) -> PolicyOut:
    assert policy.id is not None
    levels = session.exec(
        select(EscalationLevel)
        .where(EscalationLevel.policy_id == policy.id)
        .order_by(col(EscalationLevel.position))
    ).all()
    user_ids = {int(t["id"]) for lv in levels for t in lv.targets if t["type"] == "user"}
    sched_ids = {int(t["id"]) for lv in levels for t in lv.targets if t["type"] == "schedule"}
    names: dict[tuple[str, int], str] = {}
    if user_ids:
        for uid, uname in session.exec(
            select(User.id, User.name).where(col(User.id).in_(user_ids))
        ):
            names[("user", int(uid or 0))] = uname
    if sched_ids:
        stmt = select(Schedule.id, Schedule.name).where(col(Schedule.id).in_(sched_ids))
        for sid, sname in session.exec(stmt):
            names[("schedule", int(sid or 0))] = sname
    team = team_queries.team_by_id(session, policy.team_id)
    services = session.exec(select(Service.id).where(Service.escalation_policy_id == policy.id))
    return PolicyOut(
        id=policy.id,
        team_id=policy.team_id,
        team_name=team.name if team else "",
        name=policy.name,
        description=policy.description,
        repeat=policy.repeat,
        is_default=policy.is_default,
        levels=[
            LevelOut(
                position=lv.position + 1,
                timeout_minutes=lv.timeout_minutes,
                targets=[
                    TargetOut(
                        type=TargetKind(t["type"]),
                        id=int(t["id"]),
                        name=names.get((t["type"], int(t["id"])), "(deleted)"),
                    )
                    for t in lv.targets
                ],
            )
            for lv in levels
        ],
        service_ids=sorted(int(s) for s in services if s is not None),
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def _snapshot(session: Session, policy: EscalationPolicy) -> dict[str, Any]:
    out = _out(session, policy)
    return out.model_dump(
        mode="json", include={"name", "description", "repeat", "is_default", "levels"}
    )


def create_policy(actor: Actor, data: PolicyCreate) -> PolicyOut:
    """Create a policy for ``data.team_id`` (TEAM_ADMIN). A team's first policy is its default.

    Raises:
        Unauthenticated, PermissionDenied, ValidationFailed (unknown team, targets not of the
        team), PolicyNameTaken.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        session = uow.session
        if team_queries.team_by_id(session, data.team_id) is None:
            raise ValidationFailed.field("team_id", f"team {data.team_id} does not exist")
        teams.authorize(session, actor, data.team_id, TeamAction.EDIT)
        _check_targets(session, data.team_id, data.levels)
        policy = EscalationPolicy(
            team_id=data.team_id, name=data.name, description=data.description, repeat=data.repeat
        )
        first = team_default(session, data.team_id) is None
        session.add(policy)
        _flush(uow, data.name)
        if first or data.is_default:
            _make_default(session, policy)
        assert policy.id is not None
        _write_levels(session, policy.id, data.levels)
        _flush(uow, data.name)
        audit.record(
            uow,
            actor,
            "escalation.policy.created",
            target_type="escalation_policy",
            target_id=policy.id,
            target_label=policy.name,
            diff={"after": _snapshot(session, policy)},
        )
        _publish(uow, actor, "escalation.policy.created", policy)
        return _out(session, policy)


def update_policy(actor: Actor, policy_id: int, data: PolicyUpdate) -> PolicyOut:
    """Change the fields sent (TEAM_ADMIN). Running incidents keep their snapshot.

    Raises:
        Unauthenticated, PolicyNotFound, PermissionDenied, ValidationFailed (targets, unsetting
        the default), PolicyNameTaken.
    """
    changes = data.model_dump(exclude_unset=True, exclude={"levels", "is_default"})
    with unit_of_work() as uow:
        session = uow.session
        policy = _load(session, policy_id)
        teams.authorize(session, actor, policy.team_id, TeamAction.EDIT)
        if data.is_default is False and policy.is_default:
            raise ValidationFailed.field(
                "is_default", "a team always has a default: make another policy the default"
            )
        if data.levels is not None:
            _check_targets(session, policy.team_id, data.levels)
        before = _snapshot(session, policy)
        for key, value in changes.items():
            setattr(policy, key, value)
        if data.is_default and not policy.is_default:
            _make_default(session, policy)
        if data.levels is not None:
            _write_levels(session, policy_id, data.levels)
        policy.updated_at = clock.now()
        session.add(policy)
        _flush(uow, policy.name)
        diff = audit.changes(before, _snapshot(session, policy))
        if diff:
            audit.record(
                uow,
                actor,
                "escalation.policy.updated",
                target_type="escalation_policy",
                target_id=policy_id,
                target_label=policy.name,
                diff=diff,
            )
            _publish(uow, actor, "escalation.policy.updated", policy)
        return _out(session, policy)


def delete_policy(actor: Actor, policy_id: int) -> None:
    """Delete a policy (TEAM_ADMIN). Services naming it fall back to the team's default; if it
    was the default, the team's oldest other policy becomes the default.

    Raises:
        Unauthenticated, PolicyNotFound, PermissionDenied, PolicyInUse (an OPEN or ACKNOWLEDGED
        incident escalates with it).
    """
    with unit_of_work() as uow:
        session = uow.session
        policy = _load(session, policy_id)
        teams.authorize(session, actor, policy.team_id, TeamAction.EDIT)
        active = session.exec(
            select(Incident.id).where(
                Incident.escalation_policy_id == policy_id,
                col(Incident.status).in_(ACTIVE_STATUSES),
            )
        ).all()
        if active:
            ids = sorted(int(i) for i in active if i is not None)
            raise PolicyInUse(
                f"Active incidents escalate with this policy: {', '.join(map(str, ids[:20]))}.",
                incident_ids=ids,
            )
        before = _snapshot(session, policy)
        was_default = policy.is_default
        session.delete(policy)
        session.flush()
        if was_default:
            heir = session.exec(
                select(EscalationPolicy)
                .where(EscalationPolicy.team_id == policy.team_id)
                .order_by(col(EscalationPolicy.created_at), col(EscalationPolicy.id))
            ).first()
            if heir is not None:
                heir.is_default = True
                session.add(heir)
        audit.record(
            uow,
            actor,
            "escalation.policy.deleted",
            target_type="escalation_policy",
            target_id=policy_id,
            target_label=policy.name,
            diff={"before": before},
        )
        _publish(uow, actor, "escalation.policy.deleted", policy)


def get_policy(actor: Actor, policy_id: int) -> PolicyOut:
    """One policy with its levels and target names.

    Raises:
        Unauthenticated, PolicyNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        return _out(uow.session, _load(uow.session, policy_id))


def list_policies(actor: Actor, *, team_id: int | None = None) -> list[PolicyOut]:
    """Every policy (or a team's), by team then name.

    Raises:
        Unauthenticated, TeamNotFound (unknown ``team_id``).
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        stmt = select(EscalationPolicy).order_by(
            col(EscalationPolicy.team_id), col(EscalationPolicy.name)
        )
        if team_id is not None:
            if team_queries.team_by_id(uow.session, team_id) is None:
                raise TeamNotFound(f"Team {team_id} does not exist.")
            stmt = stmt.where(EscalationPolicy.team_id == team_id)
        return [_out(uow.session, p) for p in uow.session.exec(stmt).all()]
