"""``/api/v1/incidents``: list, detail, lifecycle commands, bulk, metrics (API keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.escalation import outbox
from backend.escalation.schemas import PageRequestOut
from backend.incidents import metrics, queries
from backend.incidents import service as incidents
from backend.incidents.models import IncidentStatus, Severity
from backend.incidents.schemas import (
    BulkIn,
    BulkResult,
    IncidentDetail,
    IncidentFilter,
    IncidentMetrics,
    IncidentPage,
    IncidentUpdate,
    NoteIn,
    ReassignIn,
    ResolveIn,
)

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
Reader = Annotated[Actor, Depends(api_key(Scope.INCIDENTS_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.INCIDENTS_WRITE))]


@router.get("")
async def list_incidents(
    actor: Reader,
    status: Annotated[list[IncidentStatus] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    service_id: Annotated[list[int] | None, Query()] = None,
    team_id: Annotated[list[int] | None, Query()] = None,
    assignee_id: Annotated[int | None, Query(gt=0)] = None,
    opened_after: datetime | None = None,
    opened_before: datetime | None = None,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> IncidentPage:
    """Incidents, newest opened first; pass ``next_cursor`` back as ``cursor`` for more."""
    flt = IncidentFilter(
        statuses=status or [],
        severities=severity or [],
        service_ids=service_id or [],
        team_ids=team_id or [],
        assignee_id=assignee_id,
        opened_after=opened_after,
        opened_before=opened_before,
        text=q,
    )
    return await run_in_threadpool(queries.list_incidents, actor, flt, cursor=cursor, limit=limit)


@router.get("/metrics")
async def get_metrics(
    actor: Reader,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_seconds: Annotated[int, Query(ge=60, le=31 * 86400)] = 3600,
    service_id: Annotated[list[int] | None, Query()] = None,
) -> IncidentMetrics:
    """Open now, MTTA and MTTR over ``[start, end)`` (default the last 24 h) and a series."""
    return await run_in_threadpool(
        metrics.incident_metrics,
        actor,
        start,
        end,
        bucket_seconds=bucket_seconds,
        service_ids=service_id,
    )


@router.post("/bulk")
async def bulk(actor: Writer, body: BulkIn) -> BulkResult:
    """Acknowledge or resolve up to 100 incidents; each item reports its own outcome."""
    return await run_in_threadpool(incidents.bulk, actor, body)


@router.get("/{incident_id}")
async def get_incident(actor: Reader, incident_id: int) -> IncidentDetail:
    """One incident with its alerts, escalation and timeline."""
    return await run_in_threadpool(queries.get_incident, actor, incident_id)


@router.patch("/{incident_id}")
async def update_incident(actor: Writer, incident_id: int, body: IncidentUpdate) -> IncidentDetail:
    """Edit title, severity, priority or details."""
    return await run_in_threadpool(incidents.update_incident, actor, incident_id, body)


@router.post("/{incident_id}/acknowledge")
async def acknowledge(actor: Writer, incident_id: int) -> IncidentDetail:
    """Acknowledge (409 ``invalid_transition`` unless OPEN); stops the escalation."""
    return await run_in_threadpool(incidents.acknowledge, actor, incident_id)


@router.post("/{incident_id}/resolve")
async def resolve(actor: Writer, incident_id: int, body: ResolveIn | None = None) -> IncidentDetail:
    """Resolve, with an optional markdown resolution note."""
    note = body.note if body is not None else ""
    return await run_in_threadpool(incidents.resolve, actor, incident_id, note)


@router.post("/{incident_id}/close")
async def close(actor: Writer, incident_id: int) -> IncidentDetail:
    """Close a resolved incident."""
    return await run_in_threadpool(incidents.close, actor, incident_id)


@router.post("/{incident_id}/reopen")
async def reopen(actor: Writer, incident_id: int) -> IncidentDetail:
    """Reopen a resolved incident; escalation starts again."""
    return await run_in_threadpool(incidents.reopen, actor, incident_id)


@router.post("/{incident_id}/reassign")
async def reassign(actor: Writer, incident_id: int, body: ReassignIn) -> IncidentDetail:
    """Assign to a responder of the owning team."""
    return await run_in_threadpool(incidents.reassign, actor, incident_id, body.user_id)


@router.post("/{incident_id}/notes", status_code=201)
async def add_note(actor: Writer, incident_id: int, body: NoteIn) -> IncidentDetail:
    """Add a markdown note to the timeline."""
    return await run_in_threadpool(incidents.add_note, actor, incident_id, body.body)


@router.post("/{incident_id}/escalate")
async def escalate(actor: Writer, incident_id: int) -> IncidentDetail:
    """Escalate now: fire the pending level at once."""
    return await run_in_threadpool(incidents.escalate_now, actor, incident_id)


@router.get("/{incident_id}/page-requests")
async def page_requests(actor: Reader, incident_id: int) -> list[PageRequestOut]:
    """The pages escalation requested for this incident, newest first."""
    return await run_in_threadpool(
        outbox.list_page_requests, actor, incident_id=incident_id, limit=200
    )
