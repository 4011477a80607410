"""The paging preview (ROUTE-03): for a service and an instant, who would be paged at which
minute, resolving schedules at each step's own time, with a warning for every way a page
could go nowhere that we can see today."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from backend.catalog.models import Service
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import NotFound, ValidationFailed
from backend.escalation import targets
from backend.escalation.policy import exhausted_after, firings
from backend.escalation.schemas import PagingPreview, PreviewPage, PreviewStep
from backend.notifications.readiness import channel_list, missing_required
from backend.notifications.service import unreachable_users, verified_channels
from backend.teams import queries as team_queries

NOTES = [
    "Each page becomes notifications by the user's rules, sent to their verified contact "
    "methods; a user with none is paged nowhere (see the warnings)."
]


def _not_on_team(session: Session, service: Service, user_ids: list[int]) -> list[str]:
    if service.team_id is None:
        return []
    members = {m.user_id for m, _ in team_queries.members(session, service.team_id)}
    return [f"user {u} is not a member of the service's team" for u in user_ids if u not in members]


def _cannot_be_on_call(
    session: Session,
    service: Service,
    resolution: targets.Resolution,
    unreachable: set[int],
) -> list[str]:
    """USER-03: members paged here who lack a verified method of a kind the team requires
    (the unreachable ones have their own, stronger warning)."""
    if service.team_id is None:
        return []
    gaps = missing_required(session, service.team_id, [r.user_id for r in resolution.recipients])
    return [
        f"{r.name} cannot be on call: the team requires a verified "
        f"{channel_list(gaps[r.user_id])} method"
        for r in resolution.recipients
        if r.user_id in gaps and r.user_id not in unreachable
    ]


def preview_paging(actor: Actor, service_id: int, at: datetime | None = None) -> PagingPreview:
    """Who an incident of ``service_id`` opening at ``at`` (default now) would page, and when.

    Raises:
        Unauthenticated, NotFound (service), ValidationFailed (naive ``at``).
    """
    require_authenticated(actor)
    if at is not None and at.tzinfo is None:
        raise ValidationFailed.field("at", "give a time zone offset (e.g. Z)", loc_prefix="query")
    at = clock.as_utc(at) if at is not None else clock.now()
    with unit_of_work() as uow:
        session = uow.session
        service = session.get(Service, service_id)
        if service is None:
            raise NotFound(f"Service {service_id} does not exist.")
        policy, why = targets.policy_for(session, service)
        if policy is None:
            return PagingPreview(
                service_id=service_id,
                at=at,
                policy_id=None,
                policy_name="",
                policy_source=why,
                steps=[],
                exhausted_after_minutes=None,
                warnings=["No escalation policy applies: an incident here pages nobody."],
                notes=NOTES,
            )
        chain = targets.chain_of(session, policy)
        steps: list[PreviewStep] = []
        warnings: list[str] = []
        for firing in firings(chain):
            when = at + firing.offset
            resolution = targets.resolve_level(session, chain.levels[firing.level], when)
            level_warnings = list(resolution.warnings)
            level_warnings += _not_on_team(
                session, service, [r.user_id for r in resolution.recipients]
            )
            unreachable = set(
                unreachable_users(session, [r.user_id for r in resolution.recipients])
            )
            level_warnings += [
                f"{r.name} has no verified contact method: nobody can notify them"
                for r in resolution.recipients
                if r.user_id in unreachable
            ]
            level_warnings += _cannot_be_on_call(session, service, resolution, unreachable)
            if not resolution.recipients:
                level_warnings.append("this level pages nobody")
            warnings += [f"level {firing.level + 1}: {w}" for w in level_warnings]
            steps.append(
                PreviewStep(
                    minute=firing.offset.total_seconds() / 60,
                    level=firing.level + 1,
                    repeat=firing.cycle,
                    at=when,
                    pages=[
                        PreviewPage(
                            user_id=r.user_id,
                            user_name=r.name,
                            via=r.reason,
                            channels=verified_channels(session, r.user_id),
                        )
                        for r in resolution.recipients
                    ],
                    warnings=level_warnings,
                )
            )
        return PagingPreview(
            service_id=service_id,
            at=at,
            policy_id=policy.id,
            policy_name=policy.name,
            policy_source=why,
            steps=steps,
            exhausted_after_minutes=exhausted_after(chain).total_seconds() / 60,
            warnings=list(dict.fromkeys(warnings)),
            notes=NOTES,
        )
