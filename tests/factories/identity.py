"""Making users, actors and teams for tests, through the same services the product uses."""

from __future__ import annotations

from backend.core.actor import Actor, PlatformRole
from backend.core.db import unit_of_work
from backend.identity import sessions
from backend.identity.models import User
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberAdd, TeamCreate

_counter = {"n": 0}


def make_user(
    name: str | None = None,
    *,
    email: str | None = None,
    platform_role: PlatformRole = PlatformRole.USER,
    time_zone: str = "UTC",
) -> User:
    _counter["n"] += 1
    n = _counter["n"]
    with unit_of_work() as uow:
        user = User(
            email=email or f"user{n}@example.org",
            name=name or f"User {n}",
            platform_role=platform_role,
            time_zone=time_zone,
        )
        uow.session.add(user)
        uow.session.flush()
        return user


def actor_of(user: User) -> Actor:
    return sessions.actor_for(user, ip="127.0.0.1", user_agent="pytest")


def make_team(owner: User, name: str = "Platform", **kwargs: object) -> int:
    detail = teams.create_team(actor_of(owner), TeamCreate(name=name, **kwargs))  # type: ignore[arg-type]
    return detail.id


def add_member(owner: User, team_id: int, user: User, role: TeamRole) -> None:
    assert user.id is not None
    teams.add_member(actor_of(owner), team_id, MemberAdd(user_id=user.id, role=role))
