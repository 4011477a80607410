"""``/api/v1/escalation-policies``: policies, the paging preview; ``/api/v1/page-requests``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.escalation import outbox, preview
from backend.escalation import service as policies
from backend.escalation.schemas import (
    PageRequestOut,
    PagingPreview,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
)

router = APIRouter(prefix="/api/v1/escalation-policies", tags=["escalation"])
outbox_router = APIRouter(prefix="/api/v1/page-requests", tags=["escalation"])
Reader = Annotated[Actor, Depends(api_key(Scope.ESCALATION_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.ESCALATION_WRITE))]


@router.get("")
async def list_policies(
    actor: Reader, team_id: Annotated[int | None, Query(gt=0)] = None
) -> list[PolicyOut]:
    """Every policy, or a team's."""
    return await run_in_threadpool(policies.list_policies, actor, team_id=team_id)


@router.post("", status_code=201)
async def create_policy(actor: Writer, body: PolicyCreate) -> PolicyOut:
    """Create a policy (a team's first policy becomes its default)."""
    return await run_in_threadpool(policies.create_policy, actor, body)


@router.get("/preview")
async def preview_paging(
    actor: Reader, service_id: Annotated[int, Query(gt=0)], at: datetime | None = None
) -> PagingPreview:
    """Who an incident of the service opening at ``at`` (default now) would page, and when."""
    return await run_in_threadpool(preview.preview_paging, actor, service_id, at)


@router.get("/{policy_id}")
async def get_policy(actor: Reader, policy_id: int) -> PolicyOut:
    """One policy with its levels."""
    return await run_in_threadpool(policies.get_policy, actor, policy_id)


@router.patch("/{policy_id}")
async def update_policy(actor: Writer, policy_id: int, body: PolicyUpdate) -> PolicyOut:
    """Change the fields sent; ``levels`` replaces every level."""
    return await run_in_threadpool(policies.update_policy, actor, policy_id, body)


@router.delete("/{policy_id}", status_code=204)
async def delete_policy(actor: Writer, policy_id: int) -> Response:
    """Delete a policy (409 ``policy_in_use`` while an active incident escalates with it)."""
    await run_in_threadpool(policies.delete_policy, actor, policy_id)
    return Response(status_code=204)


@outbox_router.get("")
async def list_page_requests(
    actor: Reader,
    user_id: Annotated[int | None, Query(gt=0)] = None,
    before_id: Annotated[int | None, Query(gt=0)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PageRequestOut]:
    """The page-request outbox, newest first (delivery arrives with notifications)."""
    return await run_in_threadpool(
        outbox.list_page_requests, actor, user_id=user_id, before_id=before_id, limit=limit
    )
