"""Demo escalation policies: per team, level 1 pages whoever is on call in the team's schedule,
level 2 the team admin, and the chain runs twice. Attached to the team's demo services.
Idempotent: a policy that exists by name is left alone; a service with a policy keeps it."""

from __future__ import annotations

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceUpdate
from backend.core.actor import Actor
from backend.escalation import service as escalation
from backend.escalation.policy import TargetKind
from backend.escalation.schemas import LevelIn, PolicyCreate, TargetIn

# team: (schedule, team admin's email)
DEMO_POLICIES = {
    "Platform": ("Platform follow-the-sun", "alice@demo.oncall.local"),
    "Payments": ("Payments primary", "dave@demo.oncall.local"),
}


def ensure_policies(
    actor: Actor,
    user_ids: dict[str, int],
    team_ids: dict[str, int],
    schedule_ids: dict[str, int],
    service_teams: dict[int, str],
) -> dict[str, int]:
    """Create the missing demo policies and attach them; returns their ids by team name."""
    ids: dict[str, int] = {}
    for team, (schedule, admin) in DEMO_POLICIES.items():
        name = f"{team} default"
        existing = escalation.list_policies(actor, team_id=team_ids[team])
        found = next((p.id for p in existing if p.name == name), None)
        if found is None:
            found = escalation.create_policy(
                actor,
                PolicyCreate(
                    team_id=team_ids[team],
                    name=name,
                    repeat=1,
                    is_default=True,
                    levels=[
                        LevelIn(
                            targets=[TargetIn(type=TargetKind.SCHEDULE, id=schedule_ids[schedule])]
                        ),
                        LevelIn(targets=[TargetIn(type=TargetKind.USER, id=user_ids[admin])]),
                    ],
                ),
            ).id
        ids[team] = found
    for service_id, team in service_teams.items():
        if catalog.get_service(actor, service_id).escalation_policy_id is None:
            catalog.update_service(actor, service_id, ServiceUpdate(escalation_policy_id=ids[team]))
    return ids
