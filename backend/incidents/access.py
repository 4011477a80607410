"""Loading incidents for commands, who may respond to them, and announcing changes.

Responding (acknowledge, resolve, reassign, notes, edits, escalate) needs RESPONDER or more
in the team that owns the incident's service, or a platform admin. Incidents of the platform
triage service (owned by no team) may be handled by any RESPONDER of any team: they are
unrouted by definition, and whoever notices one first should be able to take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend.catalog.models import Service
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork
from backend.core.errors import PermissionDenied
from backend.core.events import DomainEvent, get_bus
from backend.incidents.errors import IncidentNotFound
from backend.incidents.models import Incident
from backend.teams import queries as team_queries
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.policy import ROLE_RANK, TeamAction


@dataclass(frozen=True)
class Loaded:
    incident: Incident
    service: Service

    @property
    def id(self) -> int:
        assert self.incident.id is not None
        return self.incident.id


def load(session: Session, incident_id: int) -> Loaded:
    """Raises IncidentNotFound."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise IncidentNotFound(f"Incident {incident_id} does not exist.")
    service = session.get(Service, incident.service_id)
    assert service is not None  # RESTRICT keeps the service while incidents exist
    return Loaded(incident, service)


def _responds_anywhere(session: Session, user_id: int | None) -> bool:
    if user_id is None:
        return False
    need = ROLE_RANK[TeamRole.RESPONDER]
    return any(ROLE_RANK[m.role] >= need for m, _ in team_queries.memberships_of(session, user_id))


def authorize_respond(session: Session, actor: Actor, service: Service) -> None:
    """Raises Unauthenticated or PermissionDenied unless ``actor`` may respond."""
    require_authenticated(actor)
    if actor.is_platform_admin:
        return
    if service.team_id is None:
        if not _responds_anywhere(session, actor.user_id):
            raise PermissionDenied("Only responders of a team handle triage incidents.")
        return
    teams.authorize(session, actor, service.team_id, TeamAction.RESPOND)


def can_respond(session: Session, actor: Actor, service: Service) -> bool:
    try:
        authorize_respond(session, actor, service)
    except (PermissionDenied, IncidentNotFound):
        return False
    return True


def topics(incident_id: int, service: Service) -> tuple[str, ...]:
    base = ("incidents", f"incident:{incident_id}", f"service:{service.id}")
    return base if service.team_id is None else (*base, f"team:{service.team_id}")


def publish(uow: UnitOfWork, actor: Actor, name: str, loaded: Loaded, **payload: Any) -> None:
    """Announce ``name`` after commit to every screen that shows this incident."""
    event = DomainEvent(
        name=name,
        payload={
            "incident_id": loaded.id,
            "service_id": loaded.service.id,
            "status": loaded.incident.status.value,
            "title": loaded.incident.title,
            **payload,
        },
        topics=topics(loaded.id, loaded.service),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))
