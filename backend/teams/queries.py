"""Reads for teams and memberships."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.identity.models import User
from backend.teams.models import Team, TeamMembership, TeamRole


def team_by_id(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def role_of(session: Session, team_id: int, user_id: int | None) -> TeamRole | None:
    if user_id is None:
        return None
    membership = session.get(TeamMembership, (team_id, user_id))
    return None if membership is None else TeamRole(membership.role)


def members(session: Session, team_id: int) -> list[tuple[TeamMembership, User]]:
    stmt = (
        select(TeamMembership, User)
        .join(User, col(User.id) == TeamMembership.user_id)
        .where(TeamMembership.team_id == team_id)
        .order_by(col(User.name))
    )
    return [(m, u) for m, u in session.exec(stmt)]


def roles_by_team(session: Session, team_ids: list[int]) -> dict[int, list[TeamRole]]:
    result: dict[int, list[TeamRole]] = {tid: [] for tid in team_ids}
    if not team_ids:
        return result
    stmt = select(TeamMembership).where(col(TeamMembership.team_id).in_(team_ids))
    for membership in session.exec(stmt):
        result[membership.team_id].append(TeamRole(membership.role))
    return result


def all_teams(session: Session, *, text: str = "", tag: str = "") -> list[Team]:
    stmt = select(Team).order_by(col(Team.name))
    if text:
        stmt = stmt.where(col(Team.name).ilike(f"%{text}%"))
    teams = list(session.exec(stmt))
    if tag:
        teams = [t for t in teams if tag in t.org_tags or tag in t.tech_tags]
    return teams


def teams_administered_by(session: Session, user_id: int) -> list[int]:
    stmt = select(TeamMembership.team_id).where(
        TeamMembership.user_id == user_id, TeamMembership.role == TeamRole.TEAM_ADMIN
    )
    return list(session.exec(stmt))


def memberships_of(session: Session, user_id: int) -> list[tuple[TeamMembership, Team]]:
    stmt = (
        select(TeamMembership, Team)
        .join(Team, col(Team.id) == TeamMembership.team_id)
        .where(TeamMembership.user_id == user_id)
        .order_by(col(Team.name))
    )
    return [(m, t) for m, t in session.exec(stmt)]
