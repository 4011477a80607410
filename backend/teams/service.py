"""Team commands and reads. The only writer of teams and memberships.

Every command authorizes the actor, writes an audit row in the same transaction and publishes a
domain event after commit.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import PermissionDenied, Unauthenticated
from backend.core.events import DomainEvent, get_bus
from backend.identity import queries as identity_queries
from backend.identity.errors import UserNotFound
from backend.teams import queries
from backend.teams.errors import (
    AlreadyMember,
    LastTeamAdmin,
    MemberNotFound,
    TeamInUse,
    TeamNameTaken,
    TeamNotFound,
)
from backend.teams.models import Team, TeamMembership, TeamRole
from backend.teams.policy import TeamAction, health_warnings, is_allowed, would_orphan
from backend.teams.schemas import (
    MemberAdd,
    MemberOut,
    MyTeamOut,
    TeamCreate,
    TeamDetail,
    TeamOut,
    TeamUpdate,
)


def authorize(session: Session, actor: Actor, team_id: int, action: TeamAction) -> Team:
    """Load the team and check ``actor`` may perform ``action`` on it.

    Raises:
        Unauthenticated: the actor is anonymous.
        TeamNotFound: no such team.
        PermissionDenied: the actor's roles do not allow the action.
    """
    require_authenticated(actor)
    team = queries.team_by_id(session, team_id)
    if team is None:
        raise TeamNotFound(f"Team {team_id} does not exist.")
    role = queries.role_of(session, team_id, actor.user_id)
    if not is_allowed(actor.platform_role, role, action):
        raise PermissionDenied(f"You need a higher role in team '{team.name}' to {action.value}.")
    return team


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:120] or "team"


def _publish(uow: UnitOfWork, actor: Actor, name: str, team_id: int, **payload: Any) -> None:
    event = DomainEvent(
        name=name,
        payload={"team_id": team_id, **payload},
        topics=("teams", f"team:{team_id}"),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))


def _snapshot(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "description": team.description,
        "org_tags": list(team.org_tags),
        "tech_tags": list(team.tech_tags),
        "required_channels": list(team.required_channels),
    }


def _flush_unique(uow: UnitOfWork, name: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError as exc:
        raise TeamNameTaken(f"A team named '{name}' already exists.") from exc


def create_team(actor: Actor, data: TeamCreate) -> TeamDetail:
    """Create a team; a user who creates it becomes its first TEAM_ADMIN.

    Raises:
        Unauthenticated, TeamNameTaken.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        team = Team(
            name=data.name,
            slug=_slugify(data.name),
            description=data.description,
            org_tags=data.org_tags,
            tech_tags=data.tech_tags,
            required_channels=list(dict.fromkeys(c.value for c in data.required_channels)),
        )
        uow.session.add(team)
        _flush_unique(uow, data.name)
        assert team.id is not None
        if actor.user_id is not None:
            uow.session.add(
                TeamMembership(team_id=team.id, user_id=actor.user_id, role=TeamRole.TEAM_ADMIN)
            )
        audit.record(
            uow,
            actor,
            "teams.team.created",
            target_type="team",
            target_id=team.id,
            target_label=team.name,
            diff={"after": _snapshot(team)},
        )
        _publish(uow, actor, "teams.team.created", team.id)
        return _detail(uow.session, team, actor)


def update_team(actor: Actor, team_id: int, data: TeamUpdate) -> TeamDetail:
    """Rename a team or change its description, tags or required channels (TEAM_ADMIN).

    Raises:
        TeamNotFound, PermissionDenied, TeamNameTaken.
    """
    with unit_of_work() as uow:
        team = authorize(uow.session, actor, team_id, TeamAction.EDIT)
        before = _snapshot(team)
        changes = data.model_dump(exclude_none=True, mode="json")
        if "required_channels" in changes:
            changes["required_channels"] = list(dict.fromkeys(changes["required_channels"]))
        for key, value in changes.items():
            setattr(team, key, value)
        if "name" in changes:
            team.slug = _slugify(team.name)
        team.updated_at = clock.now()
        uow.session.add(team)
        _flush_unique(uow, team.name)
        diff = audit.changes(before, _snapshot(team))
        if diff:
            audit.record(
                uow,
                actor,
                "teams.team.updated",
                target_type="team",
                target_id=team_id,
                target_label=team.name,
                diff=diff,
            )
            _publish(uow, actor, "teams.team.updated", team_id)
        return _detail(uow.session, team, actor)


