"""``/api/v1/services``: the service catalogue and its dependency graph (API keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.catalog import service as catalog
from backend.catalog.schemas import (
    ServiceCreate,
    ServiceDetail,
    ServiceImpact,
    ServiceOut,
    ServiceUpdate,
)
from backend.core.actor import Actor

router = APIRouter(prefix="/api/v1/services", tags=["services"])
Reader = Annotated[Actor, Depends(api_key(Scope.SERVICES_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.SERVICES_WRITE))]


@router.get("")
async def list_services(
    actor: Reader,
    team_id: Annotated[int | None, Query(gt=0)] = None,
    tag: str = "",
    q: str = "",
) -> list[ServiceOut]:
    """Every service, by name; filter by owning team, tag and text (name, slug, description)."""
    return await run_in_threadpool(catalog.list_services, actor, team_id=team_id, tag=tag, text=q)


@router.post("", status_code=201)
async def create_service(actor: Writer, body: ServiceCreate) -> ServiceDetail:
    """Create a service owned by a team."""
    return await run_in_threadpool(catalog.create_service, actor, body)


@router.get("/{service_id}")
async def get_service(actor: Reader, service_id: int) -> ServiceDetail:
    """One service with its direct dependencies and dependents."""
    return await run_in_threadpool(catalog.get_service, actor, service_id)


@router.patch("/{service_id}")
async def update_service(actor: Writer, service_id: int, body: ServiceUpdate) -> ServiceDetail:
    """Change the fields sent; ``escalation_policy_id: null`` clears the policy."""
    return await run_in_threadpool(catalog.update_service, actor, service_id, body)


@router.delete("/{service_id}", status_code=204)
async def delete_service(actor: Writer, service_id: int) -> Response:
    """Delete a service (409 ``service_has_dependents`` while others depend on it)."""
    await run_in_threadpool(catalog.delete_service, actor, service_id)
    return Response(status_code=204)


@router.post("/{service_id}/dependencies/{depends_on_id}", status_code=201)
async def add_dependency(actor: Writer, service_id: int, depends_on_id: int) -> ServiceDetail:
    """Declare that the service depends on another (409 ``dependency_cycle`` on a cycle)."""
    return await run_in_threadpool(catalog.add_dependency, actor, service_id, depends_on_id)


@router.delete("/{service_id}/dependencies/{depends_on_id}")
async def remove_dependency(actor: Writer, service_id: int, depends_on_id: int) -> ServiceDetail:
    """Remove a dependency."""
    return await run_in_threadpool(catalog.remove_dependency, actor, service_id, depends_on_id)


@router.get("/{service_id}/impact")
async def get_impact(
    actor: Reader,
    service_id: int,
    max_depth: Annotated[int | None, Query(ge=1, le=50)] = None,
) -> ServiceImpact:
    """Upstream (what it depends on) and downstream (what breaks when it breaks), with depths."""
    return await run_in_threadpool(catalog.get_impact, actor, service_id, max_depth=max_depth)
