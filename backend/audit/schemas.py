from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from backend.audit.models import Severity


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_type: str
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str | None
    target_label: str
    ip: str | None
    user_agent: str | None
    severity: Severity
    diff: dict[str, Any]