def delete_team(actor: Actor, team_id: int) -> None:
    """Delete a team and its memberships (TEAM_ADMIN).

    Raises:
        TeamNotFound, PermissionDenied, TeamInUse (it still owns services or schedules).
    """
    with unit_of_work() as uow:
        team = authorize(uow.session, actor, team_id, TeamAction.DELETE)
        name, before = team.name, _snapshot(team)
        uow.session.exec(delete(TeamMembership).where(col(TeamMembership.team_id) == team_id))
        uow.session.delete(team)
        try:
            # Other areas reference teams with RESTRICT keys; the database is the one place
            # that knows every owner, so ask it rather than importing every area here.
            uow.session.flush()
        except IntegrityError as exc:
            raise TeamInUse(
                f"'{name}' still owns services or schedules: move or delete them first."
            ) from exc
        audit.record(
            uow,
            actor,
            "teams.team.deleted",
            target_type="team",
            target_id=team_id,
            target_label=name,
            severity=Severity.HIGH,
            diff={"before": before},
        )
        _publish(uow, actor, "teams.team.deleted", team_id)


def add_member(actor: Actor, team_id: int, data: MemberAdd) -> TeamDetail:
    """Add a user to a team with a role (TEAM_ADMIN).

    Raises:
        TeamNotFound, PermissionDenied, UserNotFound, AlreadyMember.
    """
    with unit_of_work() as uow:
        team = authorize(uow.session, actor, team_id, TeamAction.MANAGE_MEMBERS)
        user = identity_queries.user_by_id(uow.session, data.user_id)
        if user is None or not user.is_active:
            raise UserNotFound(f"User {data.user_id} does not exist.")
        if queries.role_of(uow.session, team_id, data.user_id) is not None:
            raise AlreadyMember(f"{user.name} is already a member of '{team.name}'.")
        uow.session.add(TeamMembership(team_id=team_id, user_id=data.user_id, role=data.role))
        audit.record(
            uow,
            actor,
            "teams.member.added",
            target_type="team",
            target_id=team_id,
            target_label=team.name,
            diff={"user_id": data.user_id, "user": user.email, "role": [None, data.role.value]},
        )
        _publish(uow, actor, "teams.member.added", team_id, user_id=data.user_id)
        return _detail(uow.session, team, actor)


def change_role(actor: Actor, team_id: int, user_id: int, role: TeamRole) -> TeamDetail:
    """Change a member's role (TEAM_ADMIN). Refuses to demote the last admin.

    Raises:
        TeamNotFound, PermissionDenied, MemberNotFound, LastTeamAdmin.
    """
    with unit_of_work() as uow:
        team = authorize(uow.session, actor, team_id, TeamAction.MANAGE_MEMBERS)
        membership = uow.session.get(TeamMembership, (team_id, user_id))
        if membership is None:
            raise MemberNotFound(f"User {user_id} is not a member of '{team.name}'.")
        old = TeamRole(membership.role)
        if old == role:
            return _detail(uow.session, team, actor)
        _refuse_orphaning(uow.session, team, user_id, role)
        membership.role = role
        uow.session.add(membership)
        audit.record(
            uow,
            actor,
            "teams.member.role_changed",
            target_type="team",
            target_id=team_id,
            target_label=team.name,
            diff={"user_id": user_id, "role": [old.value, role.value]},
        )
        _publish(uow, actor, "teams.member.role_changed", team_id, user_id=user_id)
        return _detail(uow.session, team, actor)


