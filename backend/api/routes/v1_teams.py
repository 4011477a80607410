"""``/api/v1/teams``: teams and memberships for machine clients (API keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberAdd, TeamCreate, TeamDetail, TeamOut, TeamUpdate

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])
Reader = Annotated[Actor, Depends(api_key(Scope.TEAMS_READ))]
Writer = Annotated[Actor, Depends(api_key(Scope.TEAMS_WRITE))]


@router.get("")
async def list_teams(actor: Reader, q: str = "", tag: str = "") -> list[TeamOut]:
    """Every team, with member counts and health warnings."""
    return await run_in_threadpool(teams.list_teams, actor, text=q, tag=tag)


@router.post("", status_code=201)
async def create_team(actor: Writer, body: TeamCreate) -> TeamDetail:
    """Create a team."""
    return await run_in_threadpool(teams.create_team, actor, body)


@router.get("/{team_id}")
async def get_team(actor: Reader, team_id: int) -> TeamDetail:
    """One team with its members."""
    return await run_in_threadpool(teams.get_team, actor, team_id)


@router.patch("/{team_id}")
async def update_team(actor: Writer, team_id: int, body: TeamUpdate) -> TeamDetail:
    """Rename a team or change its description or tags."""
    return await run_in_threadpool(teams.update_team, actor, team_id, body)


@router.delete("/{team_id}", status_code=204)
async def delete_team(actor: Writer, team_id: int) -> Response:
    """Delete a team."""
    await run_in_threadpool(teams.delete_team, actor, team_id)
    return Response(status_code=204)


@router.post("/{team_id}/members", status_code=201)
async def add_member(actor: Writer, team_id: int, body: MemberAdd) -> TeamDetail:
    """Add a member with a role."""
    return await run_in_threadpool(teams.add_member, actor, team_id, body)


@router.put("/{team_id}/members/{user_id}")
async def change_role(actor: Writer, team_id: int, user_id: int, role: TeamRole) -> TeamDetail:
    """Change a member's role (``?role=RESPONDER``)."""
    return await run_in_threadpool(teams.change_role, actor, team_id, user_id, role)


@router.delete("/{team_id}/members/{user_id}")
async def remove_member(actor: Writer, team_id: int, user_id: int) -> TeamDetail:
    """Remove a member."""
    return await run_in_threadpool(teams.remove_member, actor, team_id, user_id)
