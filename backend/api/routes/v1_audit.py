"""``/api/v1/audit``: search the audit log (API keys with ``audit:read``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from backend.api.deps import api_key
from backend.apikeys.scopes import Scope
from backend.audit import service as audit
from backend.audit.models import Severity
from backend.audit.queries import AuditFilter
from backend.audit.schemas import AuditEntryOut
from backend.core.actor import Actor

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Reader = Annotated[Actor, Depends(api_key(Scope.AUDIT_READ))]


@router.get("")
async def search_audit(
    actor: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=120)] = "",
    severity: Severity | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AuditEntryOut]:
    """Audit entries, newest first. Page with ``before_id`` = the last id you received."""
    flt = AuditFilter(text=q, action_prefix=action, severity=severity, since=since, until=until)
    return await run_in_threadpool(
        audit.search_entries, actor, flt, before_id=before_id, limit=limit
    )
