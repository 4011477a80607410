"""``/api/v1/integrations`` and friends: manage integrations, routing rules, heartbeat
monitors and maintenance windows (``integrations:read`` / ``integrations:write``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.ingest import heartbeats, integrations, maintenance, probe, rules
from backend.ingest.models import DeliveryOutcome
from backend.ingest.schemas import (
    DeliveryOut,
    HeartbeatCreate,
    HeartbeatCreated,
    HeartbeatOut,
    IngestResult,
    IntegrationCreate,
    IntegrationOut,
    IntegrationSecret,
    IntegrationUpdate,
    MaintenanceWindowCreate,
    MaintenanceWindowOut,
    RoutingRuleCreate,
    RoutingRuleOut,
)

router = APIRouter(prefix="/api/v1", tags=["integrations"])
Reader = Annotated[Actor, Depends(api_key(Scope.INTEGRATIONS_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.INTEGRATIONS_WRITE))]


@router.get("/integrations")
async def list_integrations(actor: Reader, service_id: int | None = None) -> list[IntegrationOut]:
    """Integrations, optionally of one service."""
    return await run_in_threadpool(integrations.list_integrations, actor, service_id=service_id)


@router.post("/integrations", status_code=201)
async def create_integration(actor: Writer, body: IntegrationCreate) -> IntegrationSecret:
    """Create an integration. The secret is in this answer only."""
    return await run_in_threadpool(integrations.create_integration, actor, body)


@router.get("/integrations/{integration_id}")
async def get_integration(actor: Reader, integration_id: int) -> IntegrationOut:
    """One integration."""
    return await run_in_threadpool(integrations.get_integration, actor, integration_id)


@router.patch("/integrations/{integration_id}")
async def update_integration(
    actor: Writer, integration_id: int, body: IntegrationUpdate
) -> IntegrationOut:
    """Rename, re-home, tune or disable an integration."""
    return await run_in_threadpool(integrations.update_integration, actor, integration_id, body)


@router.delete("/integrations/{integration_id}", status_code=204)
async def delete_integration(actor: Writer, integration_id: int) -> Response:
    """Delete an integration (its alerts stay)."""
    await run_in_threadpool(integrations.delete_integration, actor, integration_id)
    return Response(status_code=204)


@router.post("/integrations/{integration_id}/rotate-secret")
async def rotate_secret(actor: Writer, integration_id: int) -> IntegrationSecret:
    """Issue a new secret; the old one keeps working for the grace period (24 h)."""
    return await run_in_threadpool(integrations.rotate_secret, actor, integration_id)


@router.post("/integrations/{integration_id}/test", status_code=202)
async def send_test_alert(actor: Writer, integration_id: int) -> IngestResult:
    """Send an INFO test alert through the integration's own endpoint and format."""
    return await run_in_threadpool(probe.send_test_alert, actor, integration_id)


@router.get("/integrations/{integration_id}/deliveries")
async def list_deliveries(
    actor: Reader,
    integration_id: int,
    outcome: DeliveryOutcome | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The delivery log, newest first; page with ``before_id``; ``since`` keeps the
    deliveries received at or after that time."""
    return await run_in_threadpool(
        integrations.list_deliveries,
        actor,
        integration_id,
        outcome=outcome,
        before_id=before_id,
        since=since,
        limit=limit,
    )


@router.get("/routing-rules")
async def list_rules(actor: Reader) -> list[RoutingRuleOut]:
    """Routing rules in evaluation order."""
    return await run_in_threadpool(rules.list_rules, actor)


@router.post("/routing-rules", status_code=201)
async def create_rule(actor: Writer, body: RoutingRuleCreate) -> RoutingRuleOut:
    """Add a routing rule."""
    return await run_in_threadpool(rules.create_rule, actor, body)


@router.delete("/routing-rules/{rule_id}", status_code=204)
async def delete_rule(actor: Writer, rule_id: int) -> Response:
    """Delete a routing rule."""
    await run_in_threadpool(rules.delete_rule, actor, rule_id)
    return Response(status_code=204)


@router.get("/heartbeats")
async def list_heartbeats(actor: Reader, service_id: int) -> list[HeartbeatOut]:
    """A service's heartbeat monitors."""
    return await run_in_threadpool(heartbeats.list_monitors, actor, service_id)


@router.post("/heartbeats", status_code=201)
async def create_heartbeat(actor: Writer, body: HeartbeatCreate) -> HeartbeatCreated:
    """Create a heartbeat monitor; its check-in URL is in this answer only."""
    return await run_in_threadpool(heartbeats.create_monitor, actor, body)


@router.delete("/heartbeats/{monitor_id}", status_code=204)
async def delete_heartbeat(actor: Writer, monitor_id: int) -> Response:
    """Delete a heartbeat monitor (an incident it opened stays open)."""
    await run_in_threadpool(heartbeats.delete_monitor, actor, monitor_id)
    return Response(status_code=204)


@router.get("/maintenance-windows")
async def list_windows(
    actor: Reader, service_id: int, include_past: bool = False
) -> list[MaintenanceWindowOut]:
    """A service's maintenance windows."""
    return await run_in_threadpool(
        maintenance.list_windows, actor, service_id, include_past=include_past
    )


@router.post("/maintenance-windows", status_code=201)
async def create_window(actor: Writer, body: MaintenanceWindowCreate) -> MaintenanceWindowOut:
    """Schedule a maintenance window."""
    return await run_in_threadpool(maintenance.create_window, actor, body)


@router.delete("/maintenance-windows/{window_id}", status_code=204)
async def delete_window(actor: Writer, window_id: int) -> Response:
    """Cancel a maintenance window."""
    await run_in_threadpool(maintenance.delete_window, actor, window_id)
    return Response(status_code=204)
