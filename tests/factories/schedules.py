"""Teams with people in every role, and schedules, made through the product's services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from backend.core.actor import PlatformRole
from backend.identity.models import User
from backend.schedules import service as schedules
from backend.schedules.schemas import LayerCreate, ScheduleCreate, WindowIn
from backend.teams.models import TeamRole
from tests.factories.identity import actor_of, add_member, make_team, make_user


@dataclass
class Crew:
    team_id: int
    admin: User
    ann: User  # responders ann, ben, cat rotate
    ben: User
    cat: User
    observer: User
    outsider: User
    root: User  # platform admin

    def id(self, who: str) -> int:
        user: User = getattr(self, who)
        assert user.id is not None
        return user.id


def make_crew(team_name: str = "Platform") -> Crew:
    admin = make_user("Admin")
    team_id = make_team(admin, team_name)
    people = {}
    for name, role in (
        ("ann", TeamRole.RESPONDER),
        ("ben", TeamRole.RESPONDER),
        ("cat", TeamRole.RESPONDER),
        ("observer", TeamRole.OBSERVER),
    ):
        person = make_user(name.title())
        add_member(admin, team_id, person, role)
        people[name] = person
    return Crew(
        team_id=team_id,
        admin=admin,
        outsider=make_user("Outsider"),
        root=make_user("Root", platform_role=PlatformRole.PLATFORM_ADMIN),
        **people,
    )


def make_schedule(
    crew: Crew,
    *,
    zone: str = "Europe/Berlin",
    rule: str = "FREQ=DAILY",
    handoff: time = time(9),
    starts_on: date = date(2026, 3, 2),
    restrictions: list[WindowIn] | None = None,
) -> int:
    """A schedule with one layer rotating ann, ben, cat."""
    admin = actor_of(crew.admin)
    detail = schedules.create_schedule(
        admin, ScheduleCreate(team_id=crew.team_id, name="Primary", time_zone=zone)
    )
    schedules.add_layer(
        admin,
        detail.id,
        LayerCreate(
            name="Rotation",
            participants=[crew.id("ann"), crew.id("ben"), crew.id("cat")],
            rrule=rule,
            handoff_time=handoff,
            starts_on=starts_on,
            restrictions=restrictions or [],
        ),
    )
    return detail.id
