"""Pure rules: who may do what to a team, and when a team is unhealthy. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from backend.core.actor import PlatformRole
from backend.teams.models import TeamRole

ROLE_RANK: dict[TeamRole, int] = {
    TeamRole.OBSERVER: 1,
    TeamRole.RESPONDER: 2,
    TeamRole.TEAM_ADMIN: 3,
}
MIN_RESPONDERS = 3


class TeamAction(StrEnum):
    VIEW = "view"
    RESPOND = "respond"  # acknowledge/resolve the team's incidents (later issues)
    EDIT = "edit"
    MANAGE_MEMBERS = "manage_members"
    DELETE = "delete"


# The least team role each action needs. Platform admins bypass team checks.
REQUIRED_ROLE: dict[TeamAction, TeamRole] = {
    TeamAction.VIEW: TeamRole.OBSERVER,
    TeamAction.RESPOND: TeamRole.RESPONDER,
    TeamAction.EDIT: TeamRole.TEAM_ADMIN,
    TeamAction.MANAGE_MEMBERS: TeamRole.TEAM_ADMIN,
    TeamAction.DELETE: TeamRole.TEAM_ADMIN,
}


def is_allowed(platform_role: PlatformRole, team_role: TeamRole | None, action: TeamAction) -> bool:
    """Whether someone with these roles may perform ``action`` on the team."""
    if platform_role is PlatformRole.PLATFORM_ADMIN:
        return True
    if team_role is None:
        return False
    return ROLE_RANK[team_role] >= ROLE_RANK[REQUIRED_ROLE[action]]


def health_warnings(roles: Iterable[TeamRole]) -> list[str]:
    """Human-readable warnings for a team with these member roles."""
    role_list = list(roles)
    warnings: list[str] = []
    responders = sum(1 for r in role_list if ROLE_RANK[r] >= ROLE_RANK[TeamRole.RESPONDER])
    if responders < MIN_RESPONDERS:
        warnings.append(
            f"Only {responders} responder{'s' if responders != 1 else ''}: "
            f"a sustainable rotation needs at least {MIN_RESPONDERS}."
        )
    if TeamRole.TEAM_ADMIN not in role_list:
        warnings.append("No team admin: nobody can change this team but platform admins.")
    return warnings


def would_orphan(roles_after: Iterable[TeamRole]) -> bool:
    """True when members would remain but none of them a team admin."""
    remaining = list(roles_after)
    return bool(remaining) and TeamRole.TEAM_ADMIN not in remaining
