from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.apikeys.scopes import Purpose, Scope
from backend.core import clock


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    purpose: Purpose = Purpose.API
    scopes: list[Scope] = Field(min_length=1)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "expires_at needs a time zone (e.g. 2027-01-01T00:00:00Z)"
            raise ValueError(msg)
        if value <= clock.now():
            msg = "expires_at must be in the future"
            raise ValueError(msg)
        return value


class ApiKeyOut(BaseModel):
    id: int
    name: str
    purpose: Purpose
    display_prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    use_count: int
    status: str


class ApiKeyCreated(ApiKeyOut):
    key: str  # the whole key, returned exactly once
