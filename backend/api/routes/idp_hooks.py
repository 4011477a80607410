"""``POST /api/v1/idp/events``: the identity provider's signed event hook.

Authenticated by an HMAC-SHA256 signature over the exact raw body (see
``backend/identity/idp_events.py`` and ``docs/sso.md``), not by a session or an API key.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from backend.api.deps import client_ip, user_agent
from backend.core.errors import FieldError, ValidationFailed
from backend.core.validation import parse
from backend.identity import idp_events

router = APIRouter(prefix="/api/v1/idp", tags=["identity provider"])


class IdpEventOut(BaseModel):
    user_id: int
    sessions_revoked: int
    is_active: bool


@router.post("/events")
async def idp_event(
    request: Request,
    x_oncall_timestamp: Annotated[str | None, Header()] = None,
    x_oncall_signature: Annotated[str | None, Header()] = None,
) -> IdpEventOut:
    """Revoke a user's sessions, deactivate or reactivate them (idempotent).

    401 ``invalid_signature`` for a missing, stale or wrong signature; 404 when the hook is
    not configured or the user is unknown; 413 over 64 KiB; 422 with field errors for a bad
    body.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > idp_events.MAX_BODY_BYTES:
        raise HTTPException(413, "The body is larger than 64 KiB.")
    body = await request.body()
    if len(body) > idp_events.MAX_BODY_BYTES:
        raise HTTPException(413, "The body is larger than 64 KiB.")
    idp_events.authenticate(x_oncall_timestamp, x_oncall_signature, body)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed(
            "The body is not valid JSON.", errors=[FieldError(("body",), "invalid JSON")]
        ) from exc
    event = parse(idp_events.IdpEvent, data)
    result = await run_in_threadpool(
        idp_events.handle,
        event,
        idp_events.hook_actor(client_ip(request), user_agent(request)),
    )
    return IdpEventOut(
        user_id=result.user_id,
        sessions_revoked=result.sessions_revoked,
        is_active=result.is_active,
    )
