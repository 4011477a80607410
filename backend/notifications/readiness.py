""" "Can be on call" (USER-03): a user counts as able to be on call for a team only with a
verified contact method of every kind the team requires (``team.required_channels``).

Read by the paging preview (a warning per member missing a kind) and by /notifications (the
signed-in user's own gaps, team by team).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.notifications.models import CHANNEL_LABELS, ContactMethod
from backend.teams.models import Team, TeamMembership

NAMES = CHANNEL_LABELS


def channel_list(kinds: list[str]) -> str:
    """ "SMS and voice", "e-mail, SMS and voice"."""
    names = [NAMES.get(k, k) for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _verified_kinds(session: Session, user_ids: list[int]) -> dict[int, set[str]]:
    kinds: dict[int, set[str]] = {u: set() for u in user_ids}
    for user_id, kind in session.execute(
        select(col(ContactMethod.user_id), col(ContactMethod.kind)).where(
            col(ContactMethod.user_id).in_(user_ids),
            col(ContactMethod.verified_at).is_not(None),
        )
    ).all():
        kinds[int(user_id)].add(str(kind))  # a StrEnum: its value
    return kinds


def missing_required(session: Session, team_id: int, user_ids: list[int]) -> dict[int, list[str]]:
    """Of ``user_ids``, those missing a verified method of a kind ``team_id`` requires, with
    the missing kinds in the team's order. Empty when the team requires nothing."""
    team = session.get(Team, team_id)
    required = list(team.required_channels) if team is not None else []
    if not required or not user_ids:
        return {}
    verified = _verified_kinds(session, list(dict.fromkeys(user_ids)))
    gaps = {u: [k for k in required if k not in kinds] for u, kinds in verified.items()}
    return {u: missing for u, missing in gaps.items() if missing}


def my_gaps(actor: Actor, user_id: int) -> list[str]:
    """For each of the user's teams whose required channels they lack, one sentence:
    "Team Platform requires a verified SMS method: you cannot be on call for it yet."

    Raises:
        Unauthenticated, PermissionDenied (someone else's, unless a platform admin).
    """
    require_authenticated(actor)
    if actor.user_id != user_id and not actor.is_platform_admin:
        raise PermissionDenied("Only the user (or a platform admin) sees this.")
    with unit_of_work() as uow:
        session = uow.session
        teams = session.scalars(
            select(Team)
            .join(TeamMembership, col(TeamMembership.team_id) == Team.id)
            .where(col(TeamMembership.user_id) == user_id)
            .order_by(col(Team.name))
        ).all()
        out: list[str] = []
        for team in teams:
            missing = missing_required(session, team.id or 0, [user_id]).get(user_id)
            if missing:
                out.append(
                    f"Team {team.name} requires a verified {channel_list(missing)} method: "
                    "you cannot be on call for it yet."
                )
        return out
