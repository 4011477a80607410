"""API keys for machine access: only the SHA-256 of the key is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from backend.core import clock
from backend.core.db import UTCDateTime


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    purpose: str = Field(max_length=16)
    # The first characters of the key, shown in lists so people can tell keys apart.
    display_prefix: str = Field(max_length=32)
    key_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_label: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    use_count: int = Field(default=0)
