"""``/api/v1/notifications``: the delivery log (each notification with its attempts) and
``/api/v1/notifications/providers``: each provider's circuit breaker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.notifications import queries
from backend.notifications.schemas import NotificationOut, ProviderHealthOut

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Reader = Annotated[Actor, Depends(api_key(Scope.INCIDENTS_READ))]


@router.get("")
async def list_notifications(
    actor: Reader,
    incident_id: Annotated[int | None, Query(gt=0)] = None,
    user_id: Annotated[int | None, Query(gt=0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> list[NotificationOut]:
    """Notifications, newest first, with every delivery attempt (provider, status, response)."""
    return await run_in_threadpool(
        queries.list_notifications, actor, incident_id=incident_id, user_id=user_id, limit=limit
    )


@router.get("/providers")
async def provider_health(actor: Reader) -> list[ProviderHealthOut]:
    """Every provider called so far: breaker state (closed/open/half_open), failures, error."""
    return await run_in_threadpool(queries.list_provider_health, actor)
