"""Input and output shapes for teams (API bodies, service arguments, UI rows)."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.notifications.models import ChannelKind
from backend.teams.models import TeamRole

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9:_\-./]{0,62}$")


def _clean_tags(values: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            msg = f"invalid tag {raw!r}: lowercase letters, digits and : _ - . / (max 63)"
            raise ValueError(msg)
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > 20:
        msg = "at most 20 tags"
        raise ValueError(msg)
    return cleaned


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=2000)
    org_tags: list[str] = Field(default_factory=list)
    tech_tags: list[str] = Field(default_factory=list)
    # USER-03: kinds of contact method every member must have verified to be on call.
    required_channels: list[ChannelKind] = Field(default_factory=list, max_length=8)

    _tags = field_validator("org_tags", "tech_tags")(_clean_tags)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    org_tags: list[str] | None = None
    tech_tags: list[str] | None = None
    required_channels: list[ChannelKind] | None = Field(default=None, max_length=8)

    @field_validator("org_tags", "tech_tags")
    @classmethod
    def _tags(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _clean_tags(values)


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    role: TeamRole = TeamRole.RESPONDER


class MemberOut(BaseModel):
    user_id: int
    name: str
    email: str
    role: TeamRole


class TeamOut(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    org_tags: list[str]
    tech_tags: list[str]
    required_channels: list[str] = []
    member_count: int
    health_warnings: list[str]
    created_at: datetime


class TeamDetail(TeamOut):
    members: list[MemberOut]
    my_role: TeamRole | None = None


class MyTeamOut(TeamOut):
    my_role: TeamRole
