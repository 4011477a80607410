"""Input and output shapes for escalation policies, the paging preview and page requests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from backend.escalation.policy import DEFAULT_TIMEOUT, MAX_LEVELS, MAX_REPEAT, TargetKind


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: TargetKind
    id: int = Field(gt=0)


class LevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_minutes: int = Field(default=DEFAULT_TIMEOUT, ge=1, le=1440)
    targets: list[TargetIn] = Field(min_length=1, max_length=20)


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    team_id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT)
    # A team's first policy becomes its default whatever this says.
    is_default: bool = False
    levels: list[LevelIn] = Field(min_length=1, max_length=MAX_LEVELS)


class PolicyUpdate(BaseModel):
    """A partial update; ``levels`` replaces every level. ``is_default: true`` moves the
    team's default here; a default is not unset directly (make another policy the default)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    repeat: int | None = Field(default=None, ge=0, le=MAX_REPEAT)
    is_default: bool | None = None
    levels: list[LevelIn] | None = Field(default=None, min_length=1, max_length=MAX_LEVELS)


class TargetOut(BaseModel):
    type: TargetKind
    id: int
    name: str


class LevelOut(BaseModel):
    position: int  # 1-based
    timeout_minutes: int
    targets: list[TargetOut]


class PolicyOut(BaseModel):
    id: int
    team_id: int
    team_name: str
    name: str
    description: str
    repeat: int
    is_default: bool
    levels: list[LevelOut]
    service_ids: list[int]  # services that name this policy explicitly
    created_at: datetime
    updated_at: datetime


class PreviewPage(BaseModel):
    user_id: int
    user_name: str
    via: str  # "on call in 'Primary'" / "named on the level"
    # Channels come with the notifications issue; until then a page is a stored request.
    channels: list[str]


class PreviewStep(BaseModel):
    minute: float  # after the incident opens
    level: int  # 1-based
    repeat: int  # 0 for the first pass
    at: datetime
    pages: list[PreviewPage]
    warnings: list[str]


class PagingPreview(BaseModel):
    """Who would be paged, when, for an incident of ``service_id`` opening at ``at`` (ROUTE-03).

    Who is on call is evaluated at each step's own time. ``channels`` lists the kinds of each
    user's verified contact methods (empty: nobody can notify them, and a warning says so)."""

    service_id: int
    at: datetime
    policy_id: int | None
    policy_name: str
    policy_source: str
    steps: list[PreviewStep]
    exhausted_after_minutes: float | None
    warnings: list[str]
    notes: list[str]


class PageRequestOut(BaseModel):
    id: int
    incident_id: int
    incident_title: str
    user_id: int
    user_name: str
    level: int  # 1-based
    repeat: int
    schedule_id: int | None
    status: str
    reason: str
    created_at: datetime
