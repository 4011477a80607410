"""``/api/v1/alerts``: alert search with filters and cursor pagination (``alerts:read``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.incidents.models import Severity
from backend.ingest import alerts
from backend.ingest.models import AlertStatus
from backend.ingest.queries import AlertFilter
from backend.ingest.schemas import AlertOut, AlertPage

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Actor, Depends(api_key(Scope.ALERTS_READ))]


@router.get("")
async def search_alerts(
    actor: Reader,
    service_id: int | None = None,
    incident_id: int | None = None,
    severity: Severity | None = None,
    status: AlertStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    """Alerts, newest first. Continue with ``cursor`` = the previous page's ``next_cursor``."""
    flt = AlertFilter(
        service_id=service_id, incident_id=incident_id, severity=severity, status=status,
        since=since, until=until, text=q,
    )  # fmt: skip
    return await run_in_threadpool(alerts.search_alerts, actor, flt, cursor=cursor, limit=limit)


@router.get("/{alert_id}")
async def get_alert(actor: Reader, alert_id: int) -> AlertOut:
    """One alert."""
    return await run_in_threadpool(alerts.get_alert, actor, alert_id)
