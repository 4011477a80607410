"""Input and output shapes for the service catalogue (API bodies, service arguments, UI rows)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.teams.schemas import TAG_PATTERN

MAX_TAGS = 20
MAX_LINKS = 20
TRIAGE_NAME = "Platform triage"
TRIAGE_SLUG = "platform-triage"


def slugify(name: str) -> str:
    """``"Payments API"`` → ``"payments-api"`` (empty when the name has no letter or digit)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:120]


def clean_tags(values: list[str]) -> list[str]:
    """Lower-cased, de-duplicated tags, in the same alphabet as teams' tags."""
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
    if len(cleaned) > MAX_TAGS:
        msg = f"at most {MAX_TAGS} tags"
        raise ValueError(msg)
    return cleaned


def _check_name(name: str) -> str:
    if not slugify(name):
        msg = "the name needs at least one letter or digit"
        raise ValueError(msg)
    return name


class ServiceLink(BaseModel):
    """A titled link: runbook, dashboard, repository. Only http(s) URLs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=80)
    url: str = Field(min_length=1, max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if any(ch.isspace() or ord(ch) < 32 for ch in value):
            msg = "the URL may not contain spaces or control characters"
            raise ValueError(msg)
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            msg = "not a valid URL"
            raise ValueError(msg) from exc
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            msg = "only absolute http:// or https:// URLs"
            raise ValueError(msg)
        return value


def _check_links(links: list[ServiceLink]) -> list[ServiceLink]:
    if len(links) > MAX_LINKS:
        msg = f"at most {MAX_LINKS} links"
        raise ValueError(msg)
    return links


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=2000)
    team_id: int = Field(gt=0, description="The owning team.")
    escalation_policy_id: int | None = Field(default=None, gt=0)
    tags: list[str] = Field(default_factory=list)
    links: list[ServiceLink] = Field(default_factory=list)

    _name = field_validator("name")(_check_name)
    _tags = field_validator("tags")(clean_tags)
    _links = field_validator("links")(_check_links)


class ServiceUpdate(BaseModel):
    """A partial update: only the fields sent change. ``escalation_policy_id: null`` clears the
    policy; ``team_id: null`` is only valid for the platform triage service."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=2, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    team_id: int | None = Field(default=None, gt=0)
    escalation_policy_id: int | None = Field(default=None, gt=0)
    tags: list[str] | None = None
    links: list[ServiceLink] | None = None

    @field_validator("name", "description", "tags", "links", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            msg = "may not be null"
            raise ValueError(msg)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _check_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_tags(value)

    @field_validator("links")
    @classmethod
    def _links(cls, value: list[ServiceLink] | None) -> list[ServiceLink] | None:
        return None if value is None else _check_links(value)


class ServiceRef(BaseModel):
    """A service as others mention it (dependency lists, impact nodes)."""

    id: int
    name: str
    slug: str
    team_id: int | None
    team_name: str | None
    is_triage: bool


class ServiceOut(ServiceRef):
    description: str
    escalation_policy_id: int | None
    tags: list[str]
    links: list[ServiceLink]
    dependency_count: int
    dependent_count: int
    created_at: datetime
    updated_at: datetime


class ServiceDetail(ServiceOut):
    depends_on: list[ServiceRef]
    dependents: list[ServiceRef]
    can_edit: bool = False


class ImpactNode(ServiceRef):
    depth: int


class DependencyEdge(BaseModel):
    service_id: int
    depends_on_id: int


class ServiceImpact(BaseModel):
    """Upstream (what the service depends on) and downstream (what breaks when it breaks),
    with the edges among them and a layering for drawing (layer 0 = foundations)."""

    service: ServiceRef
    upstream: list[ImpactNode]
    downstream: list[ImpactNode]
    edges: list[DependencyEdge]
    layers: list[list[int]]
