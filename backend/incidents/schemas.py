"""Input and output shapes for incidents: list rows, detail, timeline, filters, metrics, bulk.

These are what the API returns and what the dashboard UI binds to (plain pydantic models).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.incidents.models import (
    EscalationState,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Severity,
)

MAX_NOTE = 20_000
MAX_DETAILS = 50
MAX_BULK = 100


class IncidentSummary(BaseModel):
    """One row of the incident list."""

    id: int
    title: str
    status: IncidentStatus
    severity: Severity
    priority: Priority | None
    service_id: int
    service_name: str
    team_id: int | None
    team_name: str
    assignee_id: int | None
    assignee_name: str
    alert_count: int
    in_maintenance: bool
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    escalation_state: EscalationState
    escalation_level: int | None  # 1-based level that fires next (None when not active)
    next_escalation_at: datetime | None


class AlertBrief(BaseModel):
    id: int
    title: str
    status: str
    severity: Severity
    source: str
    description: str
    labels: dict[str, str]
    links: list[dict[str, str]]
    occurred_at: datetime
    received_at: datetime
    resolved_at: datetime | None


class TimelineEntry(BaseModel):
    id: int
    at: datetime
    kind: IncidentEventKind
    actor_label: str
    summary: str
    data: dict[str, Any]


class EscalationInfo(BaseModel):
    policy_id: int | None
    policy_name: str
    state: EscalationState
    step: int
    next_at: datetime | None
    levels: int
    repeat: int


class ServiceLinkOut(BaseModel):
    title: str
    url: str


class IncidentDetail(IncidentSummary):
    """The detail page: the row plus details, alerts, links, escalation and the timeline."""

    dedup_key: str
    details: dict[str, Any]
    resolution_note: str
    acknowledged_by: str
    resolved_by: str
    closed_at: datetime | None
    last_alert_at: datetime
    service_links: list[ServiceLinkOut]  # the service's runbooks and dashboards
    escalation: EscalationInfo
    alerts: list[AlertBrief]  # newest first, at most 100
    timeline: list[TimelineEntry]  # oldest first
    can_respond: bool  # for showing buttons; commands check again


class IncidentFilter(BaseModel):
    """List filters; everything optional. ``assigned_to_me`` needs a user actor."""

    model_config = ConfigDict(extra="forbid")

    statuses: list[IncidentStatus] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    service_ids: list[int] = Field(default_factory=list)
    team_ids: list[int] = Field(default_factory=list)
    escalation_states: list[EscalationState] = Field(default_factory=list)
    assigned_to_me: bool = False
    assignee_id: int | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    text: str = Field(default="", max_length=200)


class IncidentPage(BaseModel):
    items: list[IncidentSummary]
    next_cursor: str | None  # pass back as ``cursor`` for the next (older) page


class IncidentUpdate(BaseModel):
    """A partial edit: only the fields sent change. ``priority: null`` clears it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=500)
    severity: Severity | None = None
    priority: Priority | None = None
    details: dict[str, str] | None = None

    @field_validator("details")
    @classmethod
    def _small(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(value) > MAX_DETAILS:
            msg = f"at most {MAX_DETAILS} details"
            raise ValueError(msg)
        if value is not None and any(len(k) > 100 or len(v) > 2000 for k, v in value.items()):
            msg = "keys are at most 100 characters, values at most 2000"
            raise ValueError(msg)
        return value


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=MAX_NOTE)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=MAX_NOTE)


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(gt=0)


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["acknowledge", "resolve"]
    incident_ids: list[int] = Field(min_length=1, max_length=MAX_BULK)
    note: str = Field(default="", max_length=MAX_NOTE)


class BulkItem(BaseModel):
    incident_id: int
    ok: bool
    status: IncidentStatus | None  # after the attempt (None: not found)
    error_code: str | None
    error_detail: str | None


class BulkResult(BaseModel):
    succeeded: int
    failed: int
    items: list[BulkItem]


class MetricsPoint(BaseModel):
    start: datetime
    opened: int
    acknowledged: int
    resolved: int
    mtta_seconds: float | None  # over incidents opened in this bucket and acknowledged
    mttr_seconds: float | None  # over incidents opened in this bucket and resolved


class IncidentMetrics(BaseModel):
    """Dashboard numbers over ``[start, end)`` plus a series for the charts."""

    start: datetime
    end: datetime
    open_now: int  # OPEN + ACKNOWLEDGED right now, whatever the window
    unacknowledged_now: int
    opened: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    bucket_seconds: int
    series: list[MetricsPoint]


class PresetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    filters: IncidentFilter


class PresetOut(BaseModel):
    id: int
    name: str
    filters: IncidentFilter
    created_at: datetime
