"""The page-request outbox: what escalation asked to be paged, newest first.

Until the notifications issue delivers pages, this list (and each incident's timeline) is
where they show.
"""

from __future__ import annotations

from sqlmodel import col, select

from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.escalation.models import PageRequest
from backend.escalation.schemas import PageRequestOut
from backend.identity.models import User
from backend.incidents.models import Incident

MAX_LIMIT = 200


def list_page_requests(
    actor: Actor,
    *,
    incident_id: int | None = None,
    user_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[PageRequestOut]:
    """Page requests, newest first, optionally for one incident or one user.

    Raises:
        Unauthenticated.
    """
    require_authenticated(actor)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = (
        select(PageRequest, Incident.title, User.name)
        .join(Incident, col(Incident.id) == PageRequest.incident_id)
        .join(User, col(User.id) == PageRequest.user_id)
        .order_by(col(PageRequest.id).desc())
        .limit(limit)
    )
    if incident_id is not None:
        stmt = stmt.where(PageRequest.incident_id == incident_id)
    if user_id is not None:
        stmt = stmt.where(PageRequest.user_id == user_id)
    if before_id is not None:
        stmt = stmt.where(col(PageRequest.id) < before_id)
    with unit_of_work() as uow:
        return [
            PageRequestOut(
                id=page.id or 0,
                incident_id=page.incident_id,
                incident_title=title,
                user_id=page.user_id,
                user_name=name,
                level=page.level + 1,
                repeat=page.repeat,
                schedule_id=page.schedule_id,
                status=page.status.value,
                reason=page.reason,
                created_at=page.created_at,
            )
            for page, title, name in uow.session.exec(stmt).all()
        ]
