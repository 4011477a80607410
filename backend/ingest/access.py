"""Who may see and manage ingestion objects: the service's owning team (platform admins and
API keys with the right scope always may)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.catalog.models import Service
from backend.core.actor import Actor, require_authenticated
from backend.core.errors import NotFound, PermissionDenied
from backend.teams import queries as team_queries
from backend.teams.policy import TeamAction, is_allowed


def authorize_service(
    session: Session, actor: Actor, service_id: int, action: TeamAction
) -> Service:
    """Load the service and check ``actor`` may perform ``action`` on its team's objects.

    Raises:
        Unauthenticated: anonymous actor.
        NotFound: no such service.
        PermissionDenied: not allowed (a service without a team: platform admins only).
    """
    require_authenticated(actor)
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(f"Service {service_id} does not exist.")
    if actor.is_platform_admin:
        return service
    role = (
        None
        if service.team_id is None
        else team_queries.role_of(session, service.team_id, actor.user_id)
    )
    if not is_allowed(actor.platform_role, role, action):
        raise PermissionDenied(f"You need a higher role in the team owning '{service.name}'.")
    return service


def visible_service_ids(session: Session, actor: Actor) -> list[int] | None:
    """Services whose alerts ``actor`` may read; None means all (platform admins, API keys)."""
    require_authenticated(actor)
    if actor.is_platform_admin:
        return None
    team_ids = [team.id for _, team in team_queries.memberships_of(session, actor.user_id or -1)]
    rows = session.exec(select(Service.id).where(col(Service.team_id).in_(team_ids))).all()
    return [int(service_id) for service_id in rows if service_id is not None]
