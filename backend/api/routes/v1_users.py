"""``/api/v1/users``: the user directory for machine clients (API keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.identity import service as identity
from backend.identity.schemas import UserOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Reader = Annotated[Actor, Depends(api_key(Scope.USERS_READ))]


@router.get("")
async def list_users(actor: Reader, q: str = "") -> list[UserOut]:
    """Active users, by name."""
    return await run_in_threadpool(identity.list_users, actor, text=q)


@router.get("/{user_id}")
async def get_user(actor: Reader, user_id: int) -> UserOut:
    """One user."""
    return await run_in_threadpool(identity.get_user, actor, user_id)