def remove_member(actor: Actor, team_id: int, user_id: int) -> TeamDetail:
    """Remove a member (TEAM_ADMIN), or leave the team yourself (any member).

    Raises:
        TeamNotFound, PermissionDenied, MemberNotFound, LastTeamAdmin.
    """
    leaving = actor.user_id == user_id
    action = TeamAction.VIEW if leaving else TeamAction.MANAGE_MEMBERS
    with unit_of_work() as uow:
        team = authorize(uow.session, actor, team_id, action)
        membership = uow.session.get(TeamMembership, (team_id, user_id))
        if membership is None:
            raise MemberNotFound(f"User {user_id} is not a member of '{team.name}'.")
        _refuse_orphaning(uow.session, team, user_id, None)
        old_role = TeamRole(membership.role)
        uow.session.delete(membership)
        name = "teams.member.left" if leaving else "teams.member.removed"
        audit.record(
            uow,
            actor,
            name,
            target_type="team",
            target_id=team_id,
            target_label=team.name,
            diff={"user_id": user_id, "role": [old_role.value, None]},
        )
        _publish(uow, actor, name, team_id, user_id=user_id)
        return _detail(uow.session, team, actor)


def _refuse_orphaning(
    session: Session, team: Team, user_id: int, new_role: TeamRole | None
) -> None:
    assert team.id is not None
    roles_after = [
        (new_role if m.user_id == user_id else TeamRole(m.role))
        for m, _u in queries.members(session, team.id)
    ]
    if would_orphan(r for r in roles_after if r is not None):
        raise LastTeamAdmin(
            f"'{team.name}' would have members but no team admin: promote someone first."
        )


def list_teams(actor: Actor, *, text: str = "", tag: str = "") -> list[TeamOut]:
    """Every team (teams are visible to all signed-in users), with health warnings."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        teams = queries.all_teams(uow.session, text=text, tag=tag)
        roles = queries.roles_by_team(uow.session, [t.id for t in teams if t.id is not None])
        return [_out(t, roles.get(t.id or 0, [])) for t in teams]


def my_teams(actor: Actor) -> list[MyTeamOut]:
    """The teams the acting user belongs to, with their role and each team's health."""
    require_authenticated(actor)
    if actor.user_id is None:
        return []
    with unit_of_work() as uow:
        rows = queries.memberships_of(uow.session, actor.user_id)
        roles = queries.roles_by_team(uow.session, [t.id for _m, t in rows if t.id is not None])
        return [
            MyTeamOut(**_out(team, roles.get(team.id or 0, [])).model_dump(), my_role=m.role)
            for m, team in rows
        ]


def get_team(actor: Actor, team_id: int) -> TeamDetail:
    """One team with its members.

    Raises:
        Unauthenticated, TeamNotFound.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        team = queries.team_by_id(uow.session, team_id)
        if team is None:
            raise TeamNotFound(f"Team {team_id} does not exist.")
        return _detail(uow.session, team, actor)


def can(actor: Actor, team_id: int, action: TeamAction) -> bool:
    """Whether ``actor`` may perform ``action``: for showing buttons; commands check again."""
    try:
        with unit_of_work() as uow:
            authorize(uow.session, actor, team_id, action)
    except (PermissionDenied, Unauthenticated, TeamNotFound):
        return False
    return True


def _out(team: Team, roles: list[TeamRole]) -> TeamOut:
    assert team.id is not None
    return TeamOut(
        id=team.id,
        name=team.name,
        slug=team.slug,
        description=team.description,
        org_tags=list(team.org_tags),
        tech_tags=list(team.tech_tags),
        required_channels=list(team.required_channels),
        member_count=len(roles),
        health_warnings=health_warnings(roles),
        created_at=team.created_at,
    )


def _detail(session: Session, team: Team, actor: Actor) -> TeamDetail:
    assert team.id is not None
    session.flush()
    rows = queries.members(session, team.id)
    base = _out(team, [TeamRole(m.role) for m, _u in rows])
    return TeamDetail(
        **base.model_dump(),
        members=[
            MemberOut(user_id=u.id or 0, name=u.name, email=u.email, role=TeamRole(m.role))
            for m, u in rows
        ],
        my_role=queries.role_of(session, team.id, actor.user_id),
    )
