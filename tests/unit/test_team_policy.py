"""The permission matrix and health rules, as pure functions."""

from __future__ import annotations

import pytest

from backend.core.actor import PlatformRole
from backend.teams.models import TeamRole
from backend.teams.policy import TeamAction, health_warnings, is_allowed, would_orphan

U, PA = PlatformRole.USER, PlatformRole.PLATFORM_ADMIN
OBS, R, A = TeamRole.OBSERVER, TeamRole.RESPONDER, TeamRole.TEAM_ADMIN

# (platform role, team role, action) -> allowed
MATRIX = {
    TeamAction.VIEW: {None: False, OBS: True, R: True, A: True},
    TeamAction.RESPOND: {None: False, OBS: False, R: True, A: True},
    TeamAction.EDIT: {None: False, OBS: False, R: False, A: True},
    TeamAction.MANAGE_MEMBERS: {None: False, OBS: False, R: False, A: True},
    TeamAction.DELETE: {None: False, OBS: False, R: False, A: True},
}


@pytest.mark.parametrize(
    ("action", "team_role", "expected"),
    [(action, role, allowed) for action, row in MATRIX.items() for role, allowed in row.items()],
)
def test_user_permissions_follow_team_role(
    action: TeamAction, team_role: TeamRole | None, expected: bool
) -> None:
    assert is_allowed(U, team_role, action) is expected


@pytest.mark.parametrize("action", list(TeamAction))
@pytest.mark.parametrize("team_role", [None, OBS, R, A])
def test_platform_admin_bypasses_team_checks(
    action: TeamAction, team_role: TeamRole | None
) -> None:
    assert is_allowed(PA, team_role, action) is True


def test_every_action_is_in_the_matrix() -> None:
    assert set(MATRIX) == set(TeamAction)


@pytest.mark.parametrize(
    ("_case", "roles", "expected"),
    [
        ("healthy", [A, R, R], []),
        ("admin counts as responder", [A, A, R], []),
        (
            "two responders",
            [A, R, OBS, OBS],
            ["Only 2 responders: a sustainable rotation needs at least 3."],
        ),
        (
            "empty",
            [],
            [
                "Only 0 responders: a sustainable rotation needs at least 3.",
                "No team admin: nobody can change this team but platform admins.",
            ],
        ),
        (
            "no admin",
            [R, R, R],
            ["No team admin: nobody can change this team but platform admins."],
        ),
        (
            "one responder",
            [A],
            ["Only 1 responder: a sustainable rotation needs at least 3."],
        ),
    ],
)
def test_health_warnings(_case: str, roles: list[TeamRole], expected: list[str]) -> None:
    assert health_warnings(roles) == expected


@pytest.mark.parametrize(
    ("roles_after", "expected"),
    [([], False), ([A], False), ([R, OBS], True), ([R, A], False)],
)
def test_would_orphan(roles_after: list[TeamRole], expected: bool) -> None:
    assert would_orphan(roles_after) is expected
