"""``/api/v1/schedules``: schedules, layers, overrides, swaps and who is on call (API keys).

Datetimes in query strings must carry an offset (``2026-03-08T09:00:00Z``); a naive one is
refused with a problem rather than guessed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.schedules import oncall, overrides
from backend.schedules import service as schedules
from backend.schedules.overrides import SwapDecision
from backend.schedules.schemas import (
    LayerCreate,
    LayerOut,
    LayerUpdate,
    OnCallOut,
    OverrideCreate,
    OverrideOut,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleOut,
    ScheduleUpdate,
    ShiftOut,
    SwapCreate,
    SwapOut,
    Timeline,
)

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])
Reader = Annotated[Actor, Depends(api_key(Scope.SCHEDULES_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.SCHEDULES_WRITE))]


@router.get("")
async def list_schedules(actor: Reader, team_id: int | None = None) -> list[ScheduleOut]:
    """Every schedule, or one team's (``?team_id=``)."""
    return await run_in_threadpool(schedules.list_schedules, actor, team_id=team_id)


@router.post("", status_code=201)
async def create_schedule(actor: Writer, body: ScheduleCreate) -> ScheduleDetail:
    """Create a schedule for a team."""
    return await run_in_threadpool(schedules.create_schedule, actor, body)


@router.get("/oncall")
async def who_is_on_call(
    actor: Reader,
    team_id: int | None = None,
    user_id: int | None = None,
    at: datetime | None = None,
) -> list[OnCallOut]:
    """Who is on call now (or ``at``) in each of a team's schedules (``?team_id=``), or the
    schedules a user is on call in (``?user_id=``), or in every schedule."""
    if team_id is not None:
        return await run_in_threadpool(oncall.oncall_for_team, actor, team_id, at)
    if user_id is not None:
        return await run_in_threadpool(oncall.oncall_for_user, actor, user_id, at)
    return await run_in_threadpool(oncall.oncall_everywhere, actor, at)


@router.get("/{schedule_id}")
async def get_schedule(actor: Reader, schedule_id: int) -> ScheduleDetail:
    """One schedule with its layers."""
    return await run_in_threadpool(schedules.get_schedule, actor, schedule_id)


@router.patch("/{schedule_id}")
async def update_schedule(actor: Writer, schedule_id: int, body: ScheduleUpdate) -> ScheduleDetail:
    """Rename a schedule or change its zone or description."""
    return await run_in_threadpool(schedules.update_schedule, actor, schedule_id, body)


@router.delete("/{schedule_id}", status_code=204)
async def delete_schedule(actor: Writer, schedule_id: int) -> Response:
    """Delete a schedule with everything in it."""
    await run_in_threadpool(schedules.delete_schedule, actor, schedule_id)
    return Response(status_code=204)


@router.post("/{schedule_id}/layers", status_code=201)
async def add_layer(actor: Writer, schedule_id: int, body: LayerCreate) -> LayerOut:
    """Add a rotation layer."""
    return await run_in_threadpool(schedules.add_layer, actor, schedule_id, body)


@router.patch("/{schedule_id}/layers/{layer_id}")
async def update_layer(
    actor: Writer, schedule_id: int, layer_id: int, body: LayerUpdate
) -> LayerOut:
    """Change a layer."""
    return await run_in_threadpool(schedules.update_layer, actor, schedule_id, layer_id, body)


@router.delete("/{schedule_id}/layers/{layer_id}", status_code=204)
async def delete_layer(actor: Writer, schedule_id: int, layer_id: int) -> Response:
    """Remove a layer."""
    await run_in_threadpool(schedules.delete_layer, actor, schedule_id, layer_id)
    return Response(status_code=204)


@router.get("/{schedule_id}/overrides")
async def list_overrides(
    actor: Reader, schedule_id: int, start: datetime, end: datetime
) -> list[OverrideOut]:
    """Overrides overlapping ``[start, end)``."""
    return await run_in_threadpool(overrides.list_overrides, actor, schedule_id, start, end)


@router.post("/{schedule_id}/overrides", status_code=201)
async def create_override(actor: Writer, schedule_id: int, body: OverrideCreate) -> OverrideOut:
    """Put someone on call over every layer for a time range (``user_id`` is required for
    API keys)."""
    return await run_in_threadpool(overrides.create_override, actor, schedule_id, body)


@router.delete("/{schedule_id}/overrides/{override_id}", status_code=204)
async def delete_override(actor: Writer, schedule_id: int, override_id: int) -> Response:
    """Remove an override."""
    await run_in_threadpool(overrides.delete_override, actor, schedule_id, override_id)
    return Response(status_code=204)


@router.get("/{schedule_id}/swaps")
async def list_swaps(actor: Reader, schedule_id: int) -> list[SwapOut]:
    """Every swap of the schedule."""
    return await run_in_threadpool(overrides.list_swaps, actor, schedule_id)


@router.post("/{schedule_id}/swaps", status_code=201)
async def request_swap(actor: Writer, schedule_id: int, body: SwapCreate) -> SwapOut:
    """Request a swap (``requester_id`` is required for API keys)."""
    return await run_in_threadpool(overrides.request_swap, actor, schedule_id, body)


@router.post("/{schedule_id}/swaps/{swap_id}/{decision}")
async def decide_swap(
    actor: Writer, schedule_id: int, swap_id: int, decision: SwapDecision
) -> SwapOut:
    """``accept``, ``decline``, ``cancel`` or ``force`` a swap."""
    return await run_in_threadpool(overrides.decide_swap, actor, schedule_id, swap_id, decision)


@router.get("/{schedule_id}/oncall")
async def schedule_oncall(actor: Reader, schedule_id: int, at: datetime | None = None) -> OnCallOut:
    """Who is on call now, or at ``at``, with the bounds of that shift."""
    return await run_in_threadpool(oncall.oncall, actor, schedule_id, at)


@router.get("/{schedule_id}/shifts")
async def final_shifts(
    actor: Reader, schedule_id: int, start: datetime, end: datetime
) -> list[ShiftOut]:
    """The final schedule in ``[start, end)`` (at most 93 days)."""
    return await run_in_threadpool(oncall.final_shifts, actor, schedule_id, start, end)


@router.get("/{schedule_id}/timeline")
async def timeline(actor: Reader, schedule_id: int, start: datetime, end: datetime) -> Timeline:
    """Each layer's shifts, the final row and its gaps in ``[start, end)``."""
    return await run_in_threadpool(oncall.timeline, actor, schedule_id, start, end)
