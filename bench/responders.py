"""A team with one responder on call, made through the product's services (``Stack.use_here``
first): what the paging and escalation benchmarks page.

The responder is the direct target of a one-level policy (30-minute timeout, so the second
step is far outside any run) and has one verified e-mail contact method on the outbox provider
(the embedded default, the one every install has). With the default notification rules a
high-urgency page notifies every verified method at once, and the SMS step five minutes later
finds no SMS method, so each page is exactly one notification.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True)
class OnCall:
    team_id: int
    user_id: int
    policy_id: int
    service_id: int
    integration_id: int
    integration_key: str
    secret: str


def make_on_call(label: str) -> OnCall:
    from backend.catalog import service as catalog
    from backend.catalog.schemas import ServiceCreate
    from backend.core.actor import Actor
    from backend.escalation.policy import TargetKind
    from backend.ingest import integrations
    from backend.ingest.models import IntegrationType
    from backend.ingest.schemas import IntegrationCreate
    from backend.notifications.models import ChannelKind
    from backend.teams import service as teams
    from backend.teams.models import TeamRole
    from backend.teams.schemas import MemberAdd, TeamCreate
    from tests.factories.escalation import make_policy
    from tests.factories.identity import make_user
    from tests.factories.notifications import verified_method

    admin, tag = Actor.cli(), secrets.token_hex(3)
    team = teams.create_team(admin, TeamCreate(name=f"{label} {tag}"))
    user = make_user(f"{label} responder {tag}", email=f"{label}-{tag}@bench.example")
    assert user.id is not None
    teams.add_member(admin, team.id, MemberAdd(user_id=user.id, role=TeamRole.RESPONDER))
    policy_id = make_policy(
        team.id, f"{label} policy", levels=[[(TargetKind.USER, user.id)]], timeouts=[30]
    )
    verified_method(user.id, ChannelKind.EMAIL, f"{label}-{tag}@bench.example")
    service_id = catalog.create_service(
        admin,
        ServiceCreate(name=f"{label} {tag}", team_id=team.id, escalation_policy_id=policy_id),
    ).id
    created = integrations.create_integration(
        admin,
        IntegrationCreate(
            name=f"{label} {tag}", type=IntegrationType.GENERIC, service_id=service_id
        ),
    )
    assert created.integration.id is not None
    return OnCall(
        team.id,
        user.id,
        policy_id,
        service_id,
        created.integration.id,
        created.integration.key,
        created.secret,
    )


def retire_incidents(db_url: str, service_id: int) -> None:
    """Resolve a finished run's incidents so the next run starts with no pending escalations
    but its own (bench bookkeeping, straight in SQL: nothing is paged by it)."""
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(
            "UPDATE incident SET status = 'RESOLVED', resolved_at = now(), "
            "escalation_token = NULL, next_escalation_at = NULL, escalation_state = 'stopped' "
            "WHERE service_id = %s AND status IN ('OPEN', 'ACKNOWLEDGED')",
            (service_id,),
        )


def epoch(value: datetime) -> float:
    """Seconds since the epoch of a database timestamp (stored in UTC)."""
    from datetime import UTC

    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
